"""The Twin lab: puzzle A answered with three runs that share their pre-activations at init."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import bands, charts, compare, downloads, probes, twin
from explorer import config as cfg
from explorer import train as training
from explorer.i18n import N_, _, ngettext
from explorer.setups import TwinSetup
from explorer.ui import quiz, runs, share
from explorer.ui import setup_widgets as widgets
from explorer.ui.views import (
    Figures,
    band_diverged_banner,
    configs_of,
    curves,
    diverged_banner,
    download_row,
    off_scale_caption,
    seed_choice,
    stored_results,
)

VIEW = "Twin lab"  # the tab this lab is drawn in (a link's view)
TRAIN_BUTTON = N_("Train the three twins")
FIRST_STEP_TABLE = N_("first-step table")  # the download's name (English: its file name)
INTRO = N_(
    "**Puzzle A, answered with twins.** Three runs of the sidebar's set-up start with the same "
    "first-layer pre-activations: **1** inputs ÷c; **2** raw inputs with the first layer's "
    "weights ÷c; **3** run 2 with the exact correction for the optimizer. The lab sets the input "
    "scaling, the weight scale (first layer only) and the first-layer learning rate; everything "
    "else (data, model, initializer, learning rate, batch, epochs, seed) comes from the sidebar. "
    "With several seeds per set-up, each seed trains its own three twins."
)
EPSILON_NOTE = N_(
    "Adam and RMSprop also need epsilon ×c, because it is added to a gradient size that is c "
    "times larger. The engine does this by itself: the first kernel's epsilon follows the weight "
    "scale (×c for Adam; ×c² for RMSprop, whose Keras epsilon sits inside the square root). So "
    "run 3 only sets its first-layer learning rate ÷c."
)
BAND_TABLE_NOTE = N_(
    "Mean over the seeds, with their range. × run 1 is taken within each seed, against run 1 of "
    "the same seed: run 3's stays at about 1 on every seed, while ‖ΔW‖/‖W‖ itself varies from "
    "seed to seed."
)
POOLED_NOTE = N_(
    "Every seed pooled: each twin's histogram adds its seeds' counts on common bins (the range "
    "every seed's bins cover; a seed's bin is spread evenly over the common bins it overlaps, "
    "what lies beyond goes to the end bars), so the density is that of all the seeds' values "
    "together."
)
SEED_KEY = "twin_seed_shown"  # the lab's own "Seeds shown" (the run views' is seed_shown)
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
        count = share.seeds()
        st.info(
            ngettext(
                "Press **{button}** to train them ({count} seed, three runs).",
                "Press **{button}** to train them ({count} seeds, three runs each).",
                count,
            ).format(button=_(TRAIN_BUTTON), count=count)
        )
        return
    if quiz.gate(results):
        results_view(lab["setup"], results)


def results_view(setup: TwinSetup, results: dict[str, training.RunResult]) -> None:
    # Twins of the same seed are twins: seed k of every twin, first seed first.
    seeds = twin.twins_by_seed(
        {label: runs.band(result.config) or [result] for label, result in results.items()}
    )
    picked = seed_choice(len(seeds), SEED_KEY) if len(seeds) > 1 else None
    banded = len(seeds) > 1 and picked is None
    if picked is not None:
        results = seeds[picked]
    if len(seeds) > 1:
        st.caption(seeds_caption(seeds, picked))
    factor, optimizer = setup.factor, setup.optimizer
    config = next(iter(results.values())).config
    every_seed = [next(iter(twins.values())).config.seed for twins in seeds]
    trained_caption(optimizer, every_seed if banded else [config.seed], config)
    if banded:
        band_diverged_banner(band_members(seeds))
    else:
        diverged_banner(results)
    row, figures, configs = st.container(), Figures(), configs_of(results)
    if banded:  # a figure's caption: each twin's band, named after its first seed's set-up
        configs = {
            _("{name} · {count} seeds").format(name=label, count=len(seeds)): config
            for label, config in configs.items()
        }
    numbers = twin.derivation_numbers(factor, optimizer, results)  # seed #1's in a band
    st.markdown("#### " + _("Why runs 1 and 2 part, and why run 3 does not"))
    st.markdown(twin.derivation_markdown(optimizer, numbers))
    if banded:
        per_seed = twin.first_step_seeds(seeds)
        band = twin.first_step_band(per_seed)
        st.caption(
            _("The numbers above are seed #1's (seed {seed}). {ranges}").format(
                seed=next(iter(results.values())).config.seed,
                ranges=twin.seed_range_words(band),
            )
        )
    if optimizer in twin.ADAPTIVE:
        st.caption(_(EPSILON_NOTE))
    # A band's table holds a range in every cell: it takes the width, with its chart below.
    left, right = (st.container(), st.container()) if banded else st.columns([3, 2])
    title = _("The first step's relative change of the first kernel")
    if banded:
        first_step_band_table(left, band)
        figures.show(charts.first_step_ratio_chart(band), title, "first_step", configs, right)
    else:
        ratios = twin.first_step_ratios(results)
        first_step_table(left, ratios)
        figures.show(charts.first_step_ratio_chart(ratios), title, "first_step", configs, right)
    st.markdown("#### " + _("Pre-activations: identical at init"))
    st.caption(
        _(
            "Checkpoint 0 is init: the three histograms coincide. Drag the slider to part them. "
            "{off_scale}"
        ).format(off_scale=off_scale_caption())
    )
    if banded:
        st.caption(_(POOLED_NOTE))
        histograms = bands.pooled_preactivation_table(band_members(seeds))
    else:
        histograms = compare.preactivation_table(results)
    title = _("First-layer pre-activations of the three twins")
    figures.show(charts.preactivation_chart(histograms), title, "twin_preactivations", configs)
    st.markdown("#### " + _("Curves: does run 3 lie on run 1?"))
    title = _("Loss and accuracy of the three twins")
    if banded:
        table = bands.band_curves_table(band_members(seeds))
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
    if banded:
        st.caption(_("One line per twin and seed: each seed's gap to run 1 of the same seed."))
    gaps = twin.loss_gap_seeds(seeds) if banded else twin.loss_gaps(results)
    chart = charts.loss_gap_chart(gaps, list(results))
    figures.show(chart, _("Each step's loss minus run 1's"), "twin_loss_gaps", configs)
    # Every seed's rows, each with its own set-up (its seed among the columns).
    first_steps = pd.concat(
        [
            downloads.with_config(twin.first_step_ratios(twins), configs_of(twins))
            for twins in (seeds if banded else [results])
        ],
        ignore_index=True,
    )
    download_row(row, VIEW, figures, {FIRST_STEP_TABLE: first_steps})
    if config.activation in probes.RELU_LIKE and not twin.factor_is_exact(factor):
        st.caption(_(RELU_KINK_NOTE))


def band_members(
    seeds: list[dict[str, training.RunResult]],
) -> dict[str, list[training.RunResult]]:
    """Each twin's seeds, from the twins of each seed."""
    return {label: [twins[label] for twins in seeds] for label in seeds[0]}


def seeds_caption(seeds: list[dict[str, training.RunResult]], picked: int | None) -> str:
    """What the lab shows: every seed's band, or one seed's three twins."""
    if picked is None:
        return _(
            "Each twin trained {count} seeds, and the twins of one seed are twins (the same "
            "seed, differing only by the scaling). Every seed: the curves show each twin's band, "
            "the first-step table its mean and range, the histograms pool the seeds, and the gap "
            "chart draws each seed's gap to run 1 of its own seed. Pick a seed to read it alone."
        ).format(count=len(seeds))
    seed = next(iter(seeds[picked].values())).config.seed
    return _(
        "Seed #{number} of {count} (seed {seed}): the derivation, first steps, histograms, "
        "curves and gaps below are this seed's three twins."
    ).format(number=picked + 1, count=len(seeds), seed=seed)


def trained_caption(optimizer: str, seeds: list[int], config: cfg.RunConfig) -> None:
    """The set-up the twins share, and their seed (or every seed, drawn as a band)."""
    if len(seeds) > 1:
        seed_words = _("seeds {first}–{last}").format(first=seeds[0], last=seeds[-1])
    else:
        seed_words = _("seed {seed}").format(seed=seeds[0])
    st.caption(
        _(
            "Trained: {optimizer}, learning rate {learning_rate}, {activation}, {images} images "
            "× {epochs} epoch(s), batch {batch}, {seeds}."
        ).format(
            optimizer=optimizer,
            learning_rate=f"{config.learning_rate:g}",
            activation=config.activation,
            images=f"{config.train_samples:,}",
            epochs=config.epochs,
            batch=config.batch_size,
            seeds=seed_words,
        )
    )


FIRST_STEP_DIGITS = {"gradient_norm": ".4g", "update_ratio": ".4g", "ratio_to_first": ".6g"}


def first_step_titles() -> dict[str, str]:
    """The first-step tables' column titles, in the reader's language."""
    return {
        "run": _("run"),
        "gradient_norm": _("‖∇W‖, step 1"),
        "update_ratio": _("‖ΔW‖/‖W‖, step 1"),
        "ratio_to_first": _("× run 1"),
    }


def first_step_table(where, ratios) -> None:
    """One seed's first step: each twin's numbers, × run 1 against that seed's run 1."""
    titles = first_step_titles()
    numbers = {
        measure: st.column_config.NumberColumn(titles[measure], format=f"%{spec}")
        for measure, spec in FIRST_STEP_DIGITS.items()
    }
    where.dataframe(ratios, hide_index=True, width="stretch", column_config={**titles, **numbers})


def first_step_band_table(where, band) -> None:
    """Every seed's first step: each twin's mean with the seeds' range, as text."""
    shown = band[["run"]].copy()
    for measure, spec in FIRST_STEP_DIGITS.items():
        shown[measure] = [
            _with_range(row[measure], row[f"{measure}_low"], row[f"{measure}_high"], spec)
            for _index, row in band.iterrows()
        ]
    shown["seeds"] = band["seeds"]
    where.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={**first_step_titles(), "seeds": _("seeds")},
    )
    where.caption(_(BAND_TABLE_NOTE))


def _with_range(mean: float, low: float, high: float, spec: str) -> str:
    """ "0.0131 (range 0.0128–0.0135)"; the mean alone where the digits shown cannot tell the
    seeds apart."""
    mean_text, low_text, high_text = (format(value, spec) for value in (mean, low, high))
    if low_text == high_text:
        return mean_text
    return _("{mean} (range {low}–{high})").format(mean=mean_text, low=low_text, high=high_text)
