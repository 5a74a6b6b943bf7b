"""One-knob sweeps: the same run at 2–12 values of one knob, read against the knob.

values  = geomspace(start, stop, count)  or  linspace(start, stop, count)
configs = [base.replace(field=value) for value in values]
table   = final validation accuracy and loss (NaN for a diverged run) and the first layer's
          saturation at init, one row per (value, metric)
bands   = with several seeds per value, one row per (value, seed, metric), and per (value,
          metric) the mean over the seeds with a number, their min and max, and how many seeds
          diverged
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from explorer.config import FIRST_LAYER, PARAMETRIC_INITIALIZERS, RunConfig, must_be
from explorer.i18n import _
from explorer.probes import RELU_LIKE
from explorer.setups import MAX_COUNT, MIN_COUNT, SCALES, SWEEP_KNOBS, Knob
from explorer.train import RunResult

SIGNIFICANT_DIGITS = 6  # values are rounded, so links and labels read 0.001, not 0.0009999…


def check_knob(knob: object) -> Knob:
    if knob not in SWEEP_KNOBS:
        raise ValueError(must_be("sweep_knob", _one_of(SWEEP_KNOBS), knob))
    return SWEEP_KNOBS[knob]


def sweep_values(
    start: float, stop: float, count: int, scale: str = "log", integer: bool = False
) -> list[float]:
    """`count` values from `start` to `stop`, both included, evenly spaced on `scale`.

        log:    start · (stop/start)^(i/(count−1))      needs 0 < start
        linear: start + (stop − start) · i/(count−1)

    Values are rounded to SIGNIFICANT_DIGITS, or to whole numbers with `integer` (repeats
    dropped, so fewer may come back).

    Raises:
        ValueError: for a count outside 2–12, an unknown scale, bounds that are not finite, a
            start not below stop, or a log range that is not positive.
    """
    if scale not in SCALES:
        raise ValueError(must_be("sweep_scale", _one_of(SCALES), scale))
    whole = _("a whole number from {low} to {high}").format(low=MIN_COUNT, high=MAX_COUNT)
    if isinstance(count, bool) or not isinstance(count, int | np.integer):
        raise ValueError(must_be("sweep_count", whole, count))
    if not MIN_COUNT <= count <= MAX_COUNT:
        raise ValueError(
            _("{name} must be {allowed}; got {value}").format(
                name="sweep_count", allowed=whole, value=count
            )
        )
    for name, bound in (("sweep_from", start), ("sweep_to", stop)):
        if (
            isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
        ):
            raise ValueError(must_be(name, _("a finite number"), bound))
    if not start < stop:
        raise ValueError(
            _("sweep_from must be below sweep_to; got {start} and {stop}").format(
                start=f"{start:g}", stop=f"{stop:g}"
            )
        )
    if scale == "log" and start <= 0:
        raise ValueError(
            _("a log sweep needs a positive sweep_from; got {start}").format(start=f"{start:g}")
        )
    spaced = np.geomspace(start, stop, count) if scale == "log" else np.linspace(start, stop, count)
    if integer:
        return [float(value) for value in dict.fromkeys(np.rint(spaced).astype(int).tolist())]
    return [float(f"{value:.{SIGNIFICANT_DIGITS}g}") for value in spaced]


def _one_of(options) -> str:
    """ "one of a, b, c", as a validation message says it."""
    return _("one of {options}").format(options=", ".join(options))


def knob_value(config: RunConfig, knob: str) -> float:
    """The knob's value in `config` (the first hidden layer's width for hidden_width)."""
    value = getattr(config, check_knob(knob).field)
    return float(value[0] if isinstance(value, tuple) else value)


def sweep_configs(base: RunConfig, knob: str, values: Sequence[float]) -> list[RunConfig]:
    """`base` with the knob set to each value, in order.

    input_scale also sets input_scaling to "divide"; hidden_width sets every hidden layer.

    Raises:
        ValueError: for an unknown knob, init_stddev with an initializer it does not drive, or a
            value the config rejects (its message names the field and what is allowed).
    """
    spec = check_knob(knob)
    if knob == "init_stddev" and base.kernel_initializer not in PARAMETRIC_INITIALIZERS:
        raise ValueError(
            _("init_stddev only changes {initializers}; the kernel initializer is {name}").format(
                initializers=", ".join(PARAMETRIC_INITIALIZERS),
                name=repr(base.kernel_initializer),
            )
        )
    configs = []
    for value in values:
        if spec.integer:
            if not float(value).is_integer():
                raise ValueError(
                    _("{knob} takes whole numbers; got {value}").format(
                        knob=knob, value=repr(value)
                    )
                )
            changes = {spec.field: (int(value),) * len(base.hidden_units)}
        else:
            changes = {spec.field: float(value)}
        if knob == "input_scale":
            changes["input_scaling"] = "divide"
        configs.append(base.replace(**changes))
    return configs


def saturation_metric(activation: str) -> tuple[str, str] | None:
    """(sweep metric, layers column) measuring the first layer at init, or None for linear."""
    if activation in RELU_LIKE:
        return "dead_at_init", "dead_share"
    if activation in ("sigmoid", "tanh"):
        return "saturation_at_init", "saturated_share"
    return None


def sweep_table(
    knob: str, values: Sequence[float], results: Sequence[RunResult] | Mapping[float, RunResult]
) -> pd.DataFrame:
    """value, metric, result, diverged: the long table `charts.sweep_chart` draws, one run per
    value.

    Metrics: val_accuracy and val_loss at the last checkpoint (NaN for a diverged run, whose
    last numbers describe a network on its way to blowing up), and the first layer's share of
    saturated units (sigmoid, tanh: "saturation_at_init") or dead units (ReLU-like:
    "dead_at_init") at step 0; linear activations get no third metric.
    """
    runs = list(results.values()) if isinstance(results, Mapping) else list(results)
    table = seed_table(knob, values, [[result] for result in runs])
    return table.drop(columns="seed")


def seed_table(
    knob: str, values: Sequence[float], bands: Sequence[Sequence[RunResult]]
) -> pd.DataFrame:
    """value, seed, metric, result, diverged: `sweep_table`'s rows for every seed of every
    value (`bands[i]` holds value i's runs, one per seed), seed being the run's own seed."""
    check_knob(knob)
    if len(bands) != len(values):
        raise ValueError(
            f"sweep_table needs one result per value; got {len(bands)} for {len(values)}"
        )
    rows = []
    for value, members in zip(values, bands, strict=True):
        for result in members:
            rows += [(value, result.config.seed, *row) for row in _metric_rows(result)]
    table = pd.DataFrame(rows, columns=["value", "seed", "metric", "result", "diverged"])
    return table.astype({"value": float, "seed": int, "result": float, "diverged": bool})


def _metric_rows(result: RunResult) -> list[tuple[str, float, bool]]:
    """(metric, result, diverged) of one run: see `sweep_table`."""
    final, diverged = result.final, result.diverged
    rows = [
        ("val_accuracy", math.nan if diverged else final.val_accuracy, diverged),
        ("val_loss", math.nan if diverged else final.val_loss, diverged),
    ]
    metric = saturation_metric(result.config.activation)
    if metric is not None:
        layers = result.layers
        at_init = layers[(layers["step"] == 0) & (layers["layer"] == FIRST_LAYER)]
        share = float(at_init[metric[1]].iloc[0]) if len(at_init) else math.nan
        rows.append((metric[0], share, diverged))
    return rows


def band_table(seeds: pd.DataFrame) -> pd.DataFrame:
    """value, metric, result, low, high, seeds, diverged_seeds, diverged: `seed_table` read as
    a band per (value, metric), for `charts.sweep_chart`.

        result          mean over the seeds whose result is a number (NaN when none is)
        low, high       their min and max
        seeds           how many seeds the value trained
        diverged_seeds  how many of them diverged
        diverged        every seed diverged (drawn as one diverged run is)

    A diverged seed has no final accuracy or loss, so those means are over the others; its
    saturation at init (before it blew up) counts.
    """
    grouped = seeds.groupby(["value", "metric"], sort=False)
    table = grouped.agg(
        result=("result", "mean"),
        low=("result", "min"),
        high=("result", "max"),
        seeds=("seed", "size"),
        diverged_seeds=("diverged", "sum"),
    ).reset_index()
    table["diverged"] = table["diverged_seeds"] == table["seeds"]
    return table.astype({"seeds": int, "diverged_seeds": int, "diverged": bool})


def download_table(seeds: pd.DataFrame) -> pd.DataFrame:
    """The sweep's CSV: every (value, seed, metric) row of `seed_table`; with several seeds
    per value, each row also carries its value's band (mean, low, high, seeds,
    diverged_seeds; see `band_table`)."""
    if seeds.empty or seeds.groupby("value")["seed"].nunique().max() < 2:
        return seeds
    band = band_table(seeds).drop(columns="diverged").rename(columns={"result": "mean"})
    return seeds.merge(band, on=["value", "metric"], how="left")
