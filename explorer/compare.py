"""Several runs side by side: labels that say what differs, and long tables for the charts.

Every table has a `run` column holding the run's label, so one chart overlays any number of runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from explorer.config import RunConfig
from explorer.presets import PRESETS, preset_key
from explorer.train import RunResult


def run_labels(configs: Sequence[RunConfig]) -> list[str]:
    """One label per config naming what differs between them, e.g. "A2 · weight_scale=255".

    Runs that are all different presets are named by the presets' titles ("A2 raw inputs,
    weights ÷255"). A lone run is named by its preset, or by its main settings. Equal labels
    get " #2", " #3".
    """
    keys = [preset_key(config) for config in configs]
    if len(configs) > 1 and None not in keys and len(set(keys)) == len(keys):
        return [PRESETS[key].title for key in keys]
    varying = [
        name
        for name in RunConfig.__dataclass_fields__
        if len({_short(getattr(config, name)) for config in configs}) > 1
    ]
    labels = []
    for config in configs:
        key = preset_key(config)
        parts = [f"{name}={_short(getattr(config, name))}" for name in varying[:3]]
        if len(varying) > 3:
            parts.append("…")
        if not parts and key is None:
            parts = [
                f"{config.kernel_initializer} {config.activation}",
                f"÷{_short(config.input_divisor)}",
                f"{config.optimizer} {_short(config.learning_rate)}",
            ]
        labels.append(" · ".join([key, *parts] if key else parts))
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return unique


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def curves_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """run, step, epoch, split, metric, value: loss and accuracy, train and validation."""
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
                        }
                    )
                )
    return _concat(frames, ["run", "step", "epoch", "split", "metric", "value"])


def step_loss_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """run, step, loss: every training step's loss."""
    frames = [
        pd.DataFrame(
            {"run": label, "step": np.arange(1, len(r.step_loss) + 1), "loss": r.step_loss}
        )
        for label, r in results.items()
    ]
    return _concat(frames, ["run", "step", "loss"])


def preactivation_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """run, checkpoint, step, epoch, bin_start, bin_end, count, density for the first layer."""
    frames = []
    for label, result in results.items():
        table = result.histogram_table()
        table.insert(0, "run", label)
        table.insert(1, "checkpoint", table["step"].rank(method="dense").astype(int) - 1)
        frames.append(table)
    columns = ["run", "checkpoint", "step", "epoch", "bin_start", "bin_end", "count", "density"]
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
    """run, layer, bin_start, bin_end, count, density: each hidden layer's activations at init."""
    frames = []
    for label, result in results.items():
        for layer in result.activation_counts:
            table = result.histogram_table(layer)
            frames.append(table[table["step"] == 0].assign(run=label, layer=layer))
    return _concat(frames, ["run", "layer", "bin_start", "bin_end", "count", "density"])


def history_csv(results: Mapping[str, RunResult]) -> str:
    """Every checkpoint of every run, with its layers side by side, as CSV text."""
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
    return _concat(frames, ["run"]).to_csv(index=False)


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)
