"""Sharing: a short link that reopens what the page shows, and opening such a link.

The share box sits in the open view (beside the runs it names), not in the sidebar: a teacher
copies the link of what the class should see. Opening a link that names runs, or a lab's view,
trains what is not cached yet (`runs.start` applies the server's budget), once per session.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

import streamlit as st

from explorer import reopen
from explorer.config import RunConfig
from explorer.i18n import N_, _
from explorer.presets import PRESETS
from explorer.setups import SaturationSetup, SweepSetup, TwinSetup
from explorer.ui import runs, setup_widgets, sidebar
from explorer.ui.link import VIEWS

RENAMED = "renamed_runs"  # configs the user renamed: their names travel in links
CHOICE = "sidebar_choice"  # the last full run's SidebarChoice, for the views' fragments
LAB_OF_VIEW = {"Twin lab": TwinSetup, "Sweep": SweepSetup, "Saturation lab": SaturationSetup}
TRAINED_LABS = ("Twin lab", "Sweep")  # views whose set-up names runs to train
LINKS_RUNS = N_("this link's runs")  # what a budget refusal names (`_()` there)


def remember_choice(choice: sidebar.SidebarChoice) -> None:
    st.session_state[CHOICE] = choice


def seeds() -> int:
    """The sidebar's seeds per set-up, for the labs (fragments: the sidebar is not redrawn)."""
    choice = st.session_state.get(CHOICE)
    return choice.seeds if choice is not None else 1


def link_query(view: str, configs: Sequence[RunConfig] = (), quiz: bool = False):
    """The short query reopening `view` with `configs` shown, and the configs it cannot name."""
    choice = st.session_state.get(CHOICE)
    if choice is None:
        return {}, list(configs)
    tokens, left_out = reopen.run_tokens(configs, choice.controls, choice.quick, sidebar.quick_look)
    labs = [setup_widgets.stored(LAB_OF_VIEW[view])] if view in LAB_OF_VIEW else []
    renamed = st.session_state.get(RENAMED, set())
    by_config = runs.run_names()
    names = [
        by_config.get(config, "") if config in renamed else ""
        for config in reopen.run_configs(
            tokens, choice.controls, choice.quick, sidebar.quick_look
        ).values()
    ]
    query = reopen.short_query(
        choice.preset,
        choice.controls,
        choice.quick,
        sidebar.QUICK_BY_DEFAULT,
        labs,
        view,
        VIEWS[0],
        tokens if view not in TRAINED_LABS else (),
        names if view not in TRAINED_LABS else (),
    )
    if choice.seeds != 1:
        query["seeds"] = str(choice.seeds)
    if quiz:
        query["quiz"] = "true"
    return query, left_out


def link_url(query: dict[str, str]) -> str:
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(query, safe=',')}"


# The share box of the open view: the link, its quiz variant, and what it cannot carry.
def share_box(view: str, configs: Sequence[RunConfig] = ()) -> None:
    with st.popover(_("Share this view"), icon=":material/share:"):
        query, left_out = link_query(view, configs)
        st.caption(_("Opens this view with these runs; what is not cached trains by itself."))
        st.code(link_url(query), language=None, wrap_lines=True)
        if configs or view in TRAINED_LABS:
            st.caption(_("For a class: the learner predicts each run's fate before seeing it."))
            quiz, _left_out = link_query(view, configs, quiz=True)
            st.code(link_url(quiz), language=None, wrap_lines=True)
        if left_out:
            st.caption(
                _(
                    "{count} of the shown runs cannot travel in a link (a link names presets and "
                    "its own set-up): select the controls' set-up, or a preset, to share them."
                ).format(count=len(left_out))
            )


def reopen_link(choice: sidebar.SidebarChoice) -> None:
    """On a session's first run: train what the link names (its runs, or its lab's runs)."""
    if "link_reopened" in st.session_state:
        return
    st.session_state["link_reopened"] = True
    view = st.query_params.get("view")
    if view in TRAINED_LABS:
        if choice.config is None:
            return
        from explorer.ui import sweep_lab, twin_lab  # TensorFlow: after the first paint

        lab = twin_lab if view == "Twin lab" else sweep_lab
        try:
            configs, then = lab.plan(choice.config, setup_widgets.stored(LAB_OF_VIEW[view]))
        except ValueError:  # the lab shows the same error when drawn
            return
        runs.start(configs, LINKS_RUNS, then=then, labels_name_new_runs=True, seeds=choice.seeds)
        return
    tokens = reopen.link_tokens(st.query_params)
    configs = reopen.run_configs(tokens, choice.controls, choice.quick, sidebar.quick_look)
    if configs:
        by_label = {
            PRESETS[token].title if token in PRESETS else _("this set-up"): config
            for token, config in configs.items()
        }
        names = {
            configs[token]: name
            for token, name in reopen.link_names(st.query_params, tokens).items()
            if token in configs
        }
        st.session_state.setdefault(RENAMED, set()).update(names)
        runs.start(
            by_label,
            LINKS_RUNS,
            then={"selected_keys": list(configs.values())},
            names=names,
            seeds=choice.seeds,
        )
