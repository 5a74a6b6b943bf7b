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
                f"train_samples + validation_samples must be at most {MAX_TRAIN_SAMPLES} when "
                f"validation is held out of the training set; got {config.train_samples} + "
                f"{config.validation_samples} = {total}"
            )
    if config.batch_size > config.train_samples:
        problems.append(
            f"batch_size must be at most train_samples ({config.train_samples}); "
            f"got {config.batch_size}"
        )
    elif config.total_steps > MAX_TOTAL_STEPS:
        problems.append(
            f"this set-up needs {config.total_steps} training steps "
            f"({config.epochs} epochs × {config.steps_per_epoch} batches); at most "
            f"{MAX_TOTAL_STEPS} are allowed: use fewer epochs or samples, or a larger batch"
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


def _field_problems(name: str, value: Any) -> list[str]:
    if name in CHOICES:
        if value not in CHOICES[name]:
            return [f"{name} must be {allowed(name)}; got {value!r}"]
    elif name in INT_RANGES:
        low, high = INT_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return [f"{name} must be {allowed(name)}; got {value!r}"]
    elif name in FLOAT_RANGES:
        low, high = FLOAT_RANGES[name]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not (ok and math.isfinite(value) and low <= value <= high):
            return [f"{name} must be {allowed(name)}; got {value!r}"]
    elif name == "hidden_units":
        ok = isinstance(value, tuple) and 1 <= len(value) <= MAX_HIDDEN_LAYERS
        ok = ok and all(
            isinstance(units, int) and not isinstance(units, bool) and 1 <= units <= MAX_UNITS
            for units in value
        )
        if not ok:
            return [f"hidden_units must be {allowed(name)}; got {value!r}"]
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
        raise ValueError(f"{name} must be {allowed(name)}; got {text!r}") from None
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
    if name in CHOICES:
        return f"one of {', '.join(CHOICES[name])}"
    if name in INT_RANGES:
        return "a whole number from {} to {}".format(*INT_RANGES[name])
    if name in FLOAT_RANGES:
        low, high = FLOAT_RANGES[name]
        return f"a number from {low:g} to {high:g} (a fraction such as 1/65025 is fine)"
    if name == "hidden_units":
        return (
            f"1 to {MAX_HIDDEN_LAYERS} comma-separated layer widths, each a whole number from 1 "
            f"to {MAX_UNITS}, such as 300,100"
        )
    raise KeyError(name)


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
