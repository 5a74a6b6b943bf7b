"""The Sweep: one knob of the sidebar's set-up across a range, every value a run."""

from __future__ import annotations

import streamlit as st

from explorer import charts, sweep
from explorer import config as cfg
from explorer.i18n import N_, _, ngettext
from explorer.setups import SCALE_NAMES, SWEEP_KNOBS, SweepSetup
from explorer.ui import quiz, runs, share
from explorer.ui import setup_widgets as widgets
from explorer.ui.views import (
    Figures,
    band_diverged_banner,
    diverged_banner,
    download_row,
    list_separator,
    stored_results,
)

VIEW = "Sweep"  # the tab this lab is drawn in (a link's view)
RUN_BUTTON = N_("Run the sweep")
SWEEP_RESULTS = N_("sweep results")  # the download's name (English: its file name)
INTRO = N_(
    "**One knob, many runs.** Each value trains the sidebar's set-up with that one knob changed; "
    "every run is cached, so widening a sweep only trains the new values."
)


BAND_NOTE = N_(
    "Each value trained {count} seeds: its point is their mean and its bar their range (min to "
    "max). A value whose seeds all diverged is a red cross; one where only some diverged is an "
    "orange diamond at the mean of the others, its tooltip saying how many diverged. The "
    "download has every seed's row beside its value's band."
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
            _("Knob"),
            knob_name,
            help=_(
                "The hidden width gives every hidden layer the same width; the initializer "
                "stddev needs {initializers}."
            ).format(
                initializers=list_separator().join(
                    cfg.option_name("kernel_initializer", name)
                    for name in cfg.PARAMETRIC_INITIALIZERS
                )
            ),
        )
        scale = widgets.choice(
            right, stored, "scale", _("Spacing"), lambda option: _(SCALE_NAMES[option])
        )
        first, second, third = st.columns(3)
        start = widgets.number(first, stored, "start", _("From"))
        stop = widgets.number(second, stored, "stop", _("To"))
        count = widgets.number(third, stored, "count", _("Values"))
        pressed = st.form_submit_button(_(RUN_BUTTON), type="primary")
    setup = widgets.keep(SweepSetup(knob, scale, float(start), float(stop), int(count)))
    return setup, pressed


def knob_name(knob: str) -> str:
    """A knob as the page names it: what it sets, in the reader's language."""
    return _(SWEEP_KNOBS[knob].label)


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
    st.markdown(_(INTRO))
    setup, pressed = controls_ui()
    share.share_box(VIEW)  # after the form: the set-up it keeps is the newest
    spec = SWEEP_KNOBS[setup.knob]
    ranges = [f"{knob_name(name)} {k.start:g}–{k.stop:g}" for name, k in SWEEP_KNOBS.items()]
    # TRANSLATORS: between the items of a list whose items hold commas
    st.caption(_("Ranges worth a first look: {ranges}.").format(ranges=_("; ").join(ranges)))
    if base is None:
        st.info(_("The sweep builds on the sidebar's set-up: fix its problems first."))
        return
    try:
        labels, lab = plan(base, setup)
    except ValueError as error:
        st.error(str(error))
        return
    values, seeds = lab["sweep_lab"]["values"], share.seeds()
    words = {
        "steps": f"{base.total_steps:,}",
        "field": spec.field,
        "values": ", ".join(f"{value:g}" for value in values),
    }
    if seeds > 1:  # the sidebar's seeds: each value trains that many runs
        caption = _("{count} runs of {steps} steps, {field} = {values}, {seeds} seeds each")
        words.update(count=len(values) * seeds, seeds=seeds)
    else:
        caption = ngettext(
            "{count} run of {steps} steps, {field} = {values}",
            "{count} runs of {steps} steps, {field} = {values}",
            len(values),
        )
        words.update(count=len(values))
    st.caption(caption.format(**words))
    if pressed and runs.start(
        labels, SweepSetup.NAME, then=lab, labels_name_new_runs=True, seeds=share.seeds()
    ):
        st.rerun()  # the whole page: trainings wait above the views
    lab = st.session_state.get("sweep_lab")
    results = stored_results(lab["configs"]) if lab else None
    if not results:
        st.info(_("Press **{button}** to train every value.").format(button=_(RUN_BUTTON)))
        return
    if not quiz.gate(results):
        return
    members = [runs.band(result.config) or [result] for result in results.values()]
    if max(len(seeds) for seeds in members) > 1:
        band_diverged_banner(dict(zip(results, members, strict=True)))
    else:
        diverged_banner(results)
    knob = lab["setup"].knob
    per_seed = sweep.seed_table(knob, lab["values"], members)
    table = sweep.band_table(per_seed)
    count = max(len(seeds) for seeds in members)
    log_x = lab["setup"].scale == "log"
    row, figures = st.container(), Figures()
    first = next(iter(results.values())).config
    every_run = _("every run, {knob} varying (first shown)").format(knob=knob)
    configs = {every_run: first}  # one line, not 12
    chart = charts.sweep_chart(table, knob_name(knob), log_x=log_x)
    if count > 1:
        title = _("Sweep of the {knob}: the mean of {count} seeds, min–max bars").format(
            knob=knob_name(knob), count=count
        )
    else:
        title = _("Sweep of the {knob}").format(knob=knob_name(knob))
    figures.show(chart, title, "sweep", configs)
    download_row(row, VIEW, figures, {SWEEP_RESULTS: sweep.download_table(per_seed)})
    st.caption(
        _(
            "Final validation accuracy and loss (a diverged run is a red cross at the bottom) and "
            "the first layer at init, measured on the probe batch."
        )
    )
    if count > 1:
        st.caption(_(BAND_NOTE).format(count=count))
