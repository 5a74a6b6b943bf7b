"""A lab's widgets, drawn from its set-up's field rules: options, limits and keys in one place.

The labs' widgets are drawn only while their view is open, so each starts from the session's
stored set-up (not from the URL): the set-up, not the widget, keeps the state.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from explorer.setups import QuerySetup
from explorer.ui.choice import named_choice


def stored(setup_type: type[QuerySetup]) -> QuerySetup:
    """The session's set-up of this lab (from the link, or the last one drawn), else defaults."""
    return st.session_state.get(setup_type.__name__) or setup_type()


def keep(setup: QuerySetup) -> QuerySetup:
    """Remember `setup` as the session's for its lab (the share link reads it too)."""
    st.session_state[type(setup).__name__] = setup
    return setup


def choice(
    container, setup: QuerySetup, name: str, label: str, format_func: Callable[[str], str], **extra
):
    """A selectbox over field `name`'s options shown by `format_func` (their names in the
    reader's language), showing the set-up's value. Its value is the option's identifier; the
    set-up, not the URL, keeps it (`named_choice` with nothing in the link)."""
    rule = type(setup).rule(name)
    return named_choice(
        container,
        label,
        rule.options,
        type(setup).key(name),
        getattr(setup, name),
        format_func,
        in_link=_never,
        **extra,
    )


def _never(_value: str) -> bool:
    return False


def number(container, setup: QuerySetup, name: str, label: str, **extra):
    """A number input within field `name`'s limits, showing the set-up's value."""
    rule = type(setup).rule(name)
    if rule.whole:
        limits = {"min_value": int(rule.low), "max_value": int(rule.high), "step": 1}
    else:
        limits = {"min_value": rule.low, "max_value": rule.high, "format": "%g"}
    return container.number_input(
        label, value=getattr(setup, name), key=type(setup).key(name), **limits, **extra
    )
