"""The link a page was opened with: checked once, before any widget reads it."""

from __future__ import annotations

import streamlit as st

from explorer import links
from explorer.ui.text import problems_markdown


def clean_link() -> None:
    """On a session's first run: keep the link's usable values in canonical spelling, drop the
    rest and remember why, then rerun so that the widgets bind the clean link.

    Widgets read a link's values when they are first drawn (Streamlit seeds them from the
    URL), so a value such as "inf" must be gone before then: a number input would raise on it.
    """
    if "link_problems" in st.session_state:
        return
    given = {key: st.query_params.get_all(key) for key in st.query_params}
    clean, problems = links.check_link(given)
    st.session_state["link_problems"] = problems
    if clean != {key: values[-1] if values else "" for key, values in given.items()}:
        st.query_params.from_dict(clean)
        st.rerun()


def show_link_problems() -> None:
    for message in problems_markdown(st.session_state.get("link_problems", [])):
        st.warning(message)
