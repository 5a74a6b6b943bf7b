"""The link a page was opened with: checked once, before any widget reads it; and the view
tabs, whose names the link keeps in English while their labels follow the reader's language."""

from __future__ import annotations

import dataclasses
import functools

import streamlit as st

from explorer import i18n, links, reopen
from explorer.i18n import N_, _
from explorer.setups import LAB_SETUPS, Rule, choices
from explorer.ui import setup_widgets
from explorer.ui.text import problems_markdown

# The views, in tab order, by the English names a link's `view` holds (`_()` gives the labels).
VIEWS = (
    N_("Summary"),
    N_("Curves"),
    N_("Pre-activations"),
    N_("Saturation"),
    N_("Gradients and updates"),
    N_("Data"),
    N_("Twin lab"),
    N_("Sweep"),
    N_("Saturation lab"),
)
VIEW_KEY = "view"  # the tabs' session-state key and the link's key
QUIZ_RULE = dataclasses.replace(links.RULES["quick"])  # true/false, spelled as quick is


def _read_language(text: str) -> str:
    code = i18n.match_language(text)
    if code is None:
        raise ValueError(text)
    return code


# A language tag as a link or a browser spells it: zh-TW, zh_tw, zh-Hant, zh-HK -> zh-TW.
LANGUAGE_RULE = Rule(
    i18n.lazy_gettext("one of {options}", options=", ".join(i18n.LANGUAGES)),
    _read_language,
    lambda value: value in i18n.LANGUAGES,
    options=tuple(i18n.LANGUAGES),
)
# The page's own keys beside the set-ups': the open view, the runs to show, predict-then-reveal,
# the language.
RULES = {
    **links.RULES,
    "view": choices(VIEWS),
    "lang": LANGUAGE_RULE,
    "runs": reopen.RUNS_RULE,
    "names": reopen.NAMES_RULE,
    "quiz": QUIZ_RULE,
}
LAB_KEYS = {key for setup in LAB_SETUPS for key in setup.rules()}


def clean_link() -> None:
    """On a session's first run: keep the link's usable values in canonical spelling, drop the
    rest and remember why, then rerun so that the widgets bind the clean link.

    Widgets read a link's values when they are first drawn (Streamlit seeds them from the
    URL), so a value such as "inf" must be gone before then: a number input would raise on it.
    The labs' keys go into the session's lab set-ups (their widgets are drawn only while their
    view is open, so they keep their state there, not in the URL).
    """
    if "link_problems" in st.session_state:
        return
    given = {key: st.query_params.get_all(key) for key in st.query_params}
    clean, problems = links.check_link(given, RULES)
    st.session_state["link_problems"] = problems
    for setup in LAB_SETUPS:
        setup_widgets.keep(setup.from_query(clean)[0])
    kept = {key: value for key, value in clean.items() if key not in LAB_KEYS}
    if kept != {key: values[-1] if values else "" for key, values in given.items()}:
        st.query_params.from_dict(kept)
        st.rerun()


def show_link_problems() -> None:
    for message in problems_markdown(st.session_state.get("link_problems", [])):
        st.warning(message)


@functools.cache
def _views_by_label() -> dict[str, str]:
    """Every view's label in every language -> the view's English name."""
    labels = {}
    for code in i18n.LANGUAGES:
        with i18n.use_language(code):
            labels.update({_(view): view for view in VIEWS})
    return labels


def open_view(name: str) -> None:
    """Open view `name` (an English name of VIEWS) on the next draw of the tabs (a callback)."""
    st.session_state[VIEW_KEY] = _(name)


def view_tabs() -> tuple[str, st.delta_generator.DeltaGenerator]:
    """The view tabs, labelled in the reader's language; returns the open view's English name
    and its tab. The link's `view` keeps the English name (absent for the first view).

    The tabs are not bound to the URL themselves: a bound tab's URL text is its label, which
    would change with the language. Their state is the label, so it is set from the view each
    run (a switch of language relabels the open tab).
    """
    linked = st.query_params.get(VIEW_KEY, VIEWS[0])
    current = _views_by_label().get(st.session_state.get(VIEW_KEY, linked), VIEWS[0])
    st.session_state[VIEW_KEY] = _(current)
    tabs = st.tabs([_(view) for view in VIEWS], key=VIEW_KEY, on_change="rerun")
    name = next((view for view, tab in zip(VIEWS, tabs, strict=True) if tab.open), VIEWS[0])
    if name == VIEWS[0]:
        if VIEW_KEY in st.query_params:
            del st.query_params[VIEW_KEY]
    elif st.query_params.get(VIEW_KEY) != name:
        st.query_params[VIEW_KEY] = name
    return name, tabs[VIEWS.index(name)]
