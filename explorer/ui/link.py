"""The link a page was opened with: checked once, before any widget reads it."""

from __future__ import annotations

import dataclasses

import streamlit as st

from explorer import links, reopen
from explorer.setups import LAB_SETUPS, choices
from explorer.ui import setup_widgets
from explorer.ui.text import problems_markdown

# The views, in tab order; a link's `view` opens one.
VIEWS = (
    "Summary",
    "Curves",
    "Pre-activations",
    "Saturation",
    "Gradients and updates",
    "Data",
    "Twin lab",
    "Sweep",
    "Saturation lab",
)
QUIZ_RULE = dataclasses.replace(links.RULES["quick"])  # true/false, spelled as quick is
# The page's own keys beside the set-ups': the open view, the runs to show, predict-then-reveal.
RULES = {
    **links.RULES,
    "view": choices(VIEWS),
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
