"""A selectbox whose options are identifiers shown by name, kept in the link by identifier.

Streamlit's `bind="query-params"` puts a selectbox's *shown* text in the URL (format_func's
result), so a bound selectbox with readable names would write "activation=ReLU", and in 繁體中文
"loss=交叉熵": links would change with the language and no longer read back. These selectboxes
are not bound; they do by hand what binding does, with the identifier:

    first draw in a session   the (clean) link's value, if it is an option, seeds the widget
    every draw                the URL holds the value, or nothing when it is the default

The browser also sends back a selectbox's shown text, not its value: when the language changes,
last run's "交叉熵" is no option of this run's English names. `keep_values` (the language switch's
callback) sets every named choice to its value again, read while last run's names still apply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from explorer import i18n

_NAMED: set[str] = set()  # the keys of the named choices this process has drawn


def named_choice(
    container,
    label: str,
    options: Sequence[str],
    key: str,
    default: str,
    format_func: Callable[[str], str],
    in_link: Callable[[str], bool] | None = None,
    **extra,
) -> str:
    """A selectbox over `options` (identifiers) shown by `format_func`, keyed and linked by
    `key`. `in_link(value)` says whether the URL holds the value (default: unless `default`)."""
    options = list(options)
    if key not in st.session_state and st.query_params.get(key) in options:
        st.session_state[key] = st.query_params[key]
    language = i18n.language()  # the names belong to this run's language, whenever asked

    def shown(option: str) -> str:
        with i18n.use_language(language):
            return format_func(option)

    _NAMED.add(key)
    value = container.selectbox(
        label,
        options,
        index=options.index(default),
        format_func=shown,
        key=key,
        **extra,
    )
    keep = in_link(value) if in_link is not None else value != default
    if not keep:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value
    return value


def keep_values() -> None:
    """A callback for a change that renames the options (the language): every named choice
    keeps its value (see the module's docstring)."""
    for key in _NAMED:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
