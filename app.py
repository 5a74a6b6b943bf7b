"""Initialization & Scaling Explorer: the Streamlit page.

Sidebar functions draw widgets and return plain values; the `explorer` package computes; view
functions draw. Every control is keyed by its `RunConfig` field and bound to the URL.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's chatter out of the logs

from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from explorer import charts, compare, diagnosis, links, probes, saturation, sweep, twin
from explorer import config as cfg
from explorer import train as training
from explorer.model import input_rescaling
from explorer.presets import COMPARISON_SETS, PRESETS
from explorer.ui import runs
from explorer.ui.link import clean_link, show_link_problems
from explorer.ui.text import problem_markdown

TITLE = "Initialization & Scaling Explorer"
INTRO = (
    "Train a small Keras MLP on MNIST or Fashion-MNIST and see why input scaling and weight "
    "initialization decide whether it learns. Pick a preset, press **Train**, change one knob, "
    "and compare the runs: curves, first-layer pre-activations, saturation and update sizes."
)
CUSTOM = links.CUSTOM
QUICK_LOOK_SAMPLES = 10_000  # a hosted app on a small CPU share trains on this subset
QUICK_LOOK_VALIDATION = 2_000
MAX_CACHED_RUNS = 24  # each result is a few hundred kB; bounded so a host's memory stays flat
DEFAULTS = cfg.RunConfig()
NON_CONFIG_KEYS = ("preset", "quick")
LAB_KEYS = (*twin.QUERY_KEYS, *sweep.QUERY_KEYS, *saturation.QUERY_KEYS)
TWIN_INTRO = (
    "**Puzzle A, answered on one seed.** Three runs of the sidebar's set-up start with the same "
    "first-layer pre-activations: **1** inputs ÷c; **2** raw inputs with the first layer's "
    "weights ÷c; **3** run 2 with the exact correction for the optimizer. The lab sets the input "
    "scaling, the weight scale (first layer only) and the first-layer learning rate; everything "
    "else (data, model, initializer, learning rate, batch, epochs, seed) comes from the sidebar."
)
EPSILON_NOTE = (
    "Adam and RMSprop also need epsilon ×c, because it is added to a gradient size that is c "
    "times larger. The engine does this by itself: the first kernel's epsilon follows the weight "
    "scale (×c for Adam; ×c² for RMSprop, whose Keras epsilon sits inside the square root). So "
    "run 3 only sets its first-layer learning rate ÷c."
)
RELU_KINK_NOTE = (
    "With ReLU-like units and a c that is not a power of two, ÷c is rounded in float32: after "
    "a few hundred steps one z can land on the other side of the kink at 0 and run 3 leaves "
    "run 1 (a jump in the gap chart). c = 256 is exact: runs 1 and 3 then agree to the last bit."
)
SWEEP_INTRO = (
    "**One knob, many runs.** Each value trains the sidebar's set-up with that one knob changed; "
    "every run is cached, so widening a sweep only trains the new values."
)
SATURATION_INTRO = (
    "**Puzzle B at init, no training.** The first hidden layer of the sidebar's model (its "
    "width, bias, weight scale and seed) with the initializer, activation and input chosen here."
)


# --- engine calls, cached ----------------------------------------------------------------------


@st.cache_data(max_entries=MAX_CACHED_RUNS, show_spinner=False)
def init_only(config: cfg.RunConfig) -> probes.InitActivations:
    return probes.init_activations(config)


# --- sidebar ------------------------------------------------------------------------------------


# Fill every control from the chosen preset (a callback: it runs before the widgets are drawn).
def apply_preset() -> None:
    key = st.session_state.get("preset", CUSTOM)
    if key in PRESETS:
        for name, value in widget_values(PRESETS[key].config).items():
            st.session_state[name] = value


# On a link's first load, a preset fills the controls the link does not set (or sets badly).
def preset_from_link() -> None:
    if "link_loaded" in st.session_state:
        return
    st.session_state["link_loaded"] = True
    key = st.query_params.get("preset")
    if key in PRESETS:
        for name, value in widget_values(PRESETS[key].config).items():
            given = st.query_params.get(name)
            if given is None or cfg.parse_query({name: given})[1]:
                st.session_state[name] = value


# On Train: controls that no longer match the preset make it Custom, so a link stays exact.
def sync_preset() -> None:
    key = st.session_state.get("preset", CUSTOM)
    if key in PRESETS:
        values = {name: st.session_state.get(name) for name in cfg.FIELD_NAMES}
        if values != widget_values(PRESETS[key].config):
            st.session_state["preset"] = CUSTOM


def widget_values(config: cfg.RunConfig) -> dict:
    values = {name: getattr(config, name) for name in cfg.FIELD_NAMES}
    values["hidden_units"] = ",".join(map(str, config.hidden_units))
    return values


# Preset picker, set buttons and the quick-look switch; returns (preset key, quick look).
def preset_ui() -> tuple[str, bool]:
    options = [CUSTOM, *PRESETS]
    st.sidebar.selectbox(
        "Preset",
        options,
        key="preset",
        bind="query-params",
        on_change=apply_preset,
        help="Fills the controls with an exact set-up of one of the two source experiments.",
    )
    key = st.session_state.get("preset", CUSTOM)
    if key in PRESETS:
        st.sidebar.caption(f"**{PRESETS[key].title}.** {PRESETS[key].description}")
    quick = st.sidebar.toggle(
        "Quick look (10,000 training images)",
        key="quick",
        bind="query-params",
        help="For a hosted app on a small CPU share. Off: presets run at their sources' size.",
    )
    for name, keys in COMPARISON_SETS.items():
        if key in keys and st.sidebar.button(
            f"Train {', '.join(keys)} and compare", key=f"train_set_{name}", width="stretch"
        ):
            st.session_state["pending_set"] = keys
    return key, quick


def _choice(container, name: str, label: str, options, help_text: str | None = None):
    return container.selectbox(
        label,
        options,
        index=list(options).index(getattr(DEFAULTS, name)),
        key=name,
        bind="query-params",
        help=help_text,
    )


def _number(container, name: str, label: str, help_text: str | None = None, **limits):
    default = getattr(DEFAULTS, name)
    is_int = isinstance(default, int)
    # The widget's limits are the config's (one place), so a link's value that the checker
    # kept is one the widget takes.
    low, high = (cfg.INT_RANGES if is_int else cfg.FLOAT_RANGES)[name]
    limits = {"min_value": low, "max_value": high, **limits}
    return container.number_input(
        label,
        value=default,
        key=name,
        bind="query-params",
        help=help_text,
        format=None if is_int else "%g",
        step=None if not is_int else limits.pop("step", 1),
        **limits,
    )


# All the run's knobs inside one form, so editing never interrupts a run; returns the raw values
# and whether Train was pressed.
def controls_ui() -> tuple[dict, bool]:
    values = {}
    with st.sidebar.form("controls", border=False):
        st.subheader("Data")
        values["dataset"] = _choice(st, "dataset", "Dataset", cfg.DATASETS)
        left, right = st.columns(2)
        values["train_samples"] = _number(
            left,
            "train_samples",
            "Training images",
            step=1000,
        )
        values["validation_samples"] = _number(
            right,
            "validation_samples",
            "Validation images",
            step=500,
        )
        values["validation_source"] = _choice(
            st,
            "validation_source",
            "Validation from",
            cfg.VALIDATION_SOURCES,
            "holdout: the last images of the training set; test: the test set.",
        )
        values["input_scaling"] = _choice(st, "input_scaling", "Input scaling", cfg.INPUT_SCALINGS)
        values["input_divisor"] = _number(
            st,
            "input_divisor",
            "Divide pixels by",
            "1 keeps raw 0–255 pixels; 255 maps to [0, 1].",
        )

        st.subheader("Model")
        values["hidden_units"] = st.text_input(
            "Hidden layer widths",
            value="300,100",
            key="hidden_units",
            bind="query-params",
            help="1 to 4 comma-separated widths, each 1–1024. The output is Dense(10, softmax).",
        )
        values["activation"] = _choice(st, "activation", "Hidden activation", cfg.ACTIVATIONS)

        st.subheader("Initialization")
        values["kernel_initializer"] = _choice(
            st,
            "kernel_initializer",
            "Kernel initializer",
            cfg.KERNEL_INITIALIZERS,
            "glorot_normal_untruncated is seed A's N(0, √(2/(fan_in+fan_out))).",
        )
        values["init_param"] = _number(
            st,
            "init_param",
            "Stddev (normal) or limit (uniform)",
            "Used by random_normal, truncated_normal and random_uniform.",
        )
        values["init_scope"] = _choice(
            st,
            "init_scope",
            "Initializer applies to",
            cfg.LAYER_SCOPES,
            "Other layers get Keras's default, GlorotUniform.",
        )
        left, right = st.columns(2)
        values["weight_scale"] = _number(left, "weight_scale", "Divide weights by")
        values["weight_scale_scope"] = _choice(
            right, "weight_scale_scope", "…in layers", cfg.WEIGHT_SCALE_SCOPES
        )
        values["bias_initializer"] = _choice(
            st, "bias_initializer", "Bias initializer", cfg.BIAS_INITIALIZERS
        )

        st.subheader("Training")
        left, right = st.columns(2)
        values["loss"] = _choice(left, "loss", "Loss", cfg.LOSSES)
        values["optimizer"] = _choice(right, "optimizer", "Optimizer", cfg.OPTIMIZERS)
        left, right = st.columns(2)
        values["learning_rate"] = _number(left, "learning_rate", "Learning rate")
        values["first_layer_lr_multiplier"] = _number(
            right,
            "first_layer_lr_multiplier",
            "First-layer lr ×",
            "Multiplies the first kernel's learning rate; 1/65025 turns A2 into A3.",
        )
        left, right = st.columns(2)
        values["batch_size"] = _number(left, "batch_size", "Batch size")
        values["epochs"] = _number(right, "epochs", "Epochs")
        left, right = st.columns(2)
        values["seed"] = _number(left, "seed", "Random seed")
        values["checkpoints_per_epoch"] = _number(
            right, "checkpoints_per_epoch", "Checkpoints / epoch"
        )
        pressed = st.form_submit_button(
            "Train", type="primary", width="stretch", on_click=sync_preset
        )
    return values, pressed


def config_from_values(values: dict) -> tuple[cfg.RunConfig | None, list[str]]:
    """The config the controls describe, or None and the problems as markdown."""
    params = {name: str(value) for name, value in values.items()}
    # The widths are typed text: checked as a link's value is, so it is echoed as literal text.
    _, typed = links.check_value("hidden_units", params["hidden_units"])
    if typed is not None:
        return None, [problem_markdown(typed, from_link=False)]
    config, problems = cfg.parse_query(params)
    return (None, problems) if problems else (config, [])


def quick_look(config: cfg.RunConfig, quick: bool) -> cfg.RunConfig:
    """What is trained: with quick look on, at most 10,000 training and 2,000 validation images."""
    if not quick:
        return config
    return config.replace(
        train_samples=min(config.train_samples, QUICK_LOOK_SAMPLES),
        validation_samples=min(config.validation_samples, QUICK_LOOK_VALIDATION),
    )


def share_link(config: cfg.RunConfig, preset: str, quick: bool) -> str:
    query = {"preset": preset, **config.to_query()} if preset != CUSTOM else config.to_query()
    if quick:
        query["quick"] = "true"
    # The labs' controls: their state (drawn below this link, so the URL may lag a run) or,
    # on a link's first run, the link's own values.
    for key in LAB_KEYS:
        value = st.session_state.get(key, st.query_params.get(key))
        if value is not None:
            query[key] = str(value)
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(query)}"


# --- training -----------------------------------------------------------------------------------


# Results kept in the session, by label, for the set-ups a lab stored; None if any is gone.
def stored_results(configs: dict[str, cfg.RunConfig]) -> dict[str, training.RunResult] | None:
    kept = runs.session_runs()
    if not all(config in kept for config in configs.values()):
        return None
    return {label: kept[config] for label, config in configs.items()}


def session_runs() -> dict[str, training.RunResult]:
    """Every finished run of the session, by label naming what differs between them."""
    kept = list(runs.session_runs().values())
    labels = compare.run_labels([run.config for run in kept])
    return dict(zip(labels, kept, strict=True))


# --- views ----------------------------------------------------------------------------------------


def diverged_banner(results: dict[str, training.RunResult]) -> None:
    for label, result in results.items():
        if result.diverged:
            st.warning(f"**{label}** diverged at step {result.diverged_step}: shown up to there.")


def summary_view(results: dict[str, training.RunResult]) -> None:
    for label, result in results.items():
        st.markdown(f"#### {label}")
        left, right = st.columns([2, 3])
        left.dataframe(diagnosis.summary_table(result), hide_index=True, width="stretch")
        right.markdown("\n".join(f"- {finding}" for finding in diagnosis.diagnose(result)))


def curves_view(results: dict[str, training.RunResult]) -> None:
    diverged_banner(results)
    st.altair_chart(charts.curves_chart(compare.curves_table(results)), width="stretch")
    st.caption(
        "Every training step's loss: the first hundred steps show whether a run starts well "
        "(A1 and A2 part there)."
    )
    st.altair_chart(
        charts.step_loss_chart(compare.step_loss_table(results), max_step=None), width="stretch"
    )


def preactivations_view(results: dict[str, training.RunResult]) -> None:
    diverged_banner(results)
    st.caption(
        "First-layer z = x·W + b on a fixed probe batch (the first 512 training images); bins "
        "fixed at init. Drag the checkpoint slider under the chart."
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
        band = probes.ACTIVATION_RANGES.get(init_config.activation)
        st.altair_chart(
            charts.activation_histogram_chart(
                compare.activations_at_init_table(results),
                title="Hidden activations at init",
                saturation_band=(probes.SATURATION_LOW, probes.SATURATION_HIGH)
                if band == (0.0, 1.0)
                else None,
            ),
            width="stretch",
        )
    init_view(init_config)


# The B1 picture for the current controls: one layer at init on uniform random inputs.
def init_view(config: cfg.RunConfig) -> None:
    picture = init_only(config)
    if np.isnan(picture.saturated_share):
        saturation = f"{config.activation} does not saturate"
    else:
        saturation = f"**{picture.saturated_share:.0%}** of outputs saturated"
    st.markdown(
        f"**At init, no training** — first layer ({config.kernel_initializer}, "
        f"{config.activation}) fed uniform random pixels in [0, 1): {saturation}; "
        f"pre-activation std {picture.measured_preactivation_std:.3g} (expected "
        f"√(fan_in·E[x²])·std(W) = {picture.expected_preactivation_std:.3g})."
    )
    values = {"value": picture.outputs.ravel()}
    band = (
        (probes.SATURATION_LOW, probes.SATURATION_HIGH) if config.activation == "sigmoid" else None
    )
    st.altair_chart(
        charts.values_histogram_chart(pd.DataFrame(values), "first-layer output", band),
        width="stretch",
    )


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
        [image for image in data.train_images[:16]],
        width=56,
        caption=[str(int(label)) for label in data.train_labels[:16]],
    )
    pixels = data.train_images[:1000].reshape(-1).astype(np.float64)
    scale, offset = input_rescaling(config, data.train_images.reshape(-1, 784))
    counts, edges = np.histogram(pixels * scale + offset, bins=50)
    frame = pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "count": counts})
    st.altair_chart(charts.pixel_histogram_chart(frame), width="stretch")


# --- labs ---------------------------------------------------------------------------------------


# The twin lab's own form: the factor c and the optimizer; returns them and whether it was pressed.
def twin_controls_ui() -> tuple[float, str, bool]:
    with st.form("twin_form"):
        left, right = st.columns(2)
        factor = left.number_input(
            "Factor c",
            value=255.0,
            min_value=twin.MIN_FACTOR,
            max_value=twin.MAX_FACTOR,
            format="%g",
            key="twin_factor",
            bind="query-params",
            help="Run 1 divides the inputs by c; runs 2 and 3 divide the first-layer weights.",
        )
        optimizer = right.selectbox(
            "Optimizer of the three runs", cfg.OPTIMIZERS, key="twin_optimizer", bind="query-params"
        )
        pressed = st.form_submit_button("Train the three twins", type="primary")
    return factor, optimizer, pressed


# Puzzle A answered: three runs, their histograms, curves, first steps and the derivation.
def twin_view(base: cfg.RunConfig | None) -> None:
    st.markdown(TWIN_INTRO)
    factor, optimizer, pressed = twin_controls_ui()
    if base is None:
        st.info("The twin lab builds on the sidebar's set-up: fix its problems first.")
        return
    try:
        configs = twin.twin_configs(base, factor, optimizer)
    except ValueError as error:
        st.error(str(error))
        return
    if optimizer in twin.ADAPTIVE and base.learning_rate > 0.01:
        st.caption(
            f"{optimizer} usually wants a learning rate near 0.001; the sidebar's is "
            f"{base.learning_rate:g}."
        )
    if pressed and runs.start("twin", configs, "the twin lab"):
        st.session_state["twin_next"] = {"factor": factor, "optimizer": optimizer, "keys": configs}
    if runs.run_pending("twin", "twin") is not None:
        st.session_state["twin_lab"] = st.session_state["twin_next"]
    lab = st.session_state.get("twin_lab")
    results = stored_results(lab["keys"]) if lab else None
    if not results:
        st.info("Press **Train the three twins** to train them (one seed, three runs).")
        return
    twin_results_view(lab["factor"], lab["optimizer"], results)


def twin_results_view(
    factor: float, optimizer: str, results: dict[str, training.RunResult]
) -> None:
    config = next(iter(results.values())).config
    st.caption(
        f"Trained: {optimizer}, learning rate {config.learning_rate:g}, {config.activation}, "
        f"{config.train_samples:,} images × {config.epochs} epoch(s), batch "
        f"{config.batch_size}, seed {config.seed}."
    )
    diverged_banner(results)
    numbers = twin.derivation_numbers(factor, optimizer, results)
    st.markdown("#### Why runs 1 and 2 part, and why run 3 does not")
    st.markdown(twin.derivation_markdown(optimizer, numbers))
    if optimizer in twin.ADAPTIVE:
        st.caption(EPSILON_NOTE)
    left, right = st.columns([3, 2])
    ratios = twin.first_step_ratios(results)
    left.dataframe(
        ratios,
        hide_index=True,
        width="stretch",
        column_config={
            "run": "run",
            "gradient_norm": st.column_config.NumberColumn("‖∇W‖, step 1", format="%.4g"),
            "update_ratio": st.column_config.NumberColumn("‖ΔW‖/‖W‖, step 1", format="%.4g"),
            "ratio_to_first": st.column_config.NumberColumn("× run 1", format="%.6g"),
        },
    )
    right.altair_chart(charts.first_step_ratio_chart(ratios), width="stretch")
    st.markdown("#### Pre-activations: identical at init")
    st.caption("Checkpoint 0 is init: the three histograms coincide. Drag the slider to part them.")
    st.altair_chart(
        charts.preactivation_chart(compare.preactivation_table(results)), width="stretch"
    )
    st.markdown("#### Curves: run 3 lies on run 1")
    st.altair_chart(charts.curves_chart(compare.curves_table(results)), width="stretch")
    st.caption(
        "Each step's distance from run 1's loss: run 2 parts at once; run 3 stays near 0 "
        f"(a gap of exactly 0, bit-identical, is drawn at {charts.GAP_FLOOR:g})."
    )
    st.altair_chart(charts.loss_gap_chart(twin.loss_gaps(results), list(results)), width="stretch")
    if config.activation in probes.RELU_LIKE and not float(np.log2(factor)).is_integer():
        st.caption(RELU_KINK_NOTE)


# The sweep's own form; returns knob, scale, from, to, count and whether it was pressed.
def sweep_controls_ui() -> tuple[str, str, float, float, int, bool]:
    with st.form("sweep_form"):
        left, right = st.columns(2)
        knob = left.selectbox(
            "Knob",
            list(sweep.SWEEP_KNOBS),
            index=list(sweep.SWEEP_KNOBS).index("learning_rate"),
            key="sweep_knob",
            bind="query-params",
            help="hidden_width gives every hidden layer the same width; init_stddev needs "
            "random_normal, truncated_normal or random_uniform.",
        )
        scale = right.selectbox("Spacing", sweep.SCALES, key="sweep_scale", bind="query-params")
        first, second, third = st.columns(3)
        start = first.number_input(
            "From", value=0.001, format="%g", key="sweep_from", bind="query-params"
        )
        stop = second.number_input(
            "To", value=1.0, format="%g", key="sweep_to", bind="query-params"
        )
        count = third.number_input(
            "Values",
            value=4,
            min_value=sweep.MIN_COUNT,
            max_value=sweep.MAX_COUNT,
            step=1,
            key="sweep_count",
            bind="query-params",
        )
        pressed = st.form_submit_button("Run the sweep", type="primary")
    return knob, scale, start, stop, int(count), pressed


# One knob across a range: every value a cached run, read against the knob.
def sweep_view(base: cfg.RunConfig | None) -> None:
    st.markdown(SWEEP_INTRO)
    knob, scale, start, stop, count, pressed = sweep_controls_ui()
    spec = sweep.SWEEP_KNOBS[knob]
    st.caption(
        "Ranges worth a first look: "
        + "; ".join(f"{name} {k.start:g}–{k.stop:g}" for name, k in sweep.SWEEP_KNOBS.items())
        + "."
    )
    if base is None:
        st.info("The sweep builds on the sidebar's set-up: fix its problems first.")
        return
    try:
        values = sweep.sweep_values(start, stop, count, scale, integer=spec.integer)
        configs = sweep.sweep_configs(base, knob, values)
    except ValueError as error:
        st.error(str(error))
        return
    st.caption(
        f"{len(values)} runs of {base.total_steps:,} steps, {spec.field} = "
        + ", ".join(f"{value:g}" for value in values)
    )
    labels = {f"{knob} = {value:g}": config for value, config in zip(values, configs, strict=True)}
    if pressed and runs.start("sweep", labels, "this sweep"):
        st.session_state["sweep_next"] = {
            "knob": knob,
            "values": values,
            "log": scale == "log",
            "keys": labels,
        }
    if runs.run_pending("sweep", "value") is not None:
        st.session_state["sweep_lab"] = st.session_state["sweep_next"]
    lab = st.session_state.get("sweep_lab")
    results = stored_results(lab["keys"]) if lab else None
    if not results:
        st.info("Press **Run the sweep** to train every value.")
        return
    diverged_banner(results)
    table = sweep.sweep_table(lab["knob"], lab["values"], list(results.values()))
    title = sweep.SWEEP_KNOBS[lab["knob"]].label
    st.altair_chart(charts.sweep_chart(table, title, log_x=lab["log"]), width="stretch")
    st.caption(
        "Final validation accuracy and loss (a diverged run is a red cross at the bottom) and the "
        "first layer at init, measured on the probe batch."
    )


# The saturation lab's controls, drawn live (nothing trains); returns them.
def saturation_controls_ui() -> tuple[str, str, float, str]:
    left, middle, right, last = st.columns(4)
    initializer = left.selectbox(
        "Initializer",
        cfg.KERNEL_INITIALIZERS,
        index=cfg.KERNEL_INITIALIZERS.index("random_normal"),
        key="sat_initializer",
        bind="query-params",
    )
    activation = middle.selectbox(
        "Activation", cfg.ACTIVATIONS, key="sat_activation", bind="query-params"
    )
    stddev = right.number_input(
        "Stddev (or limit)",
        value=1.0,
        min_value=cfg.FLOAT_RANGES["init_param"][0],
        max_value=cfg.FLOAT_RANGES["init_param"][1],
        format="%g",
        key="sat_stddev",
        bind="query-params",
        help="For random_normal, truncated_normal and random_uniform; 1.0 is the B1 source.",
    )
    input_kind = last.selectbox(
        "Input",
        list(saturation.INPUT_KINDS),
        key="sat_input",
        bind="query-params",
        help="; ".join(f"{key}: {text}" for key, text in saturation.INPUT_KINDS.items()),
    )
    return initializer, activation, stddev, input_kind


# `_images` (None for uniform inputs) is not hashed: the dataset follows from the config.
@st.cache_data(max_entries=MAX_CACHED_RUNS, show_spinner=False)
def lab_picture(
    config: cfg.RunConfig, input_kind: str, _images: np.ndarray | None
) -> probes.InitActivations:
    return saturation.saturation_lab(config, input_kind, _images)


# Puzzle B for any initializer, activation and input: the histogram, and std(z) against theory.
def saturation_lab_view(base: cfg.RunConfig) -> None:
    st.markdown(SATURATION_INTRO)
    initializer, activation, stddev, input_kind = saturation_controls_ui()
    images = None
    if input_kind != "uniform":
        data = runs.load(base.dataset)
        if data is None:
            return
        images = data.train_images
    try:
        config = saturation.lab_config(base, initializer, activation, stddev, input_kind)
        picture = lab_picture(config, input_kind, images)
    except ValueError as error:
        st.error(str(error))
        return
    words, share = saturation.saturation_words(activation, picture)
    chart_column, numbers = st.columns([3, 1])
    with numbers:
        if words:
            st.metric(f"Share {words}", f"{share:.1%}")
        else:
            st.metric("Share saturated", "n/a", help=f"{activation} does not saturate")
        st.metric("Expected std(z)", f"{picture.expected_preactivation_std:.4g}")
        st.metric("Measured std(z)", f"{picture.measured_preactivation_std:.4g}")
        st.caption(
            "Expected: √(fan_in · E[x²]) · std(W), with fan_in = 784, E[x²] of these inputs and "
            "std(W) measured on the drawn kernel (not the initializer's nominal value)."
        )
    band = (probes.SATURATION_LOW, probes.SATURATION_HIGH) if activation == "sigmoid" else None
    frame = saturation.output_histogram(activation, picture).assign(
        run=saturation.INPUT_KINDS[input_kind], layer="hidden_1"
    )
    title = (
        f"{config.hidden_units[0]} {activation} units, {initializer}, "
        f"{saturation.LAB_SAMPLES} rows of {saturation.INPUT_KINDS[input_kind]}"
    )
    chart_column.altair_chart(
        charts.activation_histogram_chart(frame, title=title, saturation_band=band),
        width="stretch",
    )


# --- page ---------------------------------------------------------------------------------------


def main() -> None:
    runs.keep_alive()  # first: a rerun must not let the session's training go
    runs.next_script_run()
    st.set_page_config(page_title=TITLE, page_icon="📈", layout="wide")
    clean_link()  # before any widget reads the link
    st.title(TITLE)
    st.markdown(INTRO)
    show_link_problems()

    preset_from_link()
    preset, quick = preset_ui()
    values, pressed = controls_ui()
    # The controls' set-up (what a link shares) and what is trained (quick look applied).
    controls, problems = config_from_values(values)
    config = quick_look(controls, quick) if controls is not None else None
    for problem in problems:
        st.error(problem)

    pending = st.session_state.pop("pending_set", None)
    if pending:
        configs = {PRESETS[key].title: quick_look(PRESETS[key].config, quick) for key in pending}
        runs.start("main", configs, "this comparison set")
    elif pressed and config is not None:
        if compare.preset_key(config) == "B1":
            st.session_state["selected_keys"] = []
        else:
            runs.start("main", {"": config})
    trained = runs.run_pending("main")
    if trained is not None:
        st.session_state["selected_keys"] = [result.config for result in trained.values()]
    dropped = st.session_state.get("dropped_runs", 0)
    if dropped:
        st.caption(
            f"This session keeps its last {runs.MAX_SESSION_RUNS} runs; {dropped} older "
            f"run{'s were' if dropped > 1 else ' was'} let go."
        )

    kept = session_runs()
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
    if controls is not None:
        with st.expander("Share this set-up"):  # quick look travels as quick=true
            st.code(share_link(controls, preset, quick), language=None, wrap_lines=True)
    if selected:
        st.download_button(
            "Download the selected runs' history (CSV)",
            compare.history_csv(selected),
            file_name="runs.csv",
            mime="text/csv",
        )

    tabs = st.tabs(
        [
            "Summary",
            "Curves",
            "Pre-activations",
            "Saturation",
            "Gradients and updates",
            "Data",
            "Twin lab",
            "Sweep",
            "Saturation lab",
        ]
    )
    init_config = config or DEFAULTS
    with tabs[0]:
        if not selected:
            st.info("Nothing trained yet: pick a preset and press **Train**.")
            if compare.preset_key(init_config) == "B1":
                init_view(init_config)
        summary_view(selected)
    if selected:
        with tabs[1]:
            curves_view(selected)
        with tabs[2]:
            preactivations_view(selected)
        with tabs[4]:
            gradients_view(selected)
    with tabs[3]:
        saturation_view(selected, init_config)
    with tabs[5]:
        data_view(init_config)
    with tabs[6]:
        twin_view(config)
    with tabs[7]:
        sweep_view(config)
    with tabs[8]:
        saturation_lab_view(init_config)


main()
