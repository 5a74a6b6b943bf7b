"""One frozen configuration for a run: every knob of the sidebar, validated, URL-ready.

A `RunConfig` is flat so that it maps one field to one query-string key:
`RunConfig.to_query()` gives `{"field": "text"}` and `RunConfig.from_query()` reads it back.
Unknown keys are ignored; a bad value raises `ValueError` naming the field, the value
received and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from explorer.i18n import N_, LazyText, _, lazy_gettext

DATASETS = ("mnist", "fashion_mnist")
VALIDATION_SOURCES = ("holdout", "test")  # last N training images, or the first N test images
INPUT_SCALINGS = ("divide", "standardize")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "elu", "gelu", "linear")
KERNEL_INITIALIZERS = (
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "glorot_normal",
    "glorot_normal_untruncated",  # seed A: N(0, sqrt(2 / (fan_in + fan_out))), not truncated
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "zeros",
    "orthogonal",
)
# Initializers whose spread is set by `init_param` (stddev, or the uniform limit).
PARAMETRIC_INITIALIZERS = ("random_normal", "random_uniform", "truncated_normal")
LAYER_SCOPES = ("first", "hidden", "all")
WEIGHT_SCALE_SCOPES = ("first", "all")
BIAS_INITIALIZERS = ("zeros", "ones", "random_normal")
LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
# What the options are called on the page (the identifiers stay the values and the URL's text).
OPTION_NAMES = {
    "dataset": {"mnist": N_("MNIST"), "fashion_mnist": N_("Fashion-MNIST")},
    "validation_source": {
        "holdout": N_("Held out: the last training images"),
        "test": N_("The test set"),
    },
    "input_scaling": {
        "divide": N_("Divide by a number"),
        "standardize": N_("Standardize (mean 0, std 1)"),
    },
    "activation": {
        "sigmoid": N_("Sigmoid"),
        "tanh": N_("Tanh"),
        "relu": N_("ReLU"),
        "elu": N_("ELU"),
        "gelu": N_("GELU"),
        "linear": N_("Linear (no activation)"),
    },
    "kernel_initializer": {
        "random_normal": N_("Random normal N(0, σ²)"),
        "random_uniform": N_("Random uniform U(−a, a)"),
        "truncated_normal": N_("Truncated normal (σ)"),
        "glorot_normal": N_("Glorot normal (truncated)"),
        "glorot_normal_untruncated": N_("Glorot normal, not truncated (puzzle A)"),
        "glorot_uniform": N_("Glorot uniform (Keras's default)"),
        "he_normal": N_("He normal"),
        "he_uniform": N_("He uniform"),
        "lecun_normal": N_("LeCun normal"),
        "zeros": N_("Zeros"),
        "orthogonal": N_("Orthogonal"),
    },
    "init_scope": {
        "first": N_("The first layer"),
        "hidden": N_("Every hidden layer"),
        "all": N_("Every layer"),
    },
    "weight_scale_scope": {"first": N_("The first layer"), "all": N_("Every layer")},
    "bias_initializer": {
        "zeros": N_("Zeros"),
        "ones": N_("Ones"),
        "random_normal": N_("Random normal"),
    },
    "loss": {
        "cross_entropy": N_("Cross-entropy"),
        "mse": N_("Mean squared error (MSE) on one-hot labels"),
    },
    "optimizer": {
        "sgd": N_("SGD"),
        "momentum": N_("SGD with momentum"),
        "adam": N_("Adam"),
        "rmsprop": N_("RMSprop"),
    },
}

IMAGE_SHAPE = (28, 28)  # MNIST and Fashion-MNIST
IMAGE_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]  # the first layer's fan-in
NUM_CLASSES = 10
FIRST_LAYER = "hidden_1"  # the first hidden Dense layer's name (explorer.model names them)

MAX_TRAIN_SAMPLES = 60_000
MAX_VALIDATION_SAMPLES = 10_000
MAX_HIDDEN_LAYERS = 4
MAX_UNITS = 1024
MAX_EPOCHS = 50
MAX_BATCH_SIZE = 4096
MAX_TOTAL_STEPS = 200_000  # keeps one run within a shared host's CPU share
MAX_SEED = 2**31 - 1
MAX_SEEDS = 8  # a seed band: 1 to 8 seeds of one set-up, trained together


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run. Same config and seed give the same numbers."""

    # Data
    dataset: str = "fashion_mnist"
    train_samples: int = 55_000  # the first N training images
    validation_samples: int = 5_000
    validation_source: str = "holdout"  # holdout: last N training images; test: first N test
    # Input scaling, done inside the compiled graph: x / input_divisor, or (x - mean) / std
    input_scaling: str = "divide"
    input_divisor: float = 255.0
    # Model: hidden Dense layers, then Dense(10, softmax)
    hidden_units: tuple[int, ...] = (300, 100)
    activation: str = "relu"  # shared by every hidden layer
    # Initialization
    kernel_initializer: str = "glorot_normal_untruncated"
    init_param: float = 0.05  # stddev (normal kinds) or limit (uniform) of parametric initializers
    init_scope: str = "first"  # layers that get `kernel_initializer`; the rest get Keras's default
    weight_scale: float = 1.0  # kernels are divided by this after initialization
    weight_scale_scope: str = "first"
    bias_initializer: str = "zeros"
    # Training
    loss: str = "cross_entropy"  # mse compares the softmax output with one-hot labels
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    first_layer_lr_multiplier: float = 1.0  # the first kernel's own learning rate factor
    batch_size: int = 32
    epochs: int = 2
    seed: int = 0
    checkpoints_per_epoch: int = 10  # probes recorded this often, plus step 0 and early steps

    def __post_init__(self) -> None:
        problems = validation_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def steps_per_epoch(self) -> int:
        """Batches per epoch as `model.fit` makes them: ceil(train_samples / batch_size), the
        last one partial when the batch does not divide the samples (B2: 469, not 468)."""
        return -(-self.train_samples // self.batch_size)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with `changes` applied and validated."""
        return dataclasses.replace(self, **changes)

    def to_query(self) -> dict[str, str]:
        """Every field as text, for a URL query string."""
        return {
            field.name: format_value(getattr(self, field.name))
            for field in dataclasses.fields(self)
        }

    @classmethod
    def from_query(cls, params: Mapping[str, Any], base: RunConfig | None = None) -> RunConfig:
        """Read a flat dict of strings; unknown keys are ignored, missing ones come from `base`.

        Raises:
            ValueError: naming each field whose value cannot be read or is out of range.
        """
        config, problems = parse_query(params, base)
        if problems:
            raise ValueError("; ".join(problems))
        return config

    def differences(self, other: RunConfig) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: {name: (self's value, other's value)}."""
        return {
            field.name: (getattr(self, field.name), getattr(other, field.name))
            for field in dataclasses.fields(self)
            if getattr(self, field.name) != getattr(other, field.name)
        }


FIELD_NAMES = tuple(field.name for field in dataclasses.fields(RunConfig))


def parse_query(
    params: Mapping[str, Any], base: RunConfig | None = None
) -> tuple[RunConfig, list[str]]:
    """Lenient reading for a shared link: a bad field keeps `base`'s value and is reported.

    Returns:
        The config built from every readable field, and one message per rejected field.
    """
    base = base or RunConfig()
    values = dataclasses.asdict(base)
    values["hidden_units"] = base.hidden_units
    problems = []
    for name in FIELD_NAMES:
        if name not in params:
            continue
        raw = params[name]
        if isinstance(raw, list | tuple) and name != "hidden_units":
            raw = raw[-1] if raw else ""
        try:
            candidate = _parse(name, raw)
        except ValueError as error:
            problems.append(str(error))
            continue
        field_problems = _field_problems(name, candidate)
        if field_problems:
            problems.extend(field_problems)
        else:
            values[name] = candidate
    try:
        return RunConfig(**values), problems
    except ValueError as error:
        # The fields are fine alone but not together (say, batch larger than the sample):
        # keep the base set-up and report why.
        return base, [*problems, str(error)]


def validation_problems(config: RunConfig) -> list[str]:
    """Every rule the config breaks, each naming the field, the value and what is allowed."""
    problems = []
    for name in FIELD_NAMES:
        problems.extend(_field_problems(name, getattr(config, name)))
    if problems:
        return problems
    if config.validation_source == "holdout":
        total = config.train_samples + config.validation_samples
        if total > MAX_TRAIN_SAMPLES:
            problems.append(
                _(
                    "train_samples + validation_samples must be at most {limit} when "
                    "validation is held out of the training set; got {train} + {validation} "
                    "= {total}"
                ).format(
                    limit=MAX_TRAIN_SAMPLES,
                    train=config.train_samples,
                    validation=config.validation_samples,
                    total=total,
                )
            )
    if config.batch_size > config.train_samples:
        problems.append(
            _("batch_size must be at most train_samples ({train}); got {batch}").format(
                train=config.train_samples, batch=config.batch_size
            )
        )
    elif config.total_steps > MAX_TOTAL_STEPS:
        problems.append(
            _(
                "this set-up needs {steps} training steps ({epochs} epochs × {batches} "
                "batches); at most {limit} are allowed: use fewer epochs or samples, or a "
                "larger batch"
            ).format(
                steps=config.total_steps,
                epochs=config.epochs,
                batches=config.steps_per_epoch,
                limit=MAX_TOTAL_STEPS,
            )
        )
    return problems


# --- field rules -------------------------------------------------------------------------------

CHOICES = {
    "dataset": DATASETS,
    "validation_source": VALIDATION_SOURCES,
    "input_scaling": INPUT_SCALINGS,
    "activation": ACTIVATIONS,
    "kernel_initializer": KERNEL_INITIALIZERS,
    "init_scope": LAYER_SCOPES,
    "weight_scale_scope": WEIGHT_SCALE_SCOPES,
    "bias_initializer": BIAS_INITIALIZERS,
    "loss": LOSSES,
    "optimizer": OPTIMIZERS,
}
INT_RANGES = {
    "train_samples": (1, MAX_TRAIN_SAMPLES),
    "validation_samples": (1, MAX_VALIDATION_SAMPLES),
    "batch_size": (1, MAX_BATCH_SIZE),
    "epochs": (1, MAX_EPOCHS),
    "seed": (0, MAX_SEED),
    "checkpoints_per_epoch": (10, 100),
}
# Positive and finite, within bounds that keep a run meaningful: no subnormal divisor (x / 5e-324
# is inf), no learning rate too small to move a float32 weight. The lower bound of the multiplier
# leaves room for the twin lab's SGD correction 1/c² at its largest factor c = 1e6.
FLOAT_RANGES = {
    "input_divisor": (1e-3, 1e6),
    "init_param": (1e-6, 100.0),
    "weight_scale": (1e-3, 1e6),
    "learning_rate": (1e-7, 100.0),
    "first_layer_lr_multiplier": (1e-12, 1e6),
}


def must_be(name: str, allowed_words: object, value: Any) -> str:
    """The field, what it allows, the value as received: epochs must be ...; got 'lots'."""
    return _("{name} must be {allowed}; got {value}").format(
        name=name, allowed=allowed_words, value=repr(value)
    )


def _field_problems(name: str, value: Any) -> list[str]:
    if name in CHOICES:
        if value not in CHOICES[name]:
            return [must_be(name, allowed(name), value)]
    elif name in INT_RANGES:
        low, high = INT_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return [must_be(name, allowed(name), value)]
    elif name in FLOAT_RANGES:
        low, high = FLOAT_RANGES[name]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not (ok and math.isfinite(value) and low <= value <= high):
            return [must_be(name, allowed(name), value)]
    elif name == "hidden_units":
        ok = isinstance(value, tuple) and 1 <= len(value) <= MAX_HIDDEN_LAYERS
        ok = ok and all(
            isinstance(units, int) and not isinstance(units, bool) and 1 <= units <= MAX_UNITS
            for units in value
        )
        if not ok:
            return [must_be("hidden_units", allowed(name), value)]
    return []


def format_value(value: Any) -> str:
    """A value as URL text that reads back exactly (and that the widgets read): 1.5e-05,
    300,100, true."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    if isinstance(value, float):
        return repr(value)  # repr round-trips a float exactly
    return str(value)


def _parse(name: str, raw: Any) -> Any:
    """Text from a URL to the field's type; ValueError names the field and the text."""
    text = ",".join(map(str, raw)) if isinstance(raw, list | tuple) else str(raw)
    text = text.strip()
    try:
        if name == "hidden_units":
            return tuple(int(part) for part in text.replace(" ", "").split(",") if part != "")
        if name in INT_RANGES:
            number = parse_number(text)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if name in FLOAT_RANGES:
            return parse_number(text)
    except (ValueError, OverflowError, ZeroDivisionError):
        raise ValueError(must_be(name, allowed(name), text)) from None
    return text


def parse_field(name: str, text: str) -> Any:
    """One field read from URL text and checked alone (not against the other fields).

    Raises:
        ValueError: naming the field, the text received and what is allowed.
    """
    value = _parse(name, text)
    problems = _field_problems(name, value)
    if problems:
        raise ValueError(problems[0])
    return value


def allowed(name: str) -> str:
    """What a field accepts, in words: "a whole number from 1 to 50", "one of sgd, adam"."""
    return str(allowed_text(name))


def allowed_text(name: str) -> LazyText:
    """`allowed(name)`, translated each time it is shown (a link rule keeps it from import on)."""
    if name in CHOICES:
        return lazy_gettext("one of {options}", options=", ".join(CHOICES[name]))
    if name in INT_RANGES:
        low, high = INT_RANGES[name]
        return lazy_gettext("a whole number from {low} to {high}", low=low, high=high)
    if name in FLOAT_RANGES:
        low, high = FLOAT_RANGES[name]
        return lazy_gettext(
            "a number from {low} to {high} (a fraction such as 1/65025 is fine)",
            low=f"{low:g}",
            high=f"{high:g}",
        )
    if name == "hidden_units":
        return lazy_gettext(
            "1 to {layers} comma-separated layer widths, each a whole number from 1 to {units}, "
            "such as 300,100",
            layers=MAX_HIDDEN_LAYERS,
            units=MAX_UNITS,
        )
    raise KeyError(name)


def option_name(name: str, value: str) -> str:
    """Option `value` of choice field `name` as the page shows it (the value if it has none)."""
    shown = OPTION_NAMES.get(name, {}).get(value)
    return _(shown) if shown is not None else value


# Plain decimal notation only (1, -2.5, .5, 1e-3), as a number input shows it: Python's float()
# would also take "inf", "nan", "1_000" and padded text, which a number input cannot show.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def parse_number(text: str) -> float:
    """A finite float from URL text, also written as a fraction such as 1/65025.

    Raises:
        ValueError: for anything but plain decimal notation (no inf, nan, 1_000 or hex), or a
            result that is not finite (1e309, 1/0).
    """
    parts = text.split("/")
    if len(parts) > 2 or not all(_NUMBER.fullmatch(part) for part in parts):
        raise ValueError(f"not a number: {text!r}")
    if len(parts) == 2 and float(parts[1]) == 0:
        raise ValueError(f"a fraction over zero: {text!r}")
    number = float(parts[0]) / float(parts[1]) if len(parts) == 2 else float(parts[0])
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {text!r}")
    return number
