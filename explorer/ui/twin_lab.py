"""The Twin lab: puzzle A answered with three runs that share their pre-activations at init."""

from __future__ import annotations

import streamlit as st

from explorer import bands, charts, compare, downloads, probes, twin
from explorer import config as cfg
from explorer import train as training
from explorer.i18n import N_, _
from explorer.setups import TwinSetup
from explorer.ui import quiz, runs, share
from explorer.ui import setup_widgets as widgets
from explorer.ui.views import (
    Figures,
    configs_of,
    curves,
    diverged_banner,
    download_row,
    off_scale_caption,
    stored_results,
)

VIEW = "Twin lab"  # the tab this lab is drawn in (a link's view)
TRAIN_BUTTON = N_("Train the three twins")
FIRST_STEP_TABLE = N_("first-step table")  # the download's name (English: its file name)
INTRO = N_(
    "**Puzzle A, answered on one seed.** Three runs of the sidebar's set-up start with the same "
    "first-layer pre-activations: **1** inputs ÷c; **2** raw inputs with the first layer's "
    "weights ÷c; **3** run 2 with the exact correction for the optimizer. The lab sets the input "
    "scaling, the weight scale (first layer only) and the first-layer learning rate; everything "
    "else (data, model, initializer, learning rate, batch, epochs, seed) comes from the sidebar."
)
EPSILON_NOTE = N_(
    "Adam and RMSprop also need epsilon ×c, because it is added to a gradient size that is c "
    "times larger. The engine does this by itself: the first kernel's epsilon follows the weight "
    "scale (×c for Adam; ×c² for RMSprop, whose Keras epsilon sits inside the square root). So "
    "run 3 only sets its first-layer learning rate ÷c."
)
RELU_KINK_NOTE = N_(
    "With ReLU-like units and a c that is not a power of two, ÷c is rounded in float32: after "
    "a few hundred steps one z can land on the other side of the kink at 0 and run 3 leaves "
    "run 1 (a jump in the gap chart). c = 256 is exact: runs 1 and 3 then agree to the last bit."
)


# The lab's own form, filled from the session's set-up; returns the set-up and whether pressed.
def controls_ui() -> tuple[TwinSetup, bool]:
    stored = widgets.stored(TwinSetup)
    with st.form("twin_form"):
        left, right = st.columns(2)
        factor = widgets.number(
            left,
            stored,
            "factor",
            _("Factor c"),
            help=_("Run 1 divides the inputs by c; runs 2 and 3 divide the first-layer weights."),
        )
        optimizer = widgets.choice(
            right,
            stored,
            "optimizer",
            _("Optimizer of the three runs"),
            lambda option: cfg.option_name("optimizer", option),
        )
        pressed = st.form_submit_button(_(TRAIN_BUTTON), type="primary")
    setup = widgets.keep(TwinSetup(factor=float(factor), optimizer=optimizer))
    return setup, pressed


def plan(base: cfg.RunConfig, setup: TwinSetup) -> tuple[dict[str, cfg.RunConfig], dict]:
    """The three runs by label, and the session's record of them once trained (for `runs.start`).

    Raises:
        ValueError: for a factor or optimizer outside the lab's limits.
    """
    configs = twin.twin_configs(base, setup.factor, setup.optimizer)
    return configs, {"twin_lab": {"setup": setup, "configs": configs}}


# Puzzle A answered: three runs, their histograms, curves, first steps and the derivation.
@st.fragment
def twin_lab(base: cfg.RunConfig | None) -> None:
    st.markdown(_(INTRO))
    setup, pressed = controls_ui()
    share.share_box(VIEW)  # after the form: the set-up it keeps is the newest
    if base is None:
        st.info(_("The twin lab builds on the sidebar's set-up: fix its problems first."))
        return
    try:
        configs, lab = plan(base, setup)
    except ValueError as error:
        st.error(str(error))
        return
    advice = twin.learning_rate_advice(setup.optimizer, base.learning_rate)
    if advice:
        st.caption(advice)
    if pressed and runs.start(
        configs, TwinSetup.NAME, then=lab, labels_name_new_runs=True, seeds=share.seeds()
    ):
        st.rerun()  # the whole page: trainings wait above the views
    lab = st.session_state.get("twin_lab")
    results = stored_results(lab["configs"]) if lab else None
    if not results:
        st.info(
            _("Press **{button}** to train them (one seed, three runs).").format(
                button=_(TRAIN_BUTTON)
            )
        )
        return
    if quiz.gate(results):
        results_view(lab["setup"], results)


def results_view(setup: TwinSetup, results: dict[str, training.RunResult]) -> None:
    seed_bands = {label: runs.band(result.config) for label, result in results.items()}
    seed_bands = {label: members for label, members in seed_bands.items() if members}
    if seed_bands:
        st.caption(
            _(
                "Each twin trained {count} seeds: the curves show their band; the derivation, "
                "first steps and histograms read each twin's first seed."
            ).format(count=max(len(members) for members in seed_bands.values()))
        )
    factor, optimizer = setup.factor, setup.optimizer
    config = next(iter(results.values())).config
    st.caption(
        _(
            "Trained: {optimizer}, learning rate {learning_rate}, {activation}, {images} images "
            "× {epochs} epoch(s), batch {batch}, seed {seed}."
        ).format(
            optimizer=optimizer,
            learning_rate=f"{config.learning_rate:g}",
            activation=config.activation,
            images=f"{config.train_samples:,}",
            epochs=config.epochs,
            batch=config.batch_size,
            seed=config.seed,
        )
    )
    diverged_banner(results)
    row, figures, configs = st.container(), Figures(), configs_of(results)
    numbers = twin.derivation_numbers(factor, optimizer, results)
    st.markdown("#### " + _("Why runs 1 and 2 part, and why run 3 does not"))
    st.markdown(twin.derivation_markdown(optimizer, numbers))
    if optimizer in twin.ADAPTIVE:
        st.caption(_(EPSILON_NOTE))
    left, right = st.columns([3, 2])
    ratios = twin.first_step_ratios(results)
    left.dataframe(
        ratios,
        hide_index=True,
        width="stretch",
        column_config={
            "run": _("run"),
            "gradient_norm": st.column_config.NumberColumn(_("‖∇W‖, step 1"), format="%.4g"),
            "update_ratio": st.column_config.NumberColumn(_("‖ΔW‖/‖W‖, step 1"), format="%.4g"),
            "ratio_to_first": st.column_config.NumberColumn(_("× run 1"), format="%.6g"),
        },
    )
    title = _("The first step's relative change of the first kernel")
    figures.show(charts.first_step_ratio_chart(ratios), title, "first_step", configs, right)
    st.markdown("#### " + _("Pre-activations: identical at init"))
    st.caption(
        _(
            "Checkpoint 0 is init: the three histograms coincide. Drag the slider to part them. "
            "{off_scale}"
        ).format(off_scale=off_scale_caption())
    )
    histograms = charts.preactivation_chart(compare.preactivation_table(results))
    title = _("First-layer pre-activations of the three twins")
    figures.show(histograms, title, "twin_preactivations", configs)
    st.markdown("#### " + _("Curves: does run 3 lie on run 1?"))
    title = _("Loss and accuracy of the three twins")
    if seed_bands:
        table = bands.band_curves_table(
            {label: seed_bands.get(label, [result]) for label, result in results.items()}
        )
        chart = charts.band_curves_chart(table, compare.coinciding_runs(table))
    else:
        chart = curves(results)
    figures.show(chart, title, "twin_curves", configs)
    st.caption(
        _(
            "Each step's distance from run 1's loss: run 2 parts at once; run 3 stays near 0 "
            "(a gap of exactly 0, bit-identical, is drawn at {floor})."
        ).format(floor=f"{charts.GAP_FLOOR:g}")
    )
    gaps = charts.loss_gap_chart(twin.loss_gaps(results), list(results))
    figures.show(gaps, _("Each step's loss minus run 1's"), "twin_loss_gaps", configs)
    first_steps = downloads.with_config(ratios, configs)
    download_row(row, VIEW, figures, {FIRST_STEP_TABLE: first_steps})
    if config.activation in probes.RELU_LIKE and not twin.factor_is_exact(factor):
        st.caption(_(RELU_KINK_NOTE))
