"""The page's language: the sidebar's switch, bound to the link's `lang`, else the browser's.

    the switch (session state "lang")   once drawn, or set by the link   -> that language
    the link's lang=zh-TW / lang=en     before the switch is first drawn -> that language
    the browser's locale                zh-TW, zh-Hant, zh-HK            -> zh-TW; else en

`explorer.i18n` asks `page_language` which language `_()` uses: it reads this session's state,
so every session has its own language while the engine imports no streamlit.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from explorer import i18n
from explorer.ui.choice import keep_values, named_choice

LANGUAGE_KEY = "lang"  # the switch's session-state key and the link's key
LABEL = "Language / 語言"  # in both languages: a reader who cannot read the page still finds it


def browser_language() -> str:
    """The browser's language among the page's: zh-TW for Traditional Chinese, else en."""
    return i18n.from_locale(st.context.locale)


def page_language() -> str:
    """This session's language: the switch's, the link's, else the browser's (English outside
    a script run, such as in a training thread)."""
    if get_script_run_ctx() is None:
        return i18n.DEFAULT_LANGUAGE
    chosen = st.session_state.get(LANGUAGE_KEY)
    if chosen in i18n.LANGUAGES:
        return chosen
    linked = i18n.match_language(st.query_params.get(LANGUAGE_KEY))
    return linked or browser_language()


def install() -> None:
    """Make `_()` follow this page's language (once per process is enough; harmless again)."""
    i18n.set_language_source(page_language)


def _in_link(code: str) -> bool:
    """Whether the link says `lang`: unless it is English for an English browser, so that a
    shared link keeps its language, and a reader's English on a Chinese browser is kept."""
    return not (code == i18n.DEFAULT_LANGUAGE == browser_language())


# The switch, first in the sidebar; it starts at the link's language, else the browser's.
def language_ui() -> str:
    return named_choice(
        st.sidebar,
        LABEL,
        list(i18n.LANGUAGES),
        LANGUAGE_KEY,
        page_language(),
        i18n.LANGUAGES.__getitem__,
        in_link=_in_link,
        on_change=keep_values,  # the options' names change with the language, not their values
    )
