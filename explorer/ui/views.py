"""The run views: Summary, Curves, Pre-activations, Saturation, Gradients and updates, Data.

`run_views(view, ...)` is a fragment: the run picker and the open view rerun alone when the
picker changes. Each view function draws one view of the selected runs.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import charts, compare, diagnosis, probes
from explorer import config as cfg
from explorer import train as training
from explorer.model import pixel_histogram
from explorer.presets import trains
from explorer.ui import quiz, runs, share

NOTHING_TRAINED = "Nothing trained yet: pick a preset and press **Train**."
NOTHING_TO_TRAIN = (
    "This set-up looks at the first layer at init: there is nothing to train. The Summary and "
    "Saturation views show it."
)
MAX_CACHED_PICTURES = 24  # init-only pictures: small, shared by every session
OFF_SCALE_CAPTION = (
    "Values that leave the bins (infinities included) are counted in the dashed bars at the "
    "ends; density is over all values, so the bins shrink as mass leaves, and the share off "
    f"scale (NaN included) is written at the top right from {charts.OFF_SCALE_NOTE:.1%}."
)


@st.cache_data(max_entries=MAX_CACHED_PICTURES, show_spinner=False)
def init_only(config: cfg.RunConfig) -> probes.InitActivations:
    return probes.init_activations(config)


def labelled_runs() -> dict[str, training.RunResult]:
    """Every finished run of the session, by its name (given once; see `runs.remember`)."""
    names = runs.run_names()
    return {names[config]: result for config, result in runs.session_runs().items()}


# A popover to rename one of the session's runs; the new name travels in the share link.
def rename_ui(kept: dict[str, training.RunResult]) -> None:
    with st.popover("Rename a run", icon=":material/edit:"), st.form("rename_form", border=False):
        old = st.selectbox("Run", list(kept))
        new = st.text_input("New name", max_chars=compare.MAX_NAME)
        if st.form_submit_button("Rename") and old is not None:
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
            st.warning(f"**{label}** diverged at step {result.diverged_step}: shown up to there.")


# The run picker and the open run view: a fragment, so picking runs reruns only this part.
@st.fragment
def run_views(view: str, init_config: cfg.RunConfig) -> None:
    kept = labelled_runs()
    by_config = {result.config: label for label, result in kept.items()}
    default = [
        by_config[key] for key in st.session_state.get("selected_keys", []) if key in by_config
    ]
    selected_labels = st.multiselect(
        "Runs to show (every finished run of this session; pick two or more to compare)",
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
    if selected:
        st.download_button(
            "Download the selected runs' history (CSV)",
            compare.history_csv(selected),
            file_name="runs.csv",
            mime="text/csv",
            on_click="ignore",  # a download needs no rerun
        )
    if view == "Summary":
        summary_view(selected, init_config)
    elif view == "Saturation":
        saturation_view(selected, init_config)
    elif not selected:
        st.info(NOTHING_TRAINED if trains(init_config) else NOTHING_TO_TRAIN)
    else:
        RUN_VIEWS[view](selected)


def summary_view(results: dict[str, training.RunResult], init_config: cfg.RunConfig) -> None:
    if not results and not trains(init_config):
        st.info(NOTHING_TO_TRAIN)
        init_view(init_config)
    elif not results:
        st.info(NOTHING_TRAINED)
    for label, result in results.items():
        st.markdown(f"#### {label}")
        left, right = st.columns([2, 3])
        left.dataframe(diagnosis.summary_table(result), hide_index=True, width="stretch")
        right.markdown("\n".join(f"- {finding}" for finding in diagnosis.diagnose(result)))


def curves_view(results: dict[str, training.RunResult]) -> None:
    diverged_banner(results)
    st.altair_chart(curves(results), width="stretch")
    st.caption(
        "Every training step's loss: the first hundred steps show whether a run starts well "
        "(A1 and A2 part there)."
    )
    st.altair_chart(
        charts.step_loss_chart(compare.step_loss_table(results), max_step=None), width="stretch"
    )


# The loss and accuracy curves, saying which runs lie on another run's line and by how much.
def curves(results: dict[str, training.RunResult]):
    table = compare.curves_table(results)
    return charts.curves_chart(table, compare.coinciding_runs(table))


def preactivations_view(results: dict[str, training.RunResult]) -> None:
    diverged_banner(results)
    st.caption(
        "First-layer z = x·W + b on a fixed probe batch (the first 512 training images); bins "
        "fixed at init. Drag the checkpoint slider under the chart. " + OFF_SCALE_CAPTION
    )
    st.altair_chart(
        charts.preactivation_chart(compare.preactivation_table(results)), width="stretch"
    )
    stats = compare.history_table(results, ["z_mean", "z_std"])
    st.altair_chart(charts.preactivation_stats_chart(stats), width="stretch")


def saturation_view(results: dict[str, training.RunResult], init_config: cfg.RunConfig) -> None:
    diverged_banner(results)
    if results:
        st.altair_chart(charts.saturation_chart(compare.layers_table(results)), width="stretch")
        st.altair_chart(
            charts.activation_histogram_chart(
                compare.activations_at_init_table(results),
                title="Hidden activations at init",
                saturation_band=probes.saturation_band(init_config.activation),
            ),
            width="stretch",
        )
    init_view(init_config)


# The B1 picture for the current controls: one layer at init on uniform random inputs.
def init_view(config: cfg.RunConfig) -> None:
    picture = init_only(config)
    if pd.isna(picture.saturated_share):
        saturation = f"{config.activation} does not saturate"
    else:
        saturation = f"**{picture.saturated_share:.0%}** of outputs saturated"
    st.markdown(
        f"**At init, no training** — first layer ({config.kernel_initializer}, "
        f"{config.activation}) fed uniform random pixels in [0, 1): {saturation}; "
        f"pre-activation std {picture.measured_preactivation_std:.3g} (expected "
        f"√(fan_in·E[x²])·std(W) = {picture.expected_preactivation_std:.3g})."
    )
    values = pd.DataFrame({"value": picture.outputs.ravel()})
    band, bins = probes.saturation_band(config.activation), probes.ACTIVATION_RANGES
    chart = charts.values_histogram_chart(
        values, "first-layer output", band, bins.get(config.activation)
    )
    st.altair_chart(chart, width="stretch")


def gradients_view(results: dict[str, training.RunResult]) -> None:
    diverged_banner(results)
    st.caption("On the last step before each checkpoint: ‖∇W‖ and ‖ΔW‖/‖W‖ for every kernel.")
    st.altair_chart(charts.gradients_chart(compare.layers_table(results)), width="stretch")


def data_view(config: cfg.RunConfig) -> None:
    data = runs.load(config.dataset)
    if data is None:
        return
    st.caption(f"{config.dataset} from {data.source}")
    if data.note:
        st.caption(data.note)
    st.image(
        list(data.train_images[:16]),
        width=56,
        caption=[str(int(label)) for label in data.train_labels[:16]],
    )
    st.altair_chart(
        charts.pixel_histogram_chart(pixel_histogram(config, data.train_images)), width="stretch"
    )


RUN_VIEWS = {
    "Curves": curves_view,
    "Pre-activations": preactivations_view,
    "Gradients and updates": gradients_view,
}
