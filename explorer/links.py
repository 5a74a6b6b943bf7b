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
from collections.abc import Mapping

from explorer import config as cfg
from explorer.i18n import N_, LazyText, _, lazy_gettext
from explorer.presets import PRESETS
from explorer.setups import LAB_SETUPS, Rule, choices, number

CUSTOM = N_("Custom")  # the preset picker's choice (and URL text) for a set-up that is no preset
MAX_TEXT = 200  # longer values are refused: no control of this app needs more
SHOWN_TEXT = 40  # received text is cut to this many characters when echoed
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


@dataclasses.dataclass(frozen=True)
class LinkProblem:
    """One value of a link that was not used: `received` is the text as given, never markup.

    The app's words are kept untranslated (`words`) and shown in the reader's language of the
    moment (`allowed`): the page keeps its link's problems while the reader may switch language.
    """

    key: str
    words: str | LazyText | None  # what the key takes, in the app's words; None: unknown key
    received: str

    @property
    def allowed(self) -> str | None:
        return None if self.words is None else str(self.words)

    def __str__(self) -> str:
        if self.allowed is None:
            return _("unknown key {key} ignored").format(key=repr(shorten(self.key)))
        return cfg.must_be(self.key, self.allowed, shorten(self.received))


def shorten(text: str, limit: int = SHOWN_TEXT) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return _("{start}… ({count} characters)").format(start=text[:limit], count=f"{len(text):,}")


def _config_field(name: str) -> Rule:
    """A RunConfig field's rule: config.py's own reading and checks, in one spelling."""

    def read(text: str):
        return cfg.parse_field(name, text.strip().casefold() if name in cfg.CHOICES else text)

    return Rule(cfg.allowed_text(name), read, lambda value: True)


def _flag(text: str) -> bool:
    folded = text.strip().casefold()
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    raise ValueError(text)


# Every key a link may hold: the page's own, every RunConfig field, every lab's set-up.
RULES: dict[str, Rule] = {
    "preset": choices([CUSTOM, *PRESETS]),
    "quick": Rule(
        lazy_gettext("true or false (also {words} / ...)", words=", ".join(TRUE_WORDS[1:])),
        _flag,
        lambda value: True,
    ),
    "seeds": number(1, cfg.MAX_SEEDS, whole=True),  # a seed band's size
    **{name: _config_field(name) for name in cfg.FIELD_NAMES},
    **{key: rule for setup in LAB_SETUPS for key, (_, rule) in setup.rules().items()},
}


def check_value(
    key: str, text: str, rules: Mapping[str, Rule] | None = None
) -> tuple[str | None, LinkProblem | None]:
    """The canonical text of one value, or None and the problem (`rules` default: RULES)."""
    rule = (RULES if rules is None else rules).get(key)
    if rule is None:
        return None, LinkProblem(key, None, text)
    if len(text) > MAX_TEXT:
        words = lazy_gettext(
            "{allowed}, in at most {count} characters", allowed=rule.words, count=MAX_TEXT
        )
        return None, LinkProblem(key, words, text)
    try:
        return rule.canonical(text), None
    except (ValueError, KeyError, OverflowError, ZeroDivisionError):
        return None, LinkProblem(key, rule.words, text)


def check_link(
    params: Mapping[str, str | list[str]], rules: Mapping[str, Rule] | None = None
) -> tuple[dict[str, str], list[LinkProblem]]:
    """Every usable value of a link as canonical text, and one problem per value not used.

    A key given more than once counts by its last value, as Streamlit reads it. `rules`, if
    given, replaces RULES (the page passes RULES and its own keys, such as the open view).

    Returns:
        ({key: canonical text}, [LinkProblem, ...]) in the link's order.
    """
    clean, problems = {}, []
    for key, texts in params.items():
        text = texts[-1] if isinstance(texts, list | tuple) and texts else texts
        text = text if isinstance(text, str) else ""
        value, problem = check_value(key, text, rules)
        if problem is None:
            clean[key] = value
        else:
            problems.append(problem)
    return clean, problems
