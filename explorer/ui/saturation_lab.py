"""The Saturation lab: puzzle B's picture for any initializer, activation and input, no training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer import charts, probes, saturation
from explorer import config as cfg
from explorer.i18n import N_, _
from explorer.setups import INPUT_KINDS, SaturationSetup
from explorer.ui import runs, share
from explorer.ui import setup_widgets as widgets
from explorer.ui.views import list_separator

VIEW = "Saturation lab"  # the tab this lab is drawn in (a link's view)
INTRO = N_(
    "**Puzzle B at init, no training.** The first hidden layer of the sidebar's model (its "
    "width, bias, weight scale and seed) with the initializer, activation and input chosen here."
)
MAX_CACHED_PICTURES = 24


# `_images` (None for uniform inputs) is not hashed: the dataset follows from the config.
@st.cache_data(max_entries=MAX_CACHED_PICTURES, show_spinner=False)
def lab_picture(
    config: cfg.RunConfig, input_kind: str, _images: np.ndarray | None
) -> probes.InitActivations:
    return saturation.saturation_lab(config, input_kind, _images)


# The lab's controls, drawn live (nothing trains); returns the set-up.
def controls_ui() -> SaturationSetup:
    stored = widgets.stored(SaturationSetup)
    left, middle, right, last = st.columns(4)
    initializer = widgets.choice(
        left,
        stored,
        "initializer",
        _("Initializer"),
        lambda option: cfg.option_name("kernel_initializer", option),
    )
    activation = widgets.choice(
        middle,
        stored,
        "activation",
        _("Activation"),
        lambda option: cfg.option_name("activation", option),
    )
    parametric = list_separator().join(
        cfg.option_name("kernel_initializer", name) for name in cfg.PARAMETRIC_INITIALIZERS
    )
    stddev = widgets.number(
        right,
        stored,
        "stddev",
        _("Stddev (or limit)"),
        help=_("For {initializers}; 1.0 is the B1 source.").format(initializers=parametric),
    )
    input_kind = widgets.choice(
        last, stored, "input_kind", _("Input"), lambda option: _(INPUT_KINDS[option])
    )
    setup = widgets.keep(SaturationSetup(initializer, activation, float(stddev), input_kind))
    return setup


# The lab's histogram rows: saturation.output_histogram's bins, with what lies beyond them
# (±inf) in end bars and NaN in the off-scale share (see probes.histogram_rows).
def output_histogram(activation: str, picture: probes.InitActivations) -> pd.DataFrame:
    bins = saturation.output_histogram(activation, picture)
    edges = np.append(bins["bin_start"].to_numpy(), bins["bin_end"].iloc[-1])
    rows = probes.histogram_rows(edges, *probes.histogram(picture.outputs, edges))
    return rows.drop(columns="histogram")


# Puzzle B for any initializer, activation and input: the histogram, and std(z) against theory.
@st.fragment
def saturation_lab(base: cfg.RunConfig) -> None:
    st.markdown(_(INTRO))
    setup = controls_ui()
    share.share_box(VIEW)  # after the form: the set-up it keeps is the newest
    images = None
    if setup.input_kind != "uniform":
        data = runs.load(base.dataset)
        if data is None:
            return
        images = data.train_images
    try:
        config = saturation.lab_config(
            base, setup.initializer, setup.activation, setup.stddev, setup.input_kind
        )
        picture = lab_picture(config, setup.input_kind, images)
    except ValueError as error:
        st.error(str(error))
        return
    words, fraction = saturation.saturation_words(setup.activation, picture)
    chart_column, numbers = st.columns([3, 1])
    with numbers:
        if words:  # dead ReLU-like units, or saturated units
            dead = setup.activation in probes.RELU_LIKE
            label = _("Share dead units") if dead else _("Share saturated")
            st.metric(label, f"{fraction:.1%}")
        else:
            st.metric(
                _("Share saturated"),
                _("n/a"),
                help=_("{activation} does not saturate").format(activation=setup.activation),
            )
        st.metric(_("Expected std(z)"), f"{picture.expected_preactivation_std:.4g}")
        st.metric(_("Measured std(z)"), f"{picture.measured_preactivation_std:.4g}")
        st.caption(
            _(
                "Expected: √(fan_in · E[x²]) · std(W), with fan_in = {fan_in}, E[x²] of these "
                "inputs and std(W) measured on the drawn kernel (not the initializer's nominal "
                "value)."
            ).format(fan_in=cfg.IMAGE_PIXELS)
        )
    inputs = _(INPUT_KINDS[setup.input_kind])
    frame = output_histogram(setup.activation, picture).assign(run=inputs, layer=cfg.FIRST_LAYER)
    title = _("{units} {activation} units, {initializer}, {rows} rows of {inputs}").format(
        units=config.hidden_units[0],
        activation=setup.activation,
        initializer=setup.initializer,
        rows=saturation.LAB_SAMPLES,
        inputs=inputs,
    )
    chart_column.altair_chart(
        charts.activation_histogram_chart(
            frame, title=title, saturation_band=probes.saturation_band(setup.activation)
        ),
        width="stretch",
    )
