"""Several runs side by side: labels that say what differs, and long tables for the charts.

Every table has a `run` column holding the run's label, so one chart overlays any number of runs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from explorer.config import RunConfig
from explorer.i18n import _
from explorer.presets import PRESETS, preset_key
from explorer.train import RunResult

HISTOGRAM_COLUMNS = ["side", "bin_start", "bin_end", "count", "share", "density", "off_scale"]
COINCIDE_RELATIVE = 1e-3  # curves closer than this (relative loss, absolute accuracy) overlap


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def curves_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """run, step, epoch, split, metric, value, diverged: loss and accuracy, train and
    validation; diverged is the run's flag (its last recorded losses may still be finite)."""
    frames = []
    for label, result in results.items():
        history = result.history
        for split, prefix in (("train", "train_"), ("validation", "val_")):
            for metric in ("loss", "accuracy"):
                frames.append(
                    pd.DataFrame(
                        {
                            "run": label,
                            "step": history["step"],
                            "epoch": history["epoch"],
                            "split": split,
                            "metric": metric,
                            "value": history[prefix + metric],
                            "diverged": result.diverged,
                        }
                    )
                )
    return _concat(frames, ["run", "step", "epoch", "split", "metric", "value", "diverged"])


def coinciding_runs(curves: pd.DataFrame) -> pd.DataFrame:
    """run, reference, loss_gap, accuracy_gap: each run whose curves lie on an earlier run's.

    `curves` is a `curves_table`. Run a lies on run b when b recorded every checkpoint of a,
    all finite, and at each
        |loss_a − loss_b| <= COINCIDE_RELATIVE · max(loss_a, loss_b)
        |accuracy_a − accuracy_b| <= COINCIDE_RELATIVE
    (on the curves' axes that is under a pixel, so b's line hides a's). A run is matched to
    the first earlier run it lies on; loss_gap and accuracy_gap are the largest absolute
    differences, train and validation together.
    """
    columns = ["run", "reference", "loss_gap", "accuracy_gap"]
    if curves.empty:
        return pd.DataFrame(columns=columns)
    keys = ["step", "split", "metric"]
    by_run = {
        run: frame.set_index(keys)["value"].astype(float)
        for run, frame in curves.groupby("run", sort=False)
    }
    found = []
    for index, (run, values) in enumerate(by_run.items()):
        for reference, reference_values in list(by_run.items())[:index]:
            gaps = _curve_gaps(values, reference_values)
            if gaps is not None:
                found.append((run, reference, *gaps))
                break
    return pd.DataFrame(found, columns=columns)


def _curve_gaps(values: pd.Series, reference: pd.Series) -> tuple[float, float] | None:
    """(largest loss gap, largest accuracy gap) when every point of `values` lies on
    `reference`'s curves (both recorded it, both finite, within COINCIDE_RELATIVE), else None."""
    first, second = values.align(reference, join="inner")
    if len(first) < len(values) or not first.size:
        return None  # the run goes on where the reference has no line
    if not (np.isfinite(first.to_numpy()) & np.isfinite(second.to_numpy())).all():
        return None
    metric = first.index.get_level_values("metric")
    gap = (first - second).abs()
    loss, accuracy = gap[metric == "loss"], gap[metric == "accuracy"]
    loss_scale = np.maximum(first[metric == "loss"].abs(), second[metric == "loss"].abs())
    if (loss > COINCIDE_RELATIVE * loss_scale).any() or (accuracy > COINCIDE_RELATIVE).any():
        return None
    return float(loss.to_numpy().max(initial=0.0)), float(accuracy.to_numpy().max(initial=0.0))


def step_loss_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """run, step, loss, diverged: every training step's loss, and the run's diverged flag."""
    frames = [
        pd.DataFrame(
            {
                "run": label,
                "step": np.arange(1, len(r.step_loss) + 1),
                "loss": r.step_loss,
                "diverged": r.diverged,
            }
        )
        for label, r in results.items()
    ]
    return _concat(frames, ["run", "step", "loss", "diverged"])


def preactivation_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """run, checkpoint, step, epoch and the histogram columns (side, bin_start, bin_end, count,
    share, density, off_scale; see `probes.histogram_rows`) for the first layer."""
    frames = []
    for label, result in results.items():
        table = result.histogram_table()
        table.insert(0, "run", label)
        table.insert(1, "checkpoint", table["step"].rank(method="dense").astype(int) - 1)
        frames.append(table)
    columns = ["run", "checkpoint", "step", "epoch", *HISTOGRAM_COLUMNS]
    return _concat(frames, columns)


def history_table(results: Mapping[str, RunResult], columns: Sequence[str]) -> pd.DataFrame:
    """The named history columns of every run, with run, step and epoch."""
    frames = [
        result.history[["step", "epoch", *columns]].assign(run=label)
        for label, result in results.items()
    ]
    return _concat(frames, ["run", "step", "epoch", *columns])


def layers_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """Per-layer rows of every run (saturation, dead units, gradients, update ratios)."""
    frames = [result.layers.assign(run=label) for label, result in results.items()]
    columns = ["run", "step", "epoch", "layer", "hidden", "saturated_share", "dead_share"]
    columns += ["activation_mean", "activation_std", "gradient_norm", "update_ratio"]
    return _concat(frames, columns)


def activations_at_init_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """run, layer and the histogram columns: each hidden layer's activations at init."""
    frames = []
    for label, result in results.items():
        for layer in result.activation_counts:
            table = result.histogram_table(layer)
            frames.append(table[table["step"] == 0].assign(run=label, layer=layer))
    return _concat(frames, ["run", "layer", *HISTOGRAM_COLUMNS])


def history_csv(results: Mapping[str, RunResult]) -> str:
    """Every checkpoint of every run, with its layers side by side, as CSV text."""
    return history_table_wide(results).to_csv(index=False)


def history_table_wide(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """Every checkpoint of every run, with its layers' measures side by side."""
    frames = []
    for label, result in results.items():
        wide = result.layers.pivot_table(
            index="step",
            columns="layer",
            values=["saturated_share", "dead_share", "gradient_norm", "update_ratio"],
            dropna=False,
        )
        wide.columns = [f"{layer}_{measure}" for measure, layer in wide.columns]
        merged = result.history.merge(wide, left_on="step", right_index=True, how="left")
        merged.insert(0, "run", label)
        frames.append(merged)
    return _concat(frames, ["run"])


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


MAX_NAME = 40  # characters of a run's name (a renamed run's name travels in links)


def stable_name(config: RunConfig, first: RunConfig | None, taken: Collection[str] = ()) -> str:
    """A short name given once, when the run is first kept, so that it never changes later.

    a preset            its title ("A2 raw inputs, weights ÷255"), + " · 55,000 images" if
                        that is taken (the same preset at another size)
    anything else       what differs from the session's first run ("learning_rate=0.5"),
                        or its main settings when it is the first
    still taken         + " #2", " #3", ...
    """
    key = preset_key(config)
    if key is not None:
        title = PRESETS[key].title
        size = _("{title} · {count} images").format(title=title, count=f"{config.train_samples:,}")
        candidates = [title, size]
    else:
        differing = [] if first is None else list(first.differences(config))
        parts = [f"{name}={_short(getattr(config, name))}" for name in differing[:3]]
        if len(differing) > 3:
            parts.append("…")
        if not parts:
            parts = [
                f"{config.kernel_initializer} {config.activation}",
                f"÷{_short(config.input_divisor)}",
                f"{config.optimizer} {_short(config.learning_rate)}",
            ]
        candidates = [" · ".join(parts)]
    for name in candidates:
        if name not in taken:
            return name
    number = 2
    while f"{candidates[-1]} #{number}" in taken:
        number += 1
    return f"{candidates[-1]} #{number}"


def check_name(name: object, taken: Collection[str] = ()) -> str:
    """A run's new name, stripped; ValueError saying what was received and what is allowed
    (in the reader's language: the page shows it)."""
    text = str(name).strip()
    if not 1 <= len(text) <= MAX_NAME or "|" in text:
        raise ValueError(
            _("a run's name must be 1 to {limit} characters without '|'; got {name}").format(
                limit=MAX_NAME, name=repr(text)
            )
        )
    if text in taken:
        raise ValueError(_("another run is already named {name}").format(name=repr(text)))
    return text
