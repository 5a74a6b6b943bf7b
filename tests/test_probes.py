"""Histograms that count every value: what leaves the fixed bins is off scale, not lost."""

import numpy as np
import pandas as pd
import pytest

from explorer import probes
from explorer.presets import PRESETS
from explorer.train import RunResult

EDGES = np.linspace(-2.0, 2.0, 5)  # four bins of width 1


def test_histogram_counts_every_value_once_infinities_at_their_end():
    values = np.array([-5.0, -np.inf, -2.0, -0.5, 0.5, 2.0, 2.5, np.inf, np.inf, np.nan])
    counts, off_scale = probes.histogram(values, EDGES)
    assert counts.tolist() == [1, 1, 1, 1]  # the last edge belongs to the last bin
    assert off_scale.tolist() == [2, 3, 1]  # below (−5, −inf), above (2.5, inf, inf), NaN
    assert counts.sum() + off_scale.sum() == values.size
    assert probes.off_scale_share(counts, off_scale) == pytest.approx(0.6)


def test_histogram_of_values_inside_has_nothing_off_scale():
    counts, off_scale = probes.histogram(np.linspace(-2, 2, 101), EDGES)
    assert counts.sum() == 101 and off_scale.tolist() == [0, 0, 0]
    assert probes.off_scale_share(counts, off_scale) == 0.0
    assert probes.off_scale_share(np.zeros(4), np.zeros(3)) == 0.0  # no values at all


def test_histogram_rows_density_is_over_all_values():
    """Mass that leaves the bins shrinks the bars that stay: density integrates to 1 − off."""
    rng = np.random.default_rng(0)
    at_init = rng.normal(0, 0.5, 1_000)
    later = np.concatenate([at_init[:7], at_init[7:] - 100.0])  # 99.3% leave below
    histograms = [probes.histogram(values, EDGES) for values in (at_init, later)]
    counts = np.stack([counts for counts, _ in histograms])
    off_scale = np.stack([off for _, off in histograms])
    rows = probes.histogram_rows(EDGES, counts, off_scale)
    assert rows["side"].tolist()[:6] == ["below", "inside", "inside", "inside", "inside", "above"]
    assert len(rows) == 2 * (len(EDGES) + 1)
    inside = rows[rows["side"] == "inside"]
    area = (inside["density"] * (inside["bin_end"] - inside["bin_start"])).groupby(
        inside["histogram"]
    )
    assert area.sum().tolist() == pytest.approx([1.0, 0.007])
    assert rows.groupby("histogram")["share"].sum().tolist() == pytest.approx([1.0, 1.0])
    later_rows = rows[rows["histogram"] == 1]
    assert later_rows["off_scale"].unique().tolist() == pytest.approx([0.993])
    below = later_rows[later_rows["side"] == "below"].iloc[0]
    assert below["count"] == 993 and below["bin_start"] == -np.inf and below["bin_end"] == -2.0
    assert np.isnan(below["density"])  # an end bar has no width


def test_run_result_histogram_table_keeps_the_off_scale_rows():
    """The engine's table: one block of rows per checkpoint, with its step and epoch."""
    counts = np.array([[10, 20, 20, 10], [0, 1, 1, 0]], np.int32)
    off_scale = np.array([[0, 0, 0], [50, 5, 3]])
    history = pd.DataFrame({"step": [0, 5], "epoch": [0.0, 0.01]})
    result = RunResult(
        config=PRESETS["A2"].config,
        history=history,
        layers=pd.DataFrame(),
        step_loss=np.zeros(5, np.float32),
        preactivation_edges=EDGES,
        preactivation_counts=counts,
        preactivation_off_scale=off_scale,
        activation_edges={"hidden_1": EDGES},
        activation_counts={"hidden_1": counts},
        activation_off_scale={"hidden_1": off_scale},
        parameter_count=0,
        planned_steps=5,
    )
    table = result.histogram_table()
    assert "histogram" not in table.columns
    assert table.groupby("step")["off_scale"].first().tolist() == pytest.approx([0.0, 58 / 60])
    assert table.groupby("step")["count"].sum().tolist() == [60, 57]  # NaN in the share only
    step_5 = table[(table["step"] == 5) & (table["side"] == "inside")]
    assert step_5["density"].tolist() == pytest.approx([0.0, 1 / 60, 1 / 60, 0.0])
    assert table["epoch"].unique().tolist() == [0.0, 0.01]
    assert result.histogram_table("hidden_1").equals(table)
