"""Initialization & Scaling Explorer: the page's router.

    page config, title, intro, sidebar     drawn first, before TensorFlow loads
    actions -> the session's batch         Train, a comparison set (the labs start their own)
    the batch's trainings, with progress   explorer.ui.runs
    the open view only                     explorer.ui.views and the three labs

Everything the page draws lives in `explorer/ui/`; the engine in `explorer/` imports no
streamlit.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's chatter out of the logs

import streamlit as st

from explorer.i18n import N_, _, ngettext
from explorer.presets import PRESETS, trains
from explorer.ui import language, puzzles, quiz, runs, share, sidebar
from explorer.ui.link import clean_link, show_link_problems, view_tabs

TITLE = N_("Initialization & Scaling Explorer")
INTRO = N_(
    "Train a small Keras MLP on MNIST or Fashion-MNIST and see why input scaling and weight "
    "initialization decide whether it learns. Pick a preset, press **Train**, change one knob, "
    "and compare the runs: curves, first-layer pre-activations, saturation and update sizes."
)
RUN_VIEWS = ("Summary", "Curves", "Pre-activations", "Saturation", "Gradients and updates")


# Train or a comparison set's button: the session's new batch (the labs start their own).
def start_actions(choice: sidebar.SidebarChoice) -> None:
    if choice.comparison_set:
        configs = {
            PRESETS[key].title: sidebar.quick_look(PRESETS[key].config, choice.quick)
            for key in choice.comparison_set
        }
        runs.start(
            configs,
            puzzles.COMPARISON_SET,
            then={"selected_keys": list(configs.values())},
            seeds=choice.seeds,
        )
    elif choice.pressed and choice.config is not None:
        if trains(choice.config):
            runs.start(
                {"": choice.config}, then={"selected_keys": [choice.config]}, seeds=choice.seeds
            )
        else:  # B1 looks at the network at init: the Summary shows it
            st.session_state["selected_keys"] = []


# The open view, and only it: the others cost nothing until opened.
def open_view(name: str, choice: sidebar.SidebarChoice) -> None:
    from explorer.ui import saturation_lab, sweep_lab, twin_lab, views

    init_config = choice.config or sidebar.DEFAULTS
    if name in RUN_VIEWS:
        views.run_views(name, init_config)  # each view draws its share box: they are fragments
    elif name == "Data":
        share.share_box(name)
        views.data_view(init_config)
    elif name == "Twin lab":
        twin_lab.twin_lab(choice.config)
    elif name == "Sweep":
        sweep_lab.sweep_lab(choice.config)
    else:
        saturation_lab.saturation_lab(init_config)


def main() -> None:
    language.install()  # `_()` follows this session's language from here on
    st.set_page_config(page_title=_(TITLE), page_icon="📈", layout="wide")
    runs.keep_alive()  # first: a rerun must not let the session's training go
    runs.next_script_run()
    clean_link()  # before any widget reads the link
    quiz.start_from_link()
    st.title(_(TITLE))
    st.markdown(_(INTRO))
    show_link_problems()
    choice = sidebar.sidebar_ui()
    share.remember_choice(choice)
    for problem in choice.problems:
        st.error(problem)
    cards = st.container()  # filled after the trainings, so that their numbers show at once

    loading = st.empty()
    if "explorer.train" not in sys.modules:
        loading.caption(
            _("Loading TensorFlow and the charts (the first visit takes a few seconds)…")
        )
    from explorer.ui import views  # noqa: F401  (TensorFlow, Keras, Altair: after the first paint)

    loading.empty()
    share.reopen_link(choice)  # first: a click in this run replaces the link's runs
    start_actions(choice)
    puzzles.start_action()
    runs.run_pending()
    with cards:
        puzzles.puzzle_cards()
    dropped = st.session_state.get("dropped_runs", 0)
    if dropped:
        st.caption(
            ngettext(
                "This session keeps its last {limit} runs; {count} older run was let go.",
                "This session keeps its last {limit} runs; {count} older runs were let go.",
                dropped,
            ).format(limit=runs.MAX_SESSION_RUNS, count=dropped)
        )
    open_name, open_tab = view_tabs()
    with open_tab:
        open_view(open_name, choice)


main()
