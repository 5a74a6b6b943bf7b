"""Seed bands: a set-up trained with several seeds at once, read as a band in every view."""

import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest
from streamlit import dataframe_util
from test_share import open_link

from explorer import bands, probes, twin
from explorer.presets import PRESETS
from explorer.ui import sidebar, twin_lab

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_a_seeds_value_outside_1_to_8_is_reported(train_calls):
    app = open_link(seeds="9")
    assert not app.exception and not train_calls
    warnings = " ".join(warning.value for warning in app.warning)
    assert "`seeds` was not used" in warnings
    assert app.number_input(key="seeds").value == 1


@pytest.mark.slow
def test_a_band_trains_together_and_every_view_reads_it(fashion, train_calls, tiny_quick_look):
    app = open_link(runs="A1,A3", seeds="2", view="Curves")
    assert not app.exception, app.exception
    quick = [sidebar.quick_look(PRESETS[key].config, True) for key in ("A1", "A3")]
    assert train_calls == [quick[0], quick[0].replace(seed=1), quick[1], quick[1].replace(seed=1)]
    names = app.multiselect[0].options
    assert names == [f"{PRESETS['A1'].title} · 2 seeds", f"{PRESETS['A3'].title} · 2 seeds"]
    spec = json.loads(app.get("vega_lite_chart")[0].proto.spec)
    assert '"high"' in json.dumps(spec) and "min–max band" in spec["title"]["text"]
    link = parse_qs(urlsplit(app.code[0].value).query)
    assert link["seeds"] == ["2"] and link["runs"] == ["A1,A3"]

    app.session_state["view"] = "Summary"
    app.query_params["view"] = "Summary"
    app = app.run()
    assert not app.exception, app.exception
    tables = [frame.value for frame in app.dataframe]
    band_rows = [table for table in tables if "seeds" in set(table["measure"])]
    assert len(band_rows) == 2 and band_rows[0].set_index("measure").loc["seeds", "value"] == "0, 1"
    texts = " ".join(markdown.value for markdown in app.markdown)
    assert "Differences against the seed spread" in texts
    assert "pp of final validation accuracy" in texts

    # One seed of each band, picked above the view.
    app.session_state["view"] = "Pre-activations"
    app.query_params["view"] = "Pre-activations"
    app = app.run()
    assert not app.exception, app.exception
    assert any("first seed is drawn" in caption.value for caption in app.caption)


@pytest.mark.slow
def test_band_words_say_whether_a_difference_exceeds_the_spread(fashion):
    from explorer import group

    config = PRESETS["A1"].config.replace(train_samples=640, validation_samples=200, epochs=1)
    slow = config.replace(learning_rate=0.001)
    configs = group.seed_configs(config, 3) + group.seed_configs(slow, 3)
    results = group.train_group(configs, fashion)
    fast, crawl = results[:3], results[3:]
    words = bands.difference_words("lr 0.1", fast, "lr 0.001", crawl)
    assert words.startswith("lr 0.1 − lr 0.001: +") and "beyond the seed spread" in words
    same = bands.difference_words("A", fast, "B", fast)
    assert "+0.0 pp" in same and "inside the seed spread" in same
    table = bands.band_curves_table({"fast": fast})
    assert (table["low"] <= table["value"]).all() and (table["value"] <= table["high"]).all()
    assert set(table["seeds"]) == {3}


@pytest.mark.slow
def test_the_twin_lab_trains_every_twin_with_the_sidebars_seeds(
    fashion, train_calls, tiny_quick_look
):
    app = open_link(view="Twin lab", seeds="2")
    assert not app.exception, app.exception
    assert len(train_calls) == 6 and {config.seed for config in train_calls} == {0, 1}
    texts = " ".join(caption.value for caption in app.caption)
    assert "Each twin trained 2 seeds" in texts
    specs = [chart.proto.spec for chart in app.get("vega_lite_chart")]
    assert any('"high"' in spec for spec in specs)  # the twins' curves as bands
    names = app.session_state["run_names"]
    assert sorted(names.values())[:2] == ["1 · inputs ÷255", "1 · inputs ÷255 · seed 1"]

    # Every seed: each twin's first step as a mean with the seeds' range, histograms pooled.
    (band,) = [frame.value for frame in app.dataframe if "ratio_to_first" in frame.value]
    assert list(band.seeds) == [2, 2, 2] and "range" in band.gradient_norm.iloc[0]
    assert "Over the 2 seeds" in texts and "seeds 0–1" in texts
    assert "first seed" not in texts  # the old caption, no longer true
    frames = [frame for chart in app.get("vega_lite_chart") for frame in chart_data(chart)]
    histograms = max((frame for frame in frames if "checkpoint" in frame), key=len)  # every bar
    at_init = histograms[histograms.checkpoint == 0].groupby("run")["count"].sum()
    one_seed = next(iter(app.session_state["runs"].values())).preactivation_counts[0].sum()
    assert at_init.to_numpy() == pytest.approx(2 * one_seed)  # each twin pools both seeds
    gaps = next(frame for frame in frames if "gap" in frame)
    assert set(gaps.seed) == {0, 1}  # a gap line per twin and seed

    # Seed #2: every number is the second seed's three twins.
    kept, configs = app.session_state["runs"], app.session_state["twin_lab"]["configs"]
    second = {label: kept[config.replace(seed=1)] for label, config in configs.items()}
    first = {label: kept[config] for label, config in configs.items()}
    app = app.segmented_control(key=twin_lab.SEED_KEY).set_value(1).run()
    assert not app.exception, app.exception
    (shown,) = [frame.value for frame in app.dataframe if "ratio_to_first" in frame.value]
    pd.testing.assert_frame_equal(shown, twin.first_step_ratios(second))
    assert not shown.equals(twin.first_step_ratios(first))  # another seed, other numbers
    texts = " ".join(caption.value for caption in app.caption)
    assert "Seed #2 of 2 (seed 1)" in texts and "batch 32, seed 1." in texts
    steps = twin.derivation_numbers(255.0, "sgd", second)["measured_growth"]
    markdown = " ".join(element.value for element in app.markdown)
    assert f"run 2 / run 1 = {twin._number(steps)}" in markdown


@pytest.mark.slow
def test_the_sweep_draws_each_values_band(fashion, train_calls, tiny_quick_look):
    sweep = {"sweep_knob": "learning_rate", "sweep_from": "0.01", "sweep_to": "1"}
    app = open_link(view="Sweep", seeds="2", sweep_count="2", sweep_scale="log", **sweep)
    assert not app.exception, app.exception
    assert sorted((c.learning_rate, c.seed) for c in train_calls) == [
        (0.01, 0), (0.01, 1), (1.0, 0), (1.0, 1)
    ]  # fmt: skip
    (chart,) = app.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    data = pd.concat(chart_data(chart), ignore_index=True)
    points = data[data.metric == "val_accuracy"].drop_duplicates("value").to_dict("records")
    assert {row["seeds"] for row in points} == {2}
    kept = app.session_state["runs"]
    for value in (0.01, 1.0):
        members = [c for c in kept if c.learning_rate == value]
        accuracies = [kept[c].final.val_accuracy for c in members if not kept[c].diverged]
        row = next(row for row in points if row["value"] == value)
        if accuracies:
            assert row["result"] == pytest.approx(np.mean(accuracies))
            assert (row["low"], row["high"]) == pytest.approx((min(accuracies), max(accuracies)))
        assert row["diverged_seeds"] == sum(kept[c].diverged for c in members)
    assert '"errorbar"' in chart.proto.spec and "min–max" in spec["title"]["text"]
    texts = " ".join(caption.value for caption in app.caption)
    assert "Each value trained 2 seeds" in texts and "4 runs of" in texts
    assert "first seed" not in texts


def test_an_action_over_the_sessions_run_limit_is_refused(train_calls):
    app = open_link(runs="A1,A2,A3,B2", seeds="8")  # 32 runs: a session keeps 24
    assert not app.exception and not train_calls
    errors = " ".join(error.value for error in app.error)
    assert "would keep 32 runs; a session keeps at most 24" in errors


def chart_data(chart) -> list[pd.DataFrame]:
    """The data of a chart as the page got it (Streamlit sends each dataset apart, as Arrow)."""
    return [
        dataframe_util.convert_arrow_bytes_to_pandas_df(dataset.data.data)
        for dataset in chart.proto.datasets
    ]


# --- pooled histograms: the seeds' counts on common bins --------------------------------------


def fake_run(edges, counts, off_scale) -> SimpleNamespace:
    """What pooling reads of a run: its first layer's histograms and their checkpoints."""
    counts = np.asarray(counts, dtype=np.int32)
    steps = np.arange(len(counts)) * 10
    return SimpleNamespace(
        preactivation_edges=np.asarray(edges, float),
        preactivation_counts=counts,
        preactivation_off_scale=np.asarray(off_scale, dtype=np.int64),
        history=pd.DataFrame({"step": steps, "epoch": steps / 20}),
    )


def test_rebin_keeps_every_value_and_its_off_scale_counts_true():
    edges = np.linspace(-2, 2, 5)  # bins of width 1
    counts, off_scale = np.array([[1, 2, 3, 4]]), np.array([[5, 6, 7]])
    moved, moved_off = probes.rebin(edges, counts, off_scale, np.linspace(-1.5, 1.5, 4))
    # Half of the bin [-2, -1) lies below -1.5, half of [1, 2) above 1.5.
    np.testing.assert_allclose(moved, [[0.5 + 1, 1 + 1.5, 1.5 + 2]])
    np.testing.assert_allclose(moved_off, [[5 + 0.5, 6 + 2, 7]])
    assert moved.sum() + moved_off.sum() == counts.sum() + off_scale.sum()
    same, same_off = probes.rebin(edges, counts, off_scale, edges)
    np.testing.assert_array_equal(same, counts)
    np.testing.assert_array_equal(same_off, off_scale)
    with pytest.raises(ValueError, match="new edges inside"):
        probes.rebin(edges, counts, off_scale, np.linspace(-3, 2, 5))


def test_seeds_with_the_same_bins_pool_by_adding_their_counts():
    edges = np.linspace(0, 1, 5)
    first = fake_run(edges, [[1, 2, 3, 4], [0, 0, 5, 5]], [[0, 0, 0], [0, 2, 0]])
    second = fake_run(edges, [[4, 3, 2, 1], [5, 5, 0, 0]], [[0, 0, 0], [1, 0, 1]])
    table = bands.pooled_preactivation_table({"twin": [first, second]})
    assert set(table.seeds) == {2} and list(dict.fromkeys(table.step)) == [0, 10]
    inside = table[(table.side == "inside") & (table.checkpoint == 0)]
    assert inside["count"].tolist() == [5, 5, 5, 5]
    np.testing.assert_allclose(inside.density, 5 / (20 * 0.25))  # over every value of both
    later = table[table.checkpoint == 1].set_index("side")
    assert later.loc["below", "count"] == 1 and later.loc["above", "count"] == 2
    assert later["off_scale"].iloc[0] == pytest.approx(4 / 24)  # NaN counts as off scale


def test_seeds_with_their_own_bins_pool_on_the_bins_they_all_cover():
    wide = fake_run(np.linspace(-2, 2, 5), [[1, 1, 1, 1]], [[1, 0, 0]])
    narrow = fake_run(np.linspace(-1, 1, 5), [[2, 2, 2, 2]], [[0, 1, 0]])
    table = bands.pooled_preactivation_table({"twin": [wide, narrow]})
    inside = table[table.side == "inside"]
    assert inside.bin_start.min() == -1 and inside.bin_end.max() == 1  # the common range
    ends = table.set_index("side")["count"]
    # The wide seed's outer bins lie beyond ±1: they join its own below count.
    assert ends["below"] == 1 + 1 and ends["above"] == 1 + 1
    assert table["count"].sum() == pytest.approx(4 + 1 + 8 + 1)  # nothing lost
    np.testing.assert_allclose(inside["count"], [0.5 + 2, 0.5 + 2, 0.5 + 2, 0.5 + 2])


def test_a_diverged_seed_counts_only_where_it_recorded():
    edges = np.linspace(0, 1, 3)
    whole = fake_run(edges, [[1, 1], [1, 1], [1, 1]], np.zeros((3, 3)))
    stopped = fake_run(edges, [[3, 3]], np.zeros((1, 3)))
    table = bands.pooled_preactivation_table({"twin": [stopped, whole]})
    by_checkpoint = table.groupby("checkpoint").agg(
        seeds=("seeds", "first"), count=("count", "sum")
    )
    assert by_checkpoint.seeds.tolist() == [2, 1, 1]
    assert by_checkpoint["count"].tolist() == [8, 2, 2]
    assert list(dict.fromkeys(table.step)) == [0, 10, 20]  # the longest seed's checkpoints


@pytest.mark.slow
def test_curves_of_a_diverging_band_count_its_diverged_seeds(fashion, tiny_quick_look):
    # A2 blows up on every seed: the Curves view says so for the band, not for its first seed.
    app = open_link(runs="A2", seeds="2", view="Curves")
    assert not app.exception, app.exception
    warnings = [warning.value for warning in app.warning]
    assert any("2 of 2 seeds diverged (at steps" in warning for warning in warnings), warnings
    assert not any("diverged at step" in warning for warning in warnings), warnings
