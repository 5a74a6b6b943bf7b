"""The run views: Summary, Curves, Pre-activations, Saturation, Gradients and updates, Data.

`run_views(view, ...)` is a fragment: the run picker and the open view rerun alone when the
picker changes. Each view function draws one view of the selected runs.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import bands, charts, compare, diagnosis, downloads, export, probes
from explorer import config as cfg
from explorer import train as training
from explorer.i18n import N_, _, ngettext
from explorer.model import pixel_histogram
from explorer.presets import trains
from explorer.ui import quiz, runs, share

NOTHING_TRAINED = N_("Nothing trained yet: pick a preset and press **Train**.")
NOTHING_TO_TRAIN = N_(
    "This set-up looks at the first layer at init: there is nothing to train. The Summary and "
    "Saturation views show it."
)
MAX_CACHED_PICTURES = 24  # init-only pictures: small, shared by every session
THE_CONTROLS = N_("the controls")  # a figure's caption line for the sidebar's set-up
# The views' tables by their English names (file names); `_()` names them on the buttons.
HISTORY, STEP_LOSS, LAYERS = N_("history"), N_("step loss"), N_("layers")
PREACTIVATION_HISTOGRAMS = N_("pre-activation histograms")


def list_separator() -> str:
    """What goes between the names of a list ("a, b"), in the reader's language."""
    # TRANSLATORS: between the names of a list (initializers, runs)
    return _(", ")


def off_scale_caption() -> str:
    """What a histogram's dashed end bars and its top-right note mean."""
    return _(
        "Values that leave the bins (infinities included) are counted in the dashed bars at the "
        "ends; density is over all values, so the bins shrink as mass leaves, and the share off "
        "scale (NaN included) is written at the top right from {share}."
    ).format(share=f"{charts.OFF_SCALE_NOTE:.1%}")


class Figures:
    """The open view's figures: each drawn with its title and set-ups, and kept for the zip."""

    def __init__(self) -> None:
        self.drawn: list[tuple[str, object, dict[str, cfg.RunConfig]]] = []

    def show(self, chart, title: str, stem: str, configs: dict[str, cfg.RunConfig], where=st):
        figure = downloads.figure(chart, title, configs)
        where.altair_chart(figure, width="stretch")
        self.drawn.append((stem, figure, configs))


def configs_of(results: dict[str, training.RunResult]) -> dict[str, cfg.RunConfig]:
    return {label: result.config for label, result in results.items()}


# The open view's downloads, built only when clicked: figures as SVG + PNG, and its data.
def download_row(container, view: str, figures: Figures, tables: dict[str, pd.DataFrame]) -> None:
    stem = view.lower().replace(" ", "_")
    columns = container.columns(1 + len(tables))
    if figures.drawn:
        columns[0].download_button(
            _("Download figures (SVG + PNG)"),
            data=lambda: downloads.figures_zip(figures.drawn),
            file_name=f"{stem}_figures.zip",
            mime="application/zip",
            on_click="ignore",
            icon=":material/download:",
        )
    for column, (name, table) in zip(columns[1:], tables.items(), strict=True):
        column.download_button(
            _("Download {name} (CSV)").format(name=_(name)),
            data=lambda table=table: downloads.csv(table),
            file_name=f"{name.replace(' ', '_')}.csv",
            mime="text/csv",
            on_click="ignore",
            icon=":material/table:",
        )


@st.cache_data(max_entries=MAX_CACHED_PICTURES, show_spinner=False)
def init_only(config: cfg.RunConfig) -> probes.InitActivations:
    return probes.init_activations(config)


def labelled_runs() -> dict[str, training.RunResult]:
    """Every finished run of the session, by its name (given once; see `runs.remember`); a seed
    band is one entry, its first seed's, named with its size."""
    names, kept = runs.run_names(), runs.session_runs()
    seed_bands = {config: runs.band(config) for config in kept}
    in_bands = {member.config for band in seed_bands.values() if band for member in band[1:]}
    entries = {}
    for config, result in kept.items():
        if config in in_bands:
            continue
        name = names[config]
        if seed_bands[config]:
            name = _("{name} · {count} seeds").format(name=name, count=len(seed_bands[config]))
        entries[name] = result
    return entries


SEED_BAND = N_("every seed: the band")


# "Seeds shown": every seed as a band, or one seed; returns the seed's index, None for the band.
def seed_choice(count: int, key: str) -> int | None:
    """A segmented control over "every seed: the band", "seed #1" … "seed #count"; `key` keeps
    each place's choice its own (the run views' and a lab's)."""
    shown = st.segmented_control(
        _("Seeds shown"),
        [SEED_BAND, *range(count)],
        default=SEED_BAND,
        format_func=lambda option: (
            _(SEED_BAND) if option == SEED_BAND else _("seed #{number}").format(number=option + 1)
        ),
        key=key,
    )
    return None if shown in (None, SEED_BAND) else int(shown)


# With seed bands among the runs: show the band, or one seed of each band.
def seed_picker(selected: dict[str, training.RunResult]):
    """(bands by label, the runs to draw): a band's chosen seed, or its first seed with the
    band drawn where the view can (curves, the Summary)."""
    bands = {label: runs.band(result.config) for label, result in selected.items()}
    bands = {label: members for label, members in bands.items() if members}
    if not bands:
        return {}, selected
    shown = seed_choice(max(len(members) for members in bands.values()), key="seed_shown")
    if shown is None:
        return bands, selected
    picked = {
        label: (bands[label][min(shown, len(bands[label]) - 1)] if label in bands else result)
        for label, result in selected.items()
    }
    return {}, picked


# A popover to rename one of the session's runs; the new name travels in the share link.
def rename_ui(kept: dict[str, training.RunResult]) -> None:
    popover = st.popover(_("Rename a run"), icon=":material/edit:")
    with popover, st.form("rename_form", border=False):
        old = st.selectbox(_("Run"), list(kept))
        new = st.text_input(_("New name"), max_chars=compare.MAX_NAME)
        if st.form_submit_button(_("Rename")) and old is not None:
            try:
                runs.rename(kept[old].config, new)
            except ValueError as error:
                st.error(str(error))
                return
            st.session_state.setdefault(share.RENAMED, set()).add(kept[old].config)
            st.rerun()


def stored_results(configs: dict[str, cfg.RunConfig]) -> dict[str, training.RunResult] | None:
    """The session's results for the set-ups a lab stored, by label; None if any is gone."""
    kept = runs.session_runs()
    if not all(config in kept for config in configs.values()):
        return None
    return {label: kept[config] for label, config in configs.items()}


def diverged_banner(results: dict[str, training.RunResult]) -> None:
    for label, result in results.items():
        if result.diverged:
            st.warning(
                _("**{label}** diverged at step {step}: shown up to there.").format(
                    label=label, step=result.diverged_step
                )
            )


def band_diverged_banner(seed_bands: dict[str, list[training.RunResult]]) -> None:
    """One warning per band whose seeds diverged, saying how many and at which steps."""
    for label, members in seed_bands.items():
        steps = [result.diverged_step for result in members if result.diverged]
        if steps:
            st.warning(
                ngettext(
                    "**{label}**: {count} of {seeds} seeds diverged (at step {steps}).",
                    "**{label}**: {count} of {seeds} seeds diverged (at steps {steps}).",
                    len(steps),
                ).format(
                    label=label,
                    count=len(steps),
                    seeds=len(members),
                    steps=list_separator().join(f"{step:,}" for step in steps),
                )
            )


# The run picker and the open run view: a fragment, so picking runs reruns only this part.
@st.fragment
def run_views(view: str, init_config: cfg.RunConfig) -> None:
    kept = labelled_runs()
    by_config = {result.config: label for label, result in kept.items()}
    default = [
        by_config[key] for key in st.session_state.get("selected_keys", []) if key in by_config
    ]
    selected_labels = st.multiselect(
        _("Runs to show (every finished run of this session; pick two or more to compare)"),
        list(kept),
        default=default or list(kept)[-1:],
    )
    selected = {label: kept[label] for label in selected_labels}
    left, right = st.columns(2)
    with left:
        share.share_box(view, [result.config for result in selected.values()])
    if kept:
        with right:
            rename_ui(kept)
    if not quiz.gate(selected):
        return
    bands, selected = seed_picker(selected)
    row, figures = st.container(), Figures()  # the row is filled once the figures are drawn
    if bands and view not in ("Summary", "Curves"):
        st.caption(_("Each band's first seed is drawn here; pick a seed above to see another."))
    if view == "Summary":
        summary_view(selected, init_config, figures, bands)
    elif view == "Curves" and bands:
        curves_view(selected, figures, bands)
    elif view == "Saturation":
        saturation_view(selected, init_config, figures)
    elif not selected and not runs.data_error_shown():  # the data's message says it all
        st.info(_(NOTHING_TRAINED) if trains(init_config) else _(NOTHING_TO_TRAIN))
    else:
        RUN_VIEWS[view](selected, figures)
    tables = view_tables(view, selected) if selected else {}
    if figures.drawn or tables:
        download_row(row, view, figures, tables)


def view_tables(view: str, results: dict[str, training.RunResult]) -> dict[str, pd.DataFrame]:
    """The data behind a run view, each table with the runs' configuration columns."""
    configs = configs_of(results)
    history = downloads.with_config(compare.history_table_wide(results), configs)
    if view in ("Summary", "Curves"):
        step_loss = downloads.with_config(compare.step_loss_table(results), configs)
        return {HISTORY: history, STEP_LOSS: step_loss}
    if view == "Pre-activations":
        return {
            PREACTIVATION_HISTOGRAMS: downloads.with_config(
                compare.preactivation_table(results), configs
            ),
            HISTORY: history,
        }
    return {LAYERS: downloads.with_config(compare.layers_table(results), configs)}


def summary_view(
    results: dict[str, training.RunResult],
    init_config: cfg.RunConfig,
    figures: Figures,
    seed_bands: dict[str, list[training.RunResult]] | None = None,
) -> None:
    seed_bands = seed_bands or {}
    if not results and not trains(init_config):
        st.info(_(NOTHING_TO_TRAIN))
        init_view(init_config, figures)
    elif not results and not runs.data_error_shown():
        st.info(_(NOTHING_TRAINED))
    if len(results) > 1 and seed_bands:  # the verdict first: does a difference beat the noise?
        st.markdown(_("#### Differences against the seed spread"))
        (first, first_members), *others = [
            (label, seed_bands.get(label, [result])) for label, result in results.items()
        ]
        st.markdown(
            "\n".join(
                f"- {bands.difference_words(label, members, first, first_members)}"
                for label, members in others
            )
        )
    for label, result in results.items():
        st.markdown(f"#### {label}")
        st.caption(downloads.setup_words(result.config))
        left, right = st.columns([2, 3])
        if label in seed_bands:
            table = bands.summary_table(seed_bands[label])
            left.dataframe(table, hide_index=True, width="stretch")
            right.caption(_("The diagnosis of the band's first seed:"))
        left.dataframe(diagnosis.summary_table(result), hide_index=True, width="stretch")
        left.download_button(
            _("Download as Keras script"),
            **export.script_download(result.config, label),
            on_click="ignore",
            icon=":material/code:",
            key=f"script_{label}",
        )
        right.markdown("\n".join(f"- {finding}" for finding in diagnosis.diagnose(result)))


def curves_view(
    results: dict[str, training.RunResult],
    figures: Figures,
    seed_bands: dict[str, list[training.RunResult]] | None = None,
) -> None:
    seed_bands = seed_bands or {}
    # A band's warning counts its diverged seeds; a lone run's names its step.
    band_diverged_banner({label: seed_bands[label] for label in results if label in seed_bands})
    diverged_banner({label: run for label, run in results.items() if label not in seed_bands})
    configs = configs_of(results)
    if seed_bands:
        every = {label: seed_bands.get(label, [result]) for label, result in results.items()}
        table = bands.band_curves_table(every)
        chart = charts.band_curves_chart(table, compare.coinciding_runs(table))
        title = _("Loss and accuracy: the seeds' mean, validation's min–max band shaded")
        figures.show(chart, title, "curves", configs)
    else:
        figures.show(curves(results), _("Loss and accuracy"), "curves", configs)
    st.caption(
        _(
            "Every training step's loss: the first hundred steps show whether a run starts well "
            "(A1 and A2 part there)."
        )
    )
    step_loss = charts.step_loss_chart(compare.step_loss_table(results), max_step=None)
    figures.show(step_loss, _("Training loss of every step"), "step_loss", configs)


# The loss and accuracy curves, saying which runs lie on another run's line and by how much.
def curves(results: dict[str, training.RunResult]):
    table = compare.curves_table(results)
    return charts.curves_chart(table, compare.coinciding_runs(table))


def preactivations_view(results: dict[str, training.RunResult], figures: Figures) -> None:
    diverged_banner(results)
    st.caption(
        _(
            "First-layer z = x·W + b on a fixed probe batch (the first 512 training images); "
            "bins fixed at init. Drag the checkpoint slider under the chart. {off_scale}"
        ).format(off_scale=off_scale_caption())
    )
    configs = configs_of(results)
    histograms = charts.preactivation_chart(compare.preactivation_table(results))
    title = _("First-layer pre-activations z = x·W + b on the probe batch")
    figures.show(histograms, title, "preactivations", configs)
    stats = compare.history_table(results, ["z_mean", "z_std"])
    title = _("Mean and spread of the first-layer pre-activations")
    figures.show(charts.preactivation_stats_chart(stats), title, "preactivation_stats", configs)


def saturation_view(
    results: dict[str, training.RunResult], init_config: cfg.RunConfig, figures: Figures
) -> None:
    diverged_banner(results)
    if results:
        configs = configs_of(results)
        saturation = charts.saturation_chart(compare.layers_table(results))
        figures.show(saturation, _("Saturated and dead units per layer"), "saturation", configs)
        title = _("Hidden activations at init")
        at_init = charts.activation_histogram_chart(
            compare.activations_at_init_table(results),
            title=title,
            saturation_band=probes.saturation_band(init_config.activation),
        )
        figures.show(at_init, title, "activations_at_init", configs)
    init_view(init_config, figures)


# The B1 picture for the current controls: one layer at init on uniform random inputs.
def init_view(config: cfg.RunConfig, figures: Figures | None = None) -> None:
    picture = init_only(config)
    if pd.isna(picture.saturated_share):
        saturation = _("{activation} does not saturate").format(activation=config.activation)
    else:
        saturation = _("**{share}** of outputs saturated").format(
            share=f"{picture.saturated_share:.0%}"
        )
    st.markdown(
        _(
            "**At init, no training** — first layer ({initializer}, {activation}) fed uniform "
            "random pixels in [0, 1): {saturation}; pre-activation std {measured} (expected "
            "√(fan_in·E[x²])·std(W) = {expected})."
        ).format(
            initializer=config.kernel_initializer,
            activation=config.activation,
            saturation=saturation,
            measured=f"{picture.measured_preactivation_std:.3g}",
            expected=f"{picture.expected_preactivation_std:.3g}",
        )
    )
    values = pd.DataFrame({"value": picture.outputs.ravel()})
    band, bins = probes.saturation_band(config.activation), probes.ACTIVATION_RANGES
    chart = charts.values_histogram_chart(
        values, _("first-layer output"), band, bins.get(config.activation)
    )
    title = _("First layer at init on uniform random pixels")
    (figures or Figures()).show(chart, title, "first_layer_at_init", {_(THE_CONTROLS): config})


def gradients_view(results: dict[str, training.RunResult], figures: Figures) -> None:
    diverged_banner(results)
    st.caption(_("On the last step before each checkpoint: ‖∇W‖ and ‖ΔW‖/‖W‖ for every kernel."))
    chart = charts.gradients_chart(compare.layers_table(results))
    title = _("Gradient norms and update sizes per kernel")
    figures.show(chart, title, "gradients", configs_of(results))


def data_view(config: cfg.RunConfig) -> None:
    data = runs.load(config.dataset)
    if data is None:
        return
    st.caption(_("{dataset} from {source}").format(dataset=config.dataset, source=data.source))
    if data.note:
        st.caption(data.note)
    st.image(
        list(data.train_images[:16]),
        width=56,
        caption=[str(int(label)) for label in data.train_labels[:16]],
    )
    chart = charts.pixel_histogram_chart(pixel_histogram(config, data.train_images))
    title = _("Pixel values the first layer sees")
    Figures().show(chart, title, "pixels", {_(THE_CONTROLS): config})


RUN_VIEWS = {
    "Curves": curves_view,
    "Pre-activations": preactivations_view,
    "Gradients and updates": gradients_view,
}
