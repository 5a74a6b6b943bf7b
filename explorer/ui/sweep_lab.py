"""The Sweep: one knob of the sidebar's set-up across a range, every value a run."""

from __future__ import annotations

import streamlit as st

from explorer import charts, sweep
from explorer import config as cfg
from explorer.setups import SWEEP_KNOBS, SweepSetup
from explorer.ui import quiz, runs, share
from explorer.ui import setup_widgets as widgets
from explorer.ui.views import Figures, diverged_banner, download_row, stored_results

VIEW = "Sweep"  # the tab this lab is drawn in (a link's view)
INTRO = (
    "**One knob, many runs.** Each value trains the sidebar's set-up with that one knob changed; "
    "every run is cached, so widening a sweep only trains the new values."
)


# The sweep's own form, filled from the session's set-up; returns the set-up and whether pressed.
def controls_ui() -> tuple[SweepSetup, bool]:
    stored = widgets.stored(SweepSetup)
    with st.form("sweep_form"):
        left, right = st.columns(2)
        knob = widgets.choice(
            left,
            stored,
            "knob",
            "Knob",
            help="hidden_width gives every hidden layer the same width; init_stddev needs "
            f"{', '.join(cfg.PARAMETRIC_INITIALIZERS)}.",
        )
        scale = widgets.choice(right, stored, "scale", "Spacing")
        first, second, third = st.columns(3)
        start = widgets.number(first, stored, "start", "From")
        stop = widgets.number(second, stored, "stop", "To")
        count = widgets.number(third, stored, "count", "Values")
        pressed = st.form_submit_button("Run the sweep", type="primary")
    setup = widgets.keep(SweepSetup(knob, scale, float(start), float(stop), int(count)))
    return setup, pressed


def plan(base: cfg.RunConfig, setup: SweepSetup) -> tuple[dict[str, cfg.RunConfig], dict]:
    """The sweep's runs by label, and the session's record of them once trained.

    Raises:
        ValueError: for values the knob or the set-up cannot take.
    """
    spec = SWEEP_KNOBS[setup.knob]
    values = sweep.sweep_values(
        setup.start, setup.stop, setup.count, setup.scale, integer=spec.integer
    )
    configs = sweep.sweep_configs(base, setup.knob, values)
    labels = {
        f"{setup.knob} = {value:g}": config for value, config in zip(values, configs, strict=True)
    }
    return labels, {"sweep_lab": {"setup": setup, "values": values, "configs": labels}}


# One knob across a range: every value a cached run, read against the knob.
@st.fragment
def sweep_lab(base: cfg.RunConfig | None) -> None:
    st.markdown(INTRO)
    setup, pressed = controls_ui()
    share.share_box(VIEW)  # after the form: the set-up it keeps is the newest
    spec = SWEEP_KNOBS[setup.knob]
    st.caption(
        "Ranges worth a first look: "
        + "; ".join(f"{name} {k.start:g}–{k.stop:g}" for name, k in SWEEP_KNOBS.items())
        + "."
    )
    if base is None:
        st.info("The sweep builds on the sidebar's set-up: fix its problems first.")
        return
    try:
        labels, lab = plan(base, setup)
    except ValueError as error:
        st.error(str(error))
        return
    values = lab["sweep_lab"]["values"]
    st.caption(
        f"{len(values)} runs of {base.total_steps:,} steps, {spec.field} = "
        + ", ".join(f"{value:g}" for value in values)
    )
    if pressed and runs.start(labels, SweepSetup.NAME, then=lab, labels_name_new_runs=True):
        st.rerun()  # the whole page: trainings wait above the views
    lab = st.session_state.get("sweep_lab")
    results = stored_results(lab["configs"]) if lab else None
    if not results:
        st.info("Press **Run the sweep** to train every value.")
        return
    if not quiz.gate(results):
        return
    diverged_banner(results)
    knob = lab["setup"].knob
    table = sweep.sweep_table(knob, lab["values"], list(results.values()))
    log_x = lab["setup"].scale == "log"
    row, figures = st.container(), Figures()
    first = next(iter(results.values())).config
    configs = {f"every run, {knob} varying (first shown)": first}  # one line, not 12
    chart = charts.sweep_chart(table, SWEEP_KNOBS[knob].label, log_x=log_x)
    figures.show(chart, f"Sweep of the {SWEEP_KNOBS[knob].label}", "sweep", configs)
    download_row(row, VIEW, figures, {"sweep results": table})
    st.caption(
        "Final validation accuracy and loss (a diverged run is a red cross at the bottom) and the "
        "first layer at init, measured on the probe batch."
    )
