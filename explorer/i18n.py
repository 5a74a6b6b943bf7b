"""The page's languages: gettext catalogs read with Babel, and the language of the moment.

    explorer/locale/explorer.pot                       the messages, extracted from the code
    explorer/locale/zh_TW/LC_MESSAGES/explorer.po      their 繁體中文 translations
    explorer/locale/glossary.csv                       the terms both follow (the tutorial's)

    _("Validation accuracy is {accuracy}.").format(accuracy=...)   translated now
    ngettext("{count} run", "{count} runs", n).format(count=n)      with a plural
    N_("Summary")               marks a module-level constant; `_(CONSTANT)` translates it at use
    lazy_gettext("one of {options}", options=...)   translated each time it is shown (str())

The English text is the message itself; the .po files are read as they are when the process
starts (Streamlit Community Cloud has no build step, so no compiled .mo file can go stale).
Which language `_()` uses is asked of a source the page plugs in (`set_language_source`), so this
module imports no streamlit; `use_language` overrides it, for tests and scripts. Nothing may call
`_()` at import time: the language is the reader's, known only while a page is drawn.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import gettext
import io
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_LANGUAGE = "en"
# Language code (as the link spells it) -> its name in itself, for the switch.
LANGUAGES = {"en": "English", "zh-TW": "繁體中文"}
# Language code -> its catalog's folder under LOCALE_DIR (English is the messages themselves).
CATALOGS = {"zh-TW": "zh_TW"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "explorer"
# The functions whose string arguments are messages (pybabel extract -k, tests/test_i18n.py).
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "lazy_gettext": None}

_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("language", default=None)
_source: Callable[[], str] | None = None


def set_language_source(source: Callable[[], str] | None) -> None:
    """Make `source()` say which language `_()` uses (the page reads its session's choice)."""
    global _source
    _source = source


def language() -> str:
    """The language of the moment: `use_language`'s, else the source's, else English."""
    chosen = _override.get()
    if chosen is None and _source is not None:
        chosen = _source()
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


@contextlib.contextmanager
def use_language(code: str) -> Iterator[None]:
    """Within the block, `_()` translates into `code` whatever the source says."""
    if code not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}; got {code!r}")
    token = _override.set(code)
    try:
        yield
    finally:
        _override.reset(token)


# Browser and link spellings of Chinese that Traditional characters serve.
_TRADITIONAL = re.compile(r"zh(?:[-_](?:tw|hk|mo|hant)(?:[-_].*)?)?", re.IGNORECASE)


def match_language(tag: str | None) -> str | None:
    """The language for a language tag (a link's `lang`, a browser's locale), or None:
    en, en-US, EN_gb -> en; zh-TW, zh_tw, zh-HK, zh-Hant, zh-Hant-TW -> zh-TW; zh-CN, zh-Hans,
    zh, fr, "" -> None (no language here reads them)."""
    text = (tag or "").strip()
    if not text:
        return None
    if _TRADITIONAL.fullmatch(text) and text.casefold() != "zh":
        return "zh-TW"
    primary = re.split(r"[-_]", text, maxsplit=1)[0].casefold()
    return primary if primary in LANGUAGES and primary != "zh" else None


def from_locale(locale: str | None) -> str:
    """The language for a browser's locale: Traditional Chinese -> zh-TW, anything else -> en."""
    return "zh-TW" if match_language(locale) == "zh-TW" else DEFAULT_LANGUAGE


def catalog_path(code: str) -> Path:
    """The .po file of language `code`."""
    return LOCALE_DIR / CATALOGS[code] / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(code: str) -> gettext.NullTranslations:
    """Language `code`'s catalog as a gettext object: the .po read with Babel, compiled in memory.

    Fuzzy and empty entries are left out (gettext then shows the English message).
    """
    if code not in CATALOGS:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # Babel only once a translated page is drawn
    from babel.messages.pofile import read_po

    with catalog_path(code).open("rb") as file:
        catalog = read_po(file, locale=CATALOGS[code], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the language of the moment (the message itself in English)."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural message for `count`, in the language of the moment."""
    return translations(language()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks `message` for the catalog without translating it: pass it to `_()` where shown."""
    return message


@dataclasses.dataclass(frozen=True)
class LazyText:
    """A message translated each time it is shown: `str(text)`, `f"{text}"`.

    For text made before the language is known (a rule's words at import time, a problem kept
    in the session while the reader switches language). Values that are `LazyText` themselves
    are translated too; the others keep their type, so `{low:g}` formats a number.
    """

    message: str
    values: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        shown = {
            name: str(value) if isinstance(value, LazyText) else value
            for name, value in self.values
        }
        return _(self.message).format(**shown) if self.values else _(self.message)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def lazy_gettext(message: str, **values: Any) -> LazyText:
    """`message` with `values`, translated when shown (see `LazyText`)."""
    return LazyText(message, tuple(values.items()))


def placeholders(message: str) -> set[tuple[str, str]]:
    """The `{name:spec}` fields of a message: a translation must keep every one."""
    return {
        (name, spec or "")
        for _text, name, spec, _conversion in string.Formatter().parse(message)
        if name is not None
    }
