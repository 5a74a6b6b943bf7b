"""The labs' set-ups: frozen dataclasses that validate themselves and map to the URL, as RunConfig.

    TwinSetup        twin_factor, twin_optimizer
    SweepSetup       sweep_knob, sweep_scale, sweep_from, sweep_to, sweep_count
    SaturationSetup  sat_initializer, sat_activation, sat_stddev, sat_input

Each field carries its `Rule` (what it allows, in words; how URL text reads) in its metadata,
so the widgets, the link checker and the validation read one declaration. This module imports
no TensorFlow: the page draws its controls before the engine loads.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from explorer.config import (
    ACTIVATIONS,
    FLOAT_RANGES,
    KERNEL_INITIALIZERS,
    OPTIMIZERS,
    format_value,
    must_be,
    parse_number,
)
from explorer.i18n import N_, LazyText, lazy_gettext

# Twin lab: c from 1e-3 (so that the SGD correction 1/c² stays within the first-layer multiplier's
# limit of 1e6) to 1e6 (1/c² = 1e-12, the multiplier's lower limit).
MIN_FACTOR, MAX_FACTOR = 1e-3, 1e6
# Sweep: 2–12 values, spaced on a log or a linear scale, ends within ±SWEEP_BOUND.
MIN_COUNT, MAX_COUNT = 2, 12
SCALES = ("log", "linear")
SCALE_NAMES = {"log": N_("Log"), "linear": N_("Linear")}  # as the page shows them (`_()` at use)
SWEEP_BOUND = 1e6
# Saturation lab: the inputs fed to the layer, as the page names them (`_()` at use).
INPUT_KINDS = {
    "uniform": N_("uniform random pixels in [0, 1)"),
    "scaled": N_("real images ÷255"),
    "raw": N_("real images, raw 0–255"),
}


@dataclasses.dataclass(frozen=True)
class Knob:
    field: str  # the RunConfig field the knob sets
    label: str  # axis title, in English (`_()` at use)
    integer: bool = False  # values are rounded to whole numbers
    start: float = 1.0  # a range worth trying first
    stop: float = 1000.0


# Knob name (the URL's sweep_knob) -> what it sets. "hidden_width" gives every hidden layer the
# same width (the network keeps its depth); "init_stddev" needs a parametric initializer.
SWEEP_KNOBS: dict[str, Knob] = {
    "weight_scale": Knob(
        "weight_scale", N_("weight scale (weights divided by)"), start=1, stop=1000
    ),
    "input_scale": Knob("input_divisor", N_("input scale (pixels divided by)"), start=1, stop=1000),
    "learning_rate": Knob("learning_rate", N_("learning rate"), start=0.001, stop=1.0),
    "init_stddev": Knob("init_param", N_("initializer stddev (or limit)"), start=0.01, stop=1.0),
    "hidden_width": Knob("hidden_units", N_("hidden width (every hidden layer)"), True, 8, 1024),
}


@dataclasses.dataclass(frozen=True)
class Rule:
    """What one field takes: words for messages, URL text to value, and the check."""

    words: str | LazyText  # what it allows; `allowed` gives them in the reader's language
    read: Callable[[str], Any]  # raises ValueError for text that is no value of the field
    check: Callable[[Any], bool]
    low: float | None = None  # number limits, for the widgets
    high: float | None = None
    options: tuple[str, ...] = ()  # a choice's options, for the widgets
    whole: bool = False  # whole numbers only

    @property
    def allowed(self) -> str:
        """What the field allows, in words, in the language of the moment."""
        return str(self.words)

    def canonical(self, text: str) -> str:
        """URL text in the one spelling the widgets read; ValueError when it breaks the rule."""
        value = self.read(text)
        if not self.check(value):
            raise ValueError(text)
        return format_value(value)


def choices(options) -> Rule:
    options = tuple(options)
    by_folded = {option.casefold(): option for option in options}

    def read(text: str) -> str:
        try:
            return by_folded[text.strip().casefold()]
        except KeyError:
            raise ValueError(text) from None

    return Rule(
        lazy_gettext("one of {options}", options=", ".join(options)),
        read,
        lambda value: value in options,
        options=options,
    )


def number(low: float, high: float, whole: bool = False) -> Rule:
    def read(text: str) -> float | int:
        value = parse_number(text.strip())
        if whole:
            if not value.is_integer():
                raise ValueError(text)
            return int(value)
        return value

    def check(value: Any) -> bool:
        kinds = int if whole else int | float
        ok = isinstance(value, kinds) and not isinstance(value, bool)
        return ok and math.isfinite(value) and low <= value <= high

    shown = {"low": f"{low:g}", "high": f"{high:g}"}
    if whole:
        words = lazy_gettext("a whole number from {low} to {high}", **shown)
    else:
        words = lazy_gettext("a number from {low} to {high}", **shown)
    return Rule(words, read, check, low, high, whole=whole)


def _field(default: Any, rule: Rule, key: str) -> Any:
    return dataclasses.field(default=default, metadata={"rule": rule, "key": key})


class QuerySetup:
    """A frozen dataclass whose fields carry a `Rule` and a URL key (see `_field`)."""

    NAME: ClassVar[str]  # in messages: "the twin lab" (English: `_()` at use)

    def __post_init__(self) -> None:
        problems = [
            must_be(key, rule.allowed, getattr(self, name))
            for key, (name, rule) in self.rules().items()
            if not rule.check(getattr(self, name))
        ]
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def rules(cls) -> dict[str, tuple[str, Rule]]:
        """{URL key: (field name, rule)}."""
        return {
            field.metadata["key"]: (field.name, field.metadata["rule"])
            for field in dataclasses.fields(cls)
        }

    @classmethod
    def key(cls, name: str) -> str:
        """The URL key of field `name` (the widgets use it as their key too)."""
        return next(
            field.metadata["key"] for field in dataclasses.fields(cls) if field.name == name
        )

    @classmethod
    def rule(cls, name: str) -> Rule:
        """The rule of field `name` (widgets read their limits and options here)."""
        return next(
            field.metadata["rule"] for field in dataclasses.fields(cls) if field.name == name
        )

    @classmethod
    def from_query(cls, params: Mapping[str, str]):
        """Lenient reading of a link: a field that cannot be read keeps its default.

        Returns:
            The set-up and one message per key not used.
        """
        values, problems = {}, []
        for key, (name, rule) in cls.rules().items():
            if key not in params:
                continue
            try:
                values[name] = rule.read(params[key])
                if not rule.check(values[name]):
                    raise ValueError(key)
            except ValueError:
                values.pop(name, None)
                problems.append(must_be(key, rule.allowed, params[key]))
        return cls(**values), problems

    def to_query(self) -> dict[str, str]:
        return {key: format_value(getattr(self, name)) for key, (name, _) in self.rules().items()}


@dataclasses.dataclass(frozen=True)
class TwinSetup(QuerySetup):
    """Puzzle A's three runs: inputs ÷c; weights ÷c; weights ÷c with the exact correction."""

    NAME: ClassVar[str] = N_("the twin lab")
    factor: float = _field(255.0, number(MIN_FACTOR, MAX_FACTOR), "twin_factor")  # c
    optimizer: str = _field("sgd", choices(OPTIMIZERS), "twin_optimizer")  # of all three runs


@dataclasses.dataclass(frozen=True)
class SweepSetup(QuerySetup):
    """One knob at `count` values from `start` to `stop`, spaced on `scale`."""

    NAME: ClassVar[str] = N_("this sweep")
    knob: str = _field("learning_rate", choices(SWEEP_KNOBS), "sweep_knob")
    scale: str = _field("log", choices(SCALES), "sweep_scale")
    start: float = _field(0.001, number(-SWEEP_BOUND, SWEEP_BOUND), "sweep_from")
    stop: float = _field(1.0, number(-SWEEP_BOUND, SWEEP_BOUND), "sweep_to")
    count: int = _field(4, number(MIN_COUNT, MAX_COUNT, whole=True), "sweep_count")


@dataclasses.dataclass(frozen=True)
class SaturationSetup(QuerySetup):
    """Puzzle B at init: one first layer, no training, fed `input_kind`."""

    NAME: ClassVar[str] = N_("the saturation lab")
    initializer: str = _field("random_normal", choices(KERNEL_INITIALIZERS), "sat_initializer")
    activation: str = _field("sigmoid", choices(ACTIVATIONS), "sat_activation")
    stddev: float = _field(1.0, number(*FLOAT_RANGES["init_param"]), "sat_stddev")  # B1: 1.0
    input_kind: str = _field("uniform", choices(INPUT_KINDS), "sat_input")


LAB_SETUPS = (TwinSetup, SweepSetup, SaturationSetup)
