"""The saturation lab: puzzle B's picture for any initializer, activation and input.

One first layer at init, no training, fed one of three inputs:
    uniform  uniform random pixels in [0, 1), as the B1 source (np.random.random)
    scaled   the first training images ÷255
    raw      the same images, raw 0–255
and compared with the variance formula for z = x·W (W independent of x, zero mean):
    std(z) ≈ sqrt(fan_in · E[x²]) · std(W)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from explorer.config import IMAGE_PIXELS, RunConfig, must_be
from explorer.i18n import _
from explorer.probes import (
    ACTIVATION_RANGES,
    RELU_LIKE,
    InitActivations,
    dead_share,
    histogram,
    histogram_edges,
    init_activations,
)
from explorer.setups import INPUT_KINDS

LAB_SAMPLES = 512  # rows fed to the layer: the same count as the training probe batch


def check_input_kind(input_kind: object) -> str:
    if input_kind not in INPUT_KINDS:
        options = _("one of {options}").format(options=", ".join(INPUT_KINDS))
        raise ValueError(must_be("sat_input", options, input_kind))
    return str(input_kind)


def lab_config(
    base: RunConfig, initializer: str, activation: str, init_param: float, input_kind: str
) -> RunConfig:
    """`base` with the lab's first layer and the input scaling its input kind implies.

    scaled: inputs ÷255; raw: inputs ÷1; uniform: the inputs bypass scaling (see
    `probes.init_activations`). Width, bias initializer, weight scale and seed come from `base`.

    Raises:
        ValueError: naming the field, for an initializer, activation or stddev the config
            rejects, or an unknown input kind.
    """
    divisor = 1.0 if check_input_kind(input_kind) == "raw" else 255.0
    return base.replace(
        kernel_initializer=initializer,
        activation=activation,
        init_param=float(init_param),
        input_scaling="divide",
        input_divisor=divisor,
    )


def saturation_lab(
    config: RunConfig, input_kind: str, images: np.ndarray | None = None
) -> InitActivations:
    """The first layer of `config` at init on LAB_SAMPLES rows of `input_kind`.

    `images` are uint8 (N, 784) training images, needed for "scaled" and "raw" (the first
    LAB_SAMPLES are used); they are scaled by `config` (see `lab_config`). The expected
    pre-activation std uses the measured std of the drawn kernel and E[x²] of these inputs.

    Raises:
        ValueError: for an unknown input kind, or image inputs without images.
    """
    if check_input_kind(input_kind) == "uniform":
        return init_activations(config, samples=LAB_SAMPLES)
    if images is None or len(images) == 0:
        raise ValueError(
            _("sat_input {kind} needs training images; got none").format(kind=repr(input_kind))
        )
    return init_activations(config, np.asarray(images)[:LAB_SAMPLES].reshape(-1, IMAGE_PIXELS))


def dead_units(activation: str, picture: InitActivations) -> float:
    """Share of ReLU-like units with z ≤ 0 on every input row; NaN for other activations."""
    return dead_share(activation, picture.preactivations)


def output_histogram(activation: str, picture: InitActivations) -> pd.DataFrame:
    """bin_start, bin_end, count, density of the layer's outputs.

    Bounded activations use their range as bins (sigmoid [0, 1], tanh [−1, 1]); the rest span
    the outputs. density = count / (values · bin width).
    """
    outputs = np.asarray(picture.outputs, dtype=np.float64).ravel()
    value_range = ACTIVATION_RANGES.get(activation)
    if value_range is None:
        finite = outputs[np.isfinite(outputs)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        value_range = (low, high) if high > low else (low - 0.5, low + 0.5)
    edges = histogram_edges(outputs, value_range)
    counts, _edges = histogram(outputs, edges)
    widths = np.diff(edges)
    return pd.DataFrame(
        {
            "bin_start": edges[:-1],
            "bin_end": edges[1:],
            "count": counts,
            "density": counts / max(outputs.size, 1) / widths,
        }
    )


def saturation_words(activation: str, picture: InitActivations) -> tuple[str, float]:
    """("saturated" | "dead units" | "", share) for the lab's headline number, the words in
    the reader's language."""
    if activation in RELU_LIKE:
        return _("dead units"), dead_units(activation, picture)
    if not math.isnan(picture.saturated_share):
        return _("saturated"), picture.saturated_share
    return "", math.nan
