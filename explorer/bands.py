"""Seed bands: one set-up trained with several seeds, read as a band rather than one run.

    curves      mean over seeds at each checkpoint, with the min–max band
    finals      final validation accuracy and loss: mean and range over seeds
    a − b       the difference of two bands' mean final accuracy, against the seed spread:
                spread = the larger of the two bands' half-ranges, so "inside the spread"
                means one seed could show the difference the other way round
    histograms  the seeds pooled: their counts summed on common bins (`common_edges`), so
                density = Σ counts / (Σ all values · bin width) is the seeds' mixture

A diverged seed counts with its last finite checkpoint, as the Summary shows it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from explorer import compare, probes
from explorer.i18n import _
from explorer.train import RunResult

HISTOGRAM_KEYS = ["run", "checkpoint", "step", "epoch"]

CURVE_KEYS = ["run", "split", "metric", "step"]


def band_curves_table(bands: Mapping[str, Sequence[RunResult]]) -> pd.DataFrame:
    """run, split, metric, step, epoch, value (the mean), low, high, seeds: one row per
    checkpoint of each band. Steps a diverged seed never reached count the others only."""
    frames = []
    for name, members in bands.items():
        table = compare.curves_table({str(index): result for index, result in enumerate(members)})
        table["run"] = name
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=[*CURVE_KEYS, "epoch", "value", "low", "high", "seeds"])
    table = pd.concat(frames, ignore_index=True)
    table = table[np.isfinite(table["value"].astype(float))]
    grouped = table.groupby(CURVE_KEYS, sort=False)
    return grouped.agg(
        epoch=("epoch", "mean"),
        value=("value", "mean"),
        low=("value", "min"),
        high=("value", "max"),
        seeds=("value", "size"),
    ).reset_index()


def common_edges(edges: Sequence[np.ndarray]) -> np.ndarray:
    """Bins every seed's histogram covers: the seeds' own edges when they coincide (bounded
    activations, one seed), else as many bins over the range they all cover:

        linspace(max_s edges_s[0], min_s edges_s[-1], bins + 1)

    Each seed's bins were fixed at its own init (`probes.histogram_edges`, centred on 0), so
    the ranges overlap; keeping to their common part keeps every off-scale count true."""
    first = np.asarray(edges[0], float)
    if all(np.array_equal(first, other) for other in edges[1:]):
        return first
    low = max(float(other[0]) for other in edges)
    high = min(float(other[-1]) for other in edges)
    return np.linspace(low, high, len(first))


def pooled_preactivation_table(bands: Mapping[str, Sequence[RunResult]]) -> pd.DataFrame:
    """`compare.preactivation_table` of each band with its seeds pooled, plus seeds (how many
    reached the checkpoint: a diverged seed stops early).

    Per band and checkpoint k, over the seeds s that recorded it (see `common_edges` and
    `probes.rebin`):
        counts_k    = Σ_s rebin(counts_s,k onto the common edges)
        off_scale_k = Σ_s rebin(off_scale_s,k)     below, above, NaN
    Seeds share their checkpoints' steps (one set-up): step and epoch are the longest seed's.
    """
    frames = []
    for name, members in bands.items():
        edges = common_edges([result.preactivation_edges for result in members])
        longest = max(members, key=lambda result: len(result.preactivation_counts))
        checkpoints = len(longest.preactivation_counts)
        counts = np.zeros((checkpoints, len(edges) - 1))
        off_scale = np.zeros((checkpoints, 3))
        seeds = np.zeros(checkpoints, dtype=int)
        for result in members:
            recorded = len(result.preactivation_counts)
            moved, moved_off = probes.rebin(
                result.preactivation_edges,
                result.preactivation_counts,
                result.preactivation_off_scale,
                edges,
            )
            counts[:recorded] += moved[:recorded]
            off_scale[:recorded] += moved_off[:recorded]
            seeds[:recorded] += 1
        table = probes.histogram_rows(edges, counts, off_scale)
        checkpoint = table.pop("histogram").to_numpy()
        history = longest.history
        table.insert(0, "run", name)
        table.insert(1, "checkpoint", checkpoint)
        table.insert(2, "step", history["step"].to_numpy()[checkpoint])
        table.insert(3, "epoch", history["epoch"].to_numpy()[checkpoint])
        table["seeds"] = seeds[checkpoint]
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=[*HISTOGRAM_KEYS, *compare.HISTOGRAM_COLUMNS, "seeds"])
    return pd.concat(frames, ignore_index=True)


def finals(members: Sequence[RunResult]) -> dict[str, float]:
    """Mean, min and max over seeds of the final validation accuracy and loss."""
    accuracy = np.array([float(result.final.val_accuracy) for result in members])
    loss = np.array([float(result.final.val_loss) for result in members])
    return {
        "accuracy_mean": float(np.nanmean(accuracy)),
        "accuracy_low": float(np.nanmin(accuracy)),
        "accuracy_high": float(np.nanmax(accuracy)),
        "loss_mean": float(np.nanmean(loss)),
        "loss_low": float(np.nanmin(loss)),
        "loss_high": float(np.nanmax(loss)),
        "seeds": len(members),
        "diverged": sum(result.diverged for result in members),
    }


def summary_table(members: Sequence[RunResult]) -> pd.DataFrame:
    """The band's headline numbers (measure, value) as text."""
    band = finals(members)
    seeds = ", ".join(str(result.config.seed) for result in members)
    rows = [
        (_("seeds"), seeds),
        (
            _("final validation accuracy"),
            _("{mean} (range {low}–{high})").format(
                mean=_percent(band["accuracy_mean"]),
                low=_percent(band["accuracy_low"]),
                high=_percent(band["accuracy_high"]),
            ),
        ),
        (
            _("final validation loss"),
            _("{mean} (range {low}–{high})").format(
                mean=f"{band['loss_mean']:.3g}",
                low=f"{band['loss_low']:.3g}",
                high=f"{band['loss_high']:.3g}",
            ),
        ),
        (
            _("diverged"),
            _("{count} of {seeds} seeds").format(count=band["diverged"], seeds=band["seeds"]),
        ),
    ]
    return pd.DataFrame(rows, columns=["measure", "value"])


def spread(members: Sequence[RunResult]) -> float:
    """Half the range of the final validation accuracy over seeds (0 for one seed)."""
    band = finals(members)
    return (band["accuracy_high"] - band["accuracy_low"]) / 2


def difference_words(
    name_a: str, members_a: Sequence[RunResult], name_b: str, members_b: Sequence[RunResult]
) -> str:
    """ "B3 − B2: −4 pp, inside the seed spread of ±6 pp" from two bands' finals."""
    difference = 100 * (finals(members_a)["accuracy_mean"] - finals(members_b)["accuracy_mean"])
    width = 100 * max(spread(members_a), spread(members_b))
    if not (math.isfinite(difference) and math.isfinite(width)):
        return _("{a} − {b}: not comparable (a band has no finite accuracy).").format(
            a=name_a, b=name_b
        )
    if min(len(members_a), len(members_b)) < 2:
        verdict = _("one seed on a side: no spread to compare with")
    elif abs(difference) <= width:
        verdict = _("inside the seed spread of ±{width} pp: noise, not a finding").format(
            width=f"{width:.1f}"
        )
    else:
        verdict = _("beyond the seed spread of ±{width} pp").format(width=f"{width:.1f}")
    return _("{a} − {b}: {difference} pp of final validation accuracy, {verdict}.").format(
        a=name_a, b=name_b, difference=f"{difference:+.1f}", verdict=verdict
    )


def _percent(share: float) -> str:
    return f"{share:.1%}" if math.isfinite(share) else "n/a"
