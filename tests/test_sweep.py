"""One-knob sweeps: values, configurations, and the table the sweep chart draws."""

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from explorer import charts, sweep
from explorer.config import FIRST_LAYER
from explorer.presets import PRESETS
from explorer.setups import SweepSetup
from explorer.train import train

A1 = PRESETS["A1"].config


def test_log_values_are_evenly_spaced_in_the_exponent():
    assert sweep.sweep_values(0.001, 1.0, 4, "log") == [0.001, 0.01, 0.1, 1.0]
    assert sweep.sweep_values(1, 255, 2, "log") == [1.0, 255.0]


def test_linear_values_include_both_ends():
    assert sweep.sweep_values(0.0, 1.0, 5, "linear") == [0.0, 0.25, 0.5, 0.75, 1.0]
    values = sweep.sweep_values(0.1, 0.3, 3, "linear")
    assert values == [0.1, 0.2, 0.3]  # rounded, not 0.30000000000000004


def test_integer_values_are_rounded_and_not_repeated():
    assert sweep.sweep_values(8, 1024, 8, "log", integer=True) == [
        8.0,
        16.0,
        32.0,
        64.0,
        128.0,
        256.0,
        512.0,
        1024.0,
    ]
    assert sweep.sweep_values(1, 3, 12, "linear", integer=True) == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.001, 1.0, 1, "log"), "sweep_count must be a whole number from 2 to 12; got 1"),
        ((0.001, 1.0, 13, "log"), "sweep_count must be a whole number from 2 to 12; got 13"),
        ((0.001, 1.0, 2.5, "log"), "sweep_count must be a whole number from 2 to 12; got 2.5"),
        ((0.0, 1.0, 4, "log"), "a log sweep needs a positive sweep_from; got 0"),
        ((-1.0, 1.0, 4, "log"), "a log sweep needs a positive sweep_from; got -1"),
        ((1.0, 1.0, 4, "linear"), "sweep_from must be below sweep_to; got 1 and 1"),
        ((2.0, 1.0, 4, "linear"), "sweep_from must be below sweep_to; got 2 and 1"),
        ((math.nan, 1.0, 4, "linear"), "sweep_from must be a finite number; got nan"),
        ((0.1, math.inf, 4, "log"), "sweep_to must be a finite number; got inf"),
        ((0.1, 1.0, 4, "cubic"), "sweep_scale must be one of log, linear; got 'cubic'"),
    ],
)
def test_bad_ranges_say_what_is_allowed(args, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sweep.sweep_values(*args)


def test_configs_change_only_the_knob():
    configs = sweep.sweep_configs(A1, "learning_rate", [0.01, 0.1])
    assert [config.learning_rate for config in configs] == [0.01, 0.1]
    assert all(config.replace(learning_rate=A1.learning_rate) == A1 for config in configs)
    scaled = sweep.sweep_configs(A1, "weight_scale", [1.0, 255.0])
    assert [config.weight_scale for config in scaled] == [1.0, 255.0]


def test_each_knob_sets_its_field():
    standardized = A1.replace(input_scaling="standardize")
    (inputs,) = sweep.sweep_configs(standardized, "input_scale", [16.0])
    assert (inputs.input_scaling, inputs.input_divisor) == ("divide", 16.0)
    (wide,) = sweep.sweep_configs(A1, "hidden_width", [64])
    assert wide.hidden_units == (64, 64)  # every hidden layer; the depth is kept
    normal = A1.replace(kernel_initializer="random_normal")
    (spread,) = sweep.sweep_configs(normal, "init_stddev", [0.5])
    assert spread.init_param == 0.5
    for knob in sweep.SWEEP_KNOBS:
        assert sweep.knob_value(normal, knob) > 0


def test_bad_knobs_and_values_are_rejected():
    with pytest.raises(ValueError, match="sweep_knob must be one of weight_scale"):
        sweep.sweep_configs(A1, "momentum", [0.9])
    with pytest.raises(ValueError, match="init_stddev only changes random_normal"):
        sweep.sweep_configs(A1, "init_stddev", [0.1])  # A1 is Glorot: the knob would do nothing
    with pytest.raises(ValueError, match="learning_rate must be a number from 1e-07 to 100"):
        sweep.sweep_configs(A1, "learning_rate", [1000.0])
    with pytest.raises(ValueError, match="hidden_width takes whole numbers"):
        sweep.sweep_configs(A1, "hidden_width", [2.5])


def test_link_keys_are_checked():
    good = {"sweep_knob": "weight_scale", "sweep_scale": "linear", "sweep_from": "1"}
    setup, problems = SweepSetup.from_query({**good, "sweep_to": "10", "sweep_count": "3"})
    assert setup == SweepSetup("weight_scale", "linear", 1.0, 10.0, 3) and problems == []
    bad = {"sweep_knob": "x", "sweep_scale": "y", "sweep_from": "z", "sweep_count": "50"}
    setup, problems = SweepSetup.from_query(bad)
    assert setup == SweepSetup()
    for text in ("sweep_knob", "'x'", "sweep_scale", "sweep_from", "sweep_count", "'50'"):
        assert text in " ".join(problems)
    with pytest.raises(ValueError, match="sweep_count must be a whole number from 2 to 12"):
        SweepSetup(count=13)


@pytest.fixture(scope="module")
def learning_rate_runs(fashion):
    """Three tiny real runs: 1,000 images, one epoch; lr 100 blows up."""
    base = A1.replace(train_samples=1_000, validation_samples=500, epochs=1)
    values = [0.01, 0.1, 100.0]
    return values, [
        train(config, fashion) for config in sweep.sweep_configs(base, "learning_rate", values)
    ]


@pytest.mark.slow
def test_table_from_real_runs(learning_rate_runs):
    values, results = learning_rate_runs
    table = sweep.sweep_table("learning_rate", values, results)
    assert list(table.columns) == ["value", "metric", "result", "diverged"]
    assert set(table.metric) == {"val_accuracy", "val_loss", "dead_at_init"}  # relu: dead units
    assert len(table) == 3 * len(values)
    accuracy = table[table.metric == "val_accuracy"].set_index("value").result
    assert accuracy[0.1] > 0.5  # chance is 0.1
    blown = table[table.value == 100.0]
    assert blown.diverged.all() and results[2].diverged
    assert blown[blown.metric != "dead_at_init"].result.isna().all()
    assert table[table.metric == "dead_at_init"].result.between(0, 1).all()
    spec = charts.sweep_chart(table, "learning rate", log_x=True).to_dict()
    assert len(spec["vconcat"]) == 3


@pytest.mark.slow
def test_sigmoid_sweep_measures_saturation_and_counts_must_match(learning_rate_runs):
    values, results = learning_rate_runs
    assert sweep.saturation_metric("sigmoid") == ("saturation_at_init", "saturated_share")
    assert sweep.saturation_metric("linear") is None
    with pytest.raises(ValueError, match="one result per value; got 3 for 2"):
        sweep.sweep_table("learning_rate", values[:2], results)


# --- seed bands: every value trained with several seeds ---------------------------------------


def fake_run(seed: int, accuracy: float, saturated: float, diverged: bool = False):
    """What the sweep reads of a sigmoid run: its seed, its final numbers, its first layer at
    init, and whether it diverged."""
    layers = pd.DataFrame(
        {"step": [0, 0], "layer": [FIRST_LAYER, "hidden_2"], "saturated_share": [saturated, 1.0]}
    )
    return SimpleNamespace(
        config=SimpleNamespace(seed=seed, activation="sigmoid"),
        final=pd.Series({"val_accuracy": accuracy, "val_loss": 1 - accuracy}),
        diverged=diverged,
        layers=layers,
    )


VALUES = [0.01, 0.1, 10.0]
BANDS = [
    [fake_run(0, 0.70, 0.10), fake_run(1, 0.80, 0.20)],
    [fake_run(0, 0.85, 0.30), fake_run(1, 0.5, 0.40, diverged=True)],
    [fake_run(0, 0.1, 0.50, diverged=True), fake_run(1, 0.1, 0.70, diverged=True)],
]


def test_seed_table_has_a_row_per_value_seed_and_metric():
    table = sweep.seed_table("learning_rate", VALUES, BANDS)
    assert list(table.columns) == ["value", "seed", "metric", "result", "diverged"]
    assert len(table) == 3 * 2 * 3
    diverged = table[(table.value == 0.1) & (table.seed == 1)].set_index("metric")
    assert diverged.result.isna().tolist() == [True, True, False]  # init measured before it blew up
    single = sweep.sweep_table("learning_rate", VALUES, [members[0] for members in BANDS])
    assert list(single.columns) == ["value", "metric", "result", "diverged"] and len(single) == 9


def test_band_table_reads_each_value_as_mean_range_and_diverged_seeds():
    band = sweep.band_table(sweep.seed_table("learning_rate", VALUES, BANDS))
    assert list(band.columns) == [
        "value", "metric", "result", "low", "high", "seeds", "diverged_seeds", "diverged"
    ]  # fmt: skip
    rows = band.set_index(["value", "metric"])
    first = rows.loc[(0.01, "val_accuracy")]
    assert first.result == pytest.approx(0.75) and (first.low, first.high) == (0.7, 0.8)
    assert (first.seeds, first.diverged_seeds, first.diverged) == (2, 0, False)
    partly = rows.loc[(0.1, "val_accuracy")]  # the diverged seed has no final accuracy
    assert (partly.result, partly.low, partly.high) == (0.85, 0.85, 0.85)
    assert (partly.diverged_seeds, partly.diverged) == (1, False)
    assert rows.loc[(0.1, "saturation_at_init"), "result"] == pytest.approx(0.35)
    gone = rows.loc[(10.0, "val_loss")]
    assert math.isnan(gone.result) and gone.diverged and gone.diverged_seeds == 2
    assert rows.loc[(10.0, "saturation_at_init"), "high"] == 0.7


def test_the_download_has_every_seed_beside_its_band():
    seeds = sweep.seed_table("learning_rate", VALUES, BANDS)
    table = sweep.download_table(seeds)
    assert len(table) == len(seeds)
    assert {"seed", "result", "mean", "low", "high", "seeds", "diverged_seeds"} <= set(table)
    row = table[(table.value == 0.01) & (table.seed == 1) & (table.metric == "val_accuracy")]
    assert row[["result", "mean", "low"]].iloc[0].tolist() == pytest.approx([0.8, 0.75, 0.7])
    one_seed = seeds[seeds.seed == 0]
    assert list(sweep.download_table(one_seed).columns) == list(seeds.columns)  # no band to add
