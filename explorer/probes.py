"""What the network looks like inside: pre-activation and activation statistics on a probe batch.

A probe runs the Dense layers by hand on a fixed batch to keep both sides of each layer:
    z_i = h_{i-1} · W_i + b_i      (pre-activation)
    h_i = activation(z_i)          (activation)
Histograms use bin edges fixed at step 0, so later checkpoints are drawn on the same bins. What
leaves the bins is counted, not lost: every histogram has an off-scale count below its first
edge, one above its last edge (infinities included) and one of NaN values, and its density is
over all values, so in-range bars shrink as mass leaves:
    density = count / (all values · bin width)      off_scale = (below + above + NaN) / all values
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from explorer.config import RunConfig
from explorer.model import IMAGE_PIXELS, build_model, dense_layers

HISTOGRAM_BINS = 50
SATURATION_LOW, SATURATION_HIGH = 0.05, 0.95  # sigmoid outputs this close to 0 or 1
TANH_SATURATION = 0.95  # |tanh(z)| above this
RELU_LIKE = ("relu", "elu", "gelu")  # units can die: z <= 0 on every input
# Bounded activations get their natural range as histogram bins; the rest are measured.
ACTIVATION_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
GROWTH_ROOM = 4.0  # unbounded bins span 4× the init's 0.5–99.5% range, so training fits


def layer_outputs(model: keras.Model, images: tf.Tensor) -> list[tuple[tf.Tensor, tf.Tensor]]:
    """[(z, h)] for each Dense layer of `model` on uint8 `images` (B, 784)."""
    hidden = model.get_layer("scaling")(tf.cast(images, tf.float32))
    outputs = []
    for dense in dense_layers(model):
        z = tf.matmul(hidden, dense.kernel) + dense.bias  # (B, units)
        hidden = dense.activation(z)
        outputs.append((z, hidden))
    return outputs


def histogram_edges(
    values: np.ndarray, value_range: tuple[float, float] | None = None
) -> np.ndarray:
    """HISTOGRAM_BINS + 1 edges: `value_range` if given, else room for growth around `values`.

    half_width = GROWTH_ROOM * max(|q0.5%|, |q99.5%|)   (1 when every value is 0)
    edges = linspace(-half_width, half_width)           centred on 0, where z starts
    """
    if value_range is None:
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = np.percentile(finite, [0.5, 99.5])
            half_width = GROWTH_ROOM * max(abs(low), abs(high))
        else:
            half_width = 0.0
        half_width = half_width if half_width > 0 else 1.0
        value_range = (-half_width, half_width)
    return np.linspace(value_range[0], value_range[1], HISTOGRAM_BINS + 1)


def histogram(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts on fixed, evenly spaced `edges`, and the off-scale counts [below, above, NaN].

    below = #(values < edges[0])    (−inf included)
    above = #(values > edges[-1])   (+inf included)
    NaN   = #(values that are NaN)
    so counts.sum() + off_scale.sum() == values.size. Bins given as count and range take NumPy's
    fast path; an edge array would sort.
    """
    values = np.asarray(values).ravel()
    bins = len(edges) - 1
    counts, _ = np.histogram(values[np.isfinite(values)], bins=bins, range=(edges[0], edges[-1]))
    below = int(np.count_nonzero(values < edges[0]))
    above = int(np.count_nonzero(values > edges[-1]))
    not_a_number = int(np.count_nonzero(np.isnan(values)))
    return counts.astype(np.int32), np.array([below, above, not_a_number], np.int64)


def off_scale_share(counts: np.ndarray, off_scale: np.ndarray) -> float:
    """Share of values outside the bins or NaN:
    off_scale.sum() / (counts.sum() + off_scale.sum())."""
    total = int(np.sum(counts)) + int(np.sum(off_scale))
    return float(np.sum(off_scale) / total) if total else 0.0


def histogram_rows(edges: np.ndarray, counts: np.ndarray, off_scale: np.ndarray) -> pd.DataFrame:
    """Long table of n histograms on the same `edges`, for charts.

    counts (n, bins) and off_scale (n, 3) as `histogram` returns them, one row each (whole
    numbers; `rebin`'s pooled, fractional counts stay fractional). Per histogram: a "below"
    row, one "inside" row per bin, an "above" row, with columns
        histogram   its row in `counts`
        side        "below" | "inside" | "above"
        bin_start, bin_end   the bin; below is (−inf, edges[0]), above (edges[-1], +inf)
        count       values in the bin (below/above: beyond the edge, infinities included)
        share       count / all values (NaN values included in "all")
        density     share / bin width for inside bins; NaN for below and above (no width)
        off_scale   the histogram's off-scale share: (below + above + NaN) / all values
    """
    counts, off_scale = _whole_or_float(counts), _whole_or_float(off_scale)
    histograms, bins = counts.shape
    every = np.concatenate([off_scale[:, :1], counts, off_scale[:, 1:2]], axis=1)  # (n, bins+2)
    totals = np.maximum(counts.sum(axis=1) + off_scale.sum(axis=1), 1)[:, None]
    starts = np.concatenate([[-np.inf], edges[:-1], [edges[-1]]])
    ends = np.concatenate([[edges[0]], edges[1:], [np.inf]])
    widths = np.where(np.isfinite(ends - starts), ends - starts, np.nan)
    sides = ["below", *["inside"] * bins, "above"]
    share = every / totals
    return pd.DataFrame(
        {
            "histogram": np.repeat(np.arange(histograms), bins + 2),
            "side": np.tile(sides, histograms),
            "bin_start": np.tile(starts, histograms),
            "bin_end": np.tile(ends, histograms),
            "count": every.ravel(),
            "share": share.ravel(),
            "density": (share / widths).ravel(),
            "off_scale": np.repeat(off_scale.sum(axis=1) / totals[:, 0], bins + 2),
        }
    )


def _whole_or_float(counts) -> np.ndarray:
    """2-D counts as int64, or float64 where they are fractional (pooled on other bins)."""
    counts = np.atleast_2d(counts)
    return counts.astype(np.float64 if np.issubdtype(counts.dtype, np.floating) else np.int64)


def rebin(
    edges: np.ndarray, counts: np.ndarray, off_scale: np.ndarray, new_edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`histogram`'s counts (n, bins) and off_scale (n, 3) moved onto `new_edges`, a range
    inside `edges`' range, as the bars claim them: each bin's count spread evenly over its width.

        new_count_j = Σ_i count_i · |bin_i ∩ new_bin_j| / |bin_i|
        below'      = below + Σ_i count_i · |bin_i ∩ (−inf, new_edges[0])| / |bin_i|
        above'      = above + Σ_i count_i · |bin_i ∩ (new_edges[-1], +inf)| / |bin_i|
        NaN'        = NaN

    The range must lie inside `edges`' (what was below edges[0] is then below new_edges[0]
    too), so the off-scale counts stay true. Nothing is lost: the totals are unchanged.
    Counts come back as floats (a bin split between two new bins splits its count).

    Raises:
        ValueError: for new edges reaching beyond `edges`.
    """
    edges, new_edges = np.asarray(edges, float), np.asarray(new_edges, float)
    if new_edges[0] < edges[0] or new_edges[-1] > edges[-1]:
        raise ValueError(
            f"rebin needs new edges inside [{edges[0]:g}, {edges[-1]:g}]; "
            f"got [{new_edges[0]:g}, {new_edges[-1]:g}]"
        )
    starts, ends = edges[:-1, None], edges[1:, None]  # (bins, 1): the old bins
    widths = ends - starts

    def share_inside(low, high):  # (bins, k): the share of each old bin inside [low, high]
        return np.clip(np.minimum(ends, high) - np.maximum(starts, low), 0, None) / widths

    moved = share_inside(new_edges[None, :-1], new_edges[None, 1:])  # (bins, new bins)
    below = share_inside(-np.inf, new_edges[0])[:, 0]
    above = share_inside(new_edges[-1], np.inf)[:, 0]
    counts = np.atleast_2d(counts).astype(np.float64)  # (n, bins)
    off_scale = np.atleast_2d(off_scale).astype(np.float64).copy()  # (n, 3)
    off_scale[:, 0] += counts @ below
    off_scale[:, 1] += counts @ above
    return counts @ moved, off_scale


def saturation_band(activation: str) -> tuple[float, float] | None:
    """The band a chart shades as saturated: (SATURATION_LOW, SATURATION_HIGH) for sigmoid;
    None for the others (tanh's saturation is |a| > TANH_SATURATION, two bands; the rest have
    none)."""
    return (SATURATION_LOW, SATURATION_HIGH) if activation == "sigmoid" else None


def saturated_share(activation: str, outputs: np.ndarray) -> float:
    """Share of outputs in the flat tails: sigmoid < 0.05 or > 0.95; |tanh| > 0.95; else NaN."""
    if activation == "sigmoid":
        return float(np.mean((outputs < SATURATION_LOW) | (outputs > SATURATION_HIGH)))
    if activation == "tanh":
        return float(np.mean(np.abs(outputs) > TANH_SATURATION))
    return float("nan")


def dead_share(activation: str, preactivations: np.ndarray) -> float:
    """Share of ReLU-like units with z <= 0 for every probe input (no gradient flows); else NaN."""
    if activation not in RELU_LIKE:
        return float("nan")
    return float(np.mean(np.all(preactivations <= 0, axis=0)))


@dataclasses.dataclass(frozen=True)
class InitActivations:
    """The B1 picture: one layer's outputs at init, before any training."""

    outputs: np.ndarray  # (samples, units)
    preactivations: np.ndarray  # (samples, units)
    saturated_share: float
    expected_preactivation_std: float  # sqrt(fan_in · E[x²]) · std(W), the variance formula
    measured_preactivation_std: float


def init_activations(
    config: RunConfig, inputs: np.ndarray | None = None, samples: int = 1
) -> InitActivations:
    """Outputs of the first hidden layer at init, as in the B1 source.

    With `inputs` None, feeds `samples` rows of uniform random pixels in [0, 1) straight to the
    layer (the source's np.random.random((1, 784))), bypassing input scaling; otherwise
    `inputs` are uint8 images (N, 784) scaled as the config says.
    """
    if inputs is None:  # the scaling layer is bypassed: standardize needs no images to measure
        config = config.replace(input_scaling="divide")
    model = build_model(config, inputs)
    first = dense_layers(model)[0]
    if inputs is None:
        rng = np.random.default_rng(config.seed)
        scaled = rng.random((samples, IMAGE_PIXELS), dtype=np.float32)
    else:
        scaled = model.get_layer("scaling")(tf.cast(inputs, tf.float32)).numpy()
    kernel = first.kernel.numpy()
    z = scaled @ kernel + first.bias.numpy()
    outputs = keras.ops.convert_to_numpy(first.activation(z))
    expected = np.sqrt(IMAGE_PIXELS * np.mean(scaled.astype(np.float64) ** 2)) * kernel.std()
    return InitActivations(
        outputs=outputs,
        preactivations=z,
        saturated_share=saturated_share(config.activation, outputs),
        expected_preactivation_std=float(expected),
        measured_preactivation_std=float(z.std()),
    )
