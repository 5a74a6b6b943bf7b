"""A shared link, checked before any widget reads it: canonical values kept, the rest reported.

    for key, texts in link:
        unknown key            -> reported, dropped
        text fails its rule    -> reported with the text as received, dropped
        text passes            -> kept as canonical text: " tanh" -> "tanh", "1/65025" -> 1.53e-05,
                                  quick "1"/"yes" -> "true", preset "a1" -> "A1"

Widgets bound to the URL read the canonical text only, so they never see "inf", "1_000" or a
fraction they cannot parse, and the parser and the widgets accept the same spellings. Each
problem keeps the received text apart from the app's own words, so the page can show it as
literal text (a link's text never renders as markup).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

from explorer import config as cfg
from explorer import saturation, sweep, twin
from explorer.presets import PRESETS

CUSTOM = "Custom"  # the preset picker's choice for a set-up that is no preset
MAX_TEXT = 200  # longer values are refused: no control of this app needs more
SHOWN_TEXT = 40  # received text is cut to this many characters when echoed
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")
SWEEP_BOUND = 1e6  # sweep ends: the largest limit of any knob


@dataclasses.dataclass(frozen=True)
class LinkProblem:
    """One value of a link that was not used: `received` is the text as given, never markup."""

    key: str
    allowed: str | None  # what the key takes, in the app's words; None for an unknown key
    received: str

    def __str__(self) -> str:
        if self.allowed is None:
            return f"unknown key {shorten(self.key)!r} ignored"
        return f"{self.key} must be {self.allowed}; got {shorten(self.received)!r}"


def shorten(text: str, limit: int = SHOWN_TEXT) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


@dataclasses.dataclass(frozen=True)
class _Rule:
    allowed: str
    canonical: Callable[[str], str]  # raises ValueError for text that breaks the rule


def _choice(options: Iterable[str]) -> _Rule:
    by_folded = {option.casefold(): option for option in options}

    def canonical(text: str) -> str:
        return by_folded[text.strip().casefold()]  # KeyError is turned into a problem

    return _Rule(f"one of {', '.join(by_folded.values())}", canonical)


def _config_field(name: str) -> _Rule:
    def canonical(text: str) -> str:
        if name in cfg.CHOICES:
            text = text.strip().casefold()
        return cfg.format_field(cfg.parse_field(name, text))

    return _Rule(cfg.allowed(name), canonical)


def _number(low: float, high: float, whole: bool = False) -> _Rule:
    def canonical(text: str) -> str:
        value = cfg.parse_number(text.strip())
        if not low <= value <= high or (whole and not value.is_integer()):
            raise ValueError(text)
        return str(int(value)) if whole else repr(value)

    kind = "a whole number" if whole else "a number"
    return _Rule(f"{kind} from {low:g} to {high:g}", canonical)


def _flag(text: str) -> str:
    folded = text.strip().casefold()
    if folded in TRUE_WORDS:
        return "true"
    if folded in FALSE_WORDS:
        return "false"
    raise ValueError(text)


RULES: dict[str, _Rule] = {
    "preset": _choice([CUSTOM, *PRESETS]),
    "quick": _Rule(f"true or false (also {', '.join(TRUE_WORDS[1:])} / ...)", _flag),
    **{name: _config_field(name) for name in cfg.FIELD_NAMES},
    "twin_factor": _number(twin.MIN_FACTOR, twin.MAX_FACTOR),
    "twin_optimizer": _choice(cfg.OPTIMIZERS),
    "sweep_knob": _choice(sweep.SWEEP_KNOBS),
    "sweep_scale": _choice(sweep.SCALES),
    "sweep_from": _number(-SWEEP_BOUND, SWEEP_BOUND),
    "sweep_to": _number(-SWEEP_BOUND, SWEEP_BOUND),
    "sweep_count": _number(sweep.MIN_COUNT, sweep.MAX_COUNT, whole=True),
    "sat_initializer": _choice(cfg.KERNEL_INITIALIZERS),
    "sat_activation": _choice(cfg.ACTIVATIONS),
    "sat_input": _choice(saturation.INPUT_KINDS),
    "sat_stddev": _number(*cfg.FLOAT_RANGES["init_param"]),
}
KEYS = tuple(RULES)


def check_value(key: str, text: str) -> tuple[str | None, LinkProblem | None]:
    """The canonical text of one value, or None and the problem."""
    rule = RULES.get(key)
    if rule is None:
        return None, LinkProblem(key, None, text)
    if len(text) > MAX_TEXT:
        return None, LinkProblem(key, f"{rule.allowed}, in at most {MAX_TEXT} characters", text)
    try:
        return rule.canonical(text), None
    except (ValueError, KeyError, OverflowError, ZeroDivisionError):
        return None, LinkProblem(key, rule.allowed, text)


def check_link(
    params: Mapping[str, str | list[str]], extra_keys: Iterable[str] = ()
) -> tuple[dict[str, str], list[LinkProblem]]:
    """Every usable value of a link as canonical text, and one problem per value not used.

    A key given more than once counts by its last value, as Streamlit reads it. Keys in
    `extra_keys` (the page's own, such as the open view) are kept as they are.

    Returns:
        ({key: canonical text}, [LinkProblem, ...]) in the link's order.
    """
    extra = set(extra_keys)
    clean, problems = {}, []
    for key, texts in params.items():
        text = texts[-1] if isinstance(texts, list | tuple) and texts else texts
        text = text if isinstance(text, str) else ""
        if key in extra:
            clean[key] = text
            continue
        value, problem = check_value(key, text)
        if problem is None:
            clean[key] = value
        else:
            problems.append(problem)
    return clean, problems
