"""The twin lab: its three configurations, and on real Fashion-MNIST the corrected twin retraces
the scaled-inputs run while the first step grows by c² (SGD) or c (Adam)."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from explorer import charts, compare, twin
from explorer.config import FIRST_LAYER
from explorer.presets import PRESETS
from explorer.setups import TwinSetup
from explorer.train import train

A1 = PRESETS["A1"].config


def base(samples=12_800, **changes):
    """A1, one epoch of `samples` images (samples / 32 steps), tanh: smooth, so no ReLU kink."""
    changes.setdefault("activation", "tanh")
    return A1.replace(train_samples=samples, validation_samples=1_000, epochs=1, **changes)


@pytest.mark.parametrize(
    ("optimizer", "multiplier"),
    [("sgd", 1 / 255**2), ("momentum", 1 / 255**2), ("adam", 1 / 255), ("rmsprop", 1 / 255)],
)
def test_configs_set_inputs_weights_and_correction(optimizer, multiplier):
    sidebar = A1.replace(
        input_scaling="standardize", weight_scale=3.0, first_layer_lr_multiplier=7.0
    )
    configs = twin.twin_configs(sidebar, 255, optimizer)
    assert list(configs) == list(twin.run_labels(255))
    first, second, third = configs.values()
    for config in configs.values():
        assert config.optimizer == optimizer and config.input_scaling == "divide"
        assert config.weight_scale_scope == "first"
        assert config.learning_rate == A1.learning_rate and config.seed == A1.seed
    assert (first.input_divisor, first.weight_scale, first.first_layer_lr_multiplier) == (
        255.0,
        1.0,
        1.0,
    )
    assert (second.input_divisor, second.weight_scale, second.first_layer_lr_multiplier) == (
        1.0,
        255.0,
        1.0,
    )
    assert third == second.replace(first_layer_lr_multiplier=third.first_layer_lr_multiplier)
    assert third.first_layer_lr_multiplier == pytest.approx(multiplier, rel=1e-12)
    assert sidebar.weight_scale == 3.0  # pure: the base is untouched


def test_growth_is_c_squared_for_sgd_and_c_for_adaptive_optimizers():
    assert twin.relative_step_growth("sgd", 255) == 255**2
    assert twin.relative_step_growth("momentum", 0.5) == 0.25
    assert twin.relative_step_growth("adam", 255) == 255
    assert twin.relative_step_growth("rmsprop", 16) == 16


@pytest.mark.parametrize("factor", [0, -1, math.inf, math.nan, 2e6, 1e-4, True, "255"])
def test_bad_factor_is_rejected_with_what_is_allowed(factor):
    with pytest.raises(ValueError, match=r"twin_factor must be a number from 0.001 to 1e\+06"):
        twin.twin_configs(A1, factor, "sgd")


def test_bad_optimizer_is_rejected():
    with pytest.raises(ValueError, match="twin_optimizer must be one of sgd, momentum"):
        twin.twin_configs(A1, 255, "lbfgs")


def test_link_keys_are_checked():
    setup, problems = TwinSetup.from_query({"twin_factor": "1/256", "twin_optimizer": "Adam"})
    assert setup == TwinSetup(factor=1 / 256, optimizer="adam") and problems == []
    setup, problems = TwinSetup.from_query({"twin_factor": "huge", "twin_optimizer": "lbfgs"})
    assert setup == TwinSetup() and len(problems) == 2
    assert "'huge'" in problems[0] and "'lbfgs'" in problems[1]
    assert TwinSetup.from_query(setup.to_query()) == (setup, [])


def train_twins(dataset, config, factor, optimizer):
    configs = twin.twin_configs(config, factor, optimizer)
    return {label: train(run, dataset) for label, run in configs.items()}


@pytest.fixture(scope="module")
def sgd_twins(fashion):
    return train_twins(fashion, base(), 255.0, "sgd")  # 400 steps each


@pytest.mark.slow
def test_sgd_corrected_twin_retraces_scaled_inputs(sgd_twins):
    first, second, third = sgd_twins.values()
    assert len(first.step_loss) == len(third.step_loss) == 400
    assert np.abs(third.step_loss - first.step_loss).max() < 1e-4
    assert np.abs(second.step_loss[:50] - first.step_loss[:50]).max() > 0.5
    # Identical at init: the same pre-activation histogram on the same probe batch.
    np.testing.assert_allclose(first.history.z_std.iloc[0], second.history.z_std.iloc[0], 1e-5)
    np.testing.assert_array_equal(first.preactivation_counts[0], third.preactivation_counts[0])


@pytest.mark.slow
def test_sgd_first_step_grows_by_c_squared_and_correction_undoes_it(sgd_twins):
    ratios = twin.first_step_ratios(sgd_twins)
    assert list(ratios.columns) == ["run", "gradient_norm", "update_ratio", "ratio_to_first"]
    assert list(ratios.run) == list(sgd_twins)
    assert (ratios.update_ratio > 0).all()
    assert ratios.ratio_to_first.iloc[1] == pytest.approx(255**2, rel=0.1)
    assert ratios.ratio_to_first.iloc[2] == pytest.approx(1.0, rel=1e-3)
    assert ratios.gradient_norm.iloc[1] / ratios.gradient_norm.iloc[0] == pytest.approx(255, 0.01)


@pytest.mark.slow
def test_derivation_quotes_this_lab_numbers(sgd_twins):
    numbers = twin.derivation_numbers(255.0, "sgd", sgd_twins)
    assert numbers["expected_growth"] == 65025
    assert numbers["measured_growth"] == pytest.approx(65025, rel=0.01)
    assert numbers["corrected_growth"] == pytest.approx(1, rel=1e-3)
    assert numbers["steps_compared"] == 400 and numbers["max_corrected_gap"] < 1e-4
    text = twin.derivation_markdown("sgd", numbers)
    assert "z = (x/c)·W = x·(W/c)" in text and "c = 255" in text
    assert "c² = 65,025" in text and "run 2 / run 1 = 65,02" in text
    assert "÷c²" in text
    gaps = twin.loss_gaps(sgd_twins)
    assert set(gaps.run) == set(list(sgd_twins)[1:])


@pytest.mark.slow
def test_momentum_twin_is_tight(fashion):
    runs = train_twins(fashion, base(learning_rate=0.01), 255.0, "momentum")
    first, _, third = runs.values()
    assert np.abs(third.step_loss - first.step_loss).max() < 1e-4
    assert twin.first_step_ratios(runs).ratio_to_first.iloc[1] == pytest.approx(255**2, rel=0.1)


@pytest.mark.slow
def test_rmsprop_twin_agrees_loosely(fashion):
    """RMSprop's epsilon sits inside its square root: the engine scales it by c² (not c)."""
    runs = train_twins(fashion, base(samples=3_200, learning_rate=0.001), 255.0, "rmsprop")
    first, _, third = runs.values()  # 100 steps each
    assert np.abs(third.step_loss - first.step_loss).max() < 1e-3
    assert twin.first_step_ratios(runs).ratio_to_first.iloc[1] == pytest.approx(255, rel=0.1)


@pytest.mark.slow
def test_adam_twin_agrees_loosely_and_grows_by_c(fashion):
    runs = train_twins(fashion, base(samples=3_200, learning_rate=0.001), 255.0, "adam")
    first, second, third = runs.values()  # 100 steps each
    assert np.abs(third.step_loss - first.step_loss).max() < 1e-3
    assert np.abs(second.step_loss - first.step_loss).max() > 1e-2
    ratios = twin.first_step_ratios(runs).ratio_to_first
    assert ratios.iloc[1] == pytest.approx(255, rel=0.1)
    assert ratios.iloc[2] == pytest.approx(1.0, rel=1e-3)
    text = twin.derivation_markdown("adam", twin.derivation_numbers(255.0, "adam", runs))
    assert "epsilon ×c" in text and "c = 255" in text


def test_only_powers_of_two_are_exact_in_float32():
    assert twin.factor_is_exact(256) and twin.factor_is_exact(0.5)
    assert not twin.factor_is_exact(255) and not twin.factor_is_exact(1000)


def test_adaptive_optimizers_get_learning_rate_advice():
    assert "near 0.001" in twin.learning_rate_advice("adam", 0.1)
    assert "0.1" in twin.learning_rate_advice("rmsprop", 0.1)
    assert twin.learning_rate_advice("adam", 0.001) is None
    assert twin.learning_rate_advice("sgd", 0.1) is None


def curves(runs: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """A curves table: each run's loss falls from its first value to its second over 5
    checkpoints; accuracy is 1 − loss / 3."""
    frames = []
    for run, (start, end) in runs.items():
        loss = np.geomspace(start, end, 5)
        for split in ("train", "validation"):
            for metric, values in (("loss", loss), ("accuracy", 1 - loss / 3)):
                frames.append(
                    pd.DataFrame(
                        {"run": run, "step": range(0, 50, 10), "epoch": np.arange(5) / 4}
                    ).assign(split=split, metric=metric, value=values, diverged=False)
                )
    return pd.concat(frames, ignore_index=True)


def test_a_run_on_another_runs_curves_is_found_with_its_gap():
    table = curves({"A1": (2.3, 0.4), "A2": (2.3, 2.3), "A3": (2.3, 0.4)})
    a3 = (table.run == "A3") & (table.metric == "loss") & (table.step == 40)
    table.loc[a3, "value"] += 2e-7
    found = compare.coinciding_runs(table)
    assert found[["run", "reference"]].values.tolist() == [["A3", "A1"]]
    assert found.loss_gap.iloc[0] == pytest.approx(2e-7, rel=1e-3)
    assert found.accuracy_gap.iloc[0] == 0.0


@pytest.mark.parametrize(
    ("change", "coincide"),
    [
        ({"metric": "loss", "relative": 0.5 * compare.COINCIDE_RELATIVE}, True),
        ({"metric": "loss", "relative": 2 * compare.COINCIDE_RELATIVE}, False),
        ({"metric": "accuracy", "absolute": 2 * compare.COINCIDE_RELATIVE}, False),
    ],
)
def test_runs_coincide_only_within_the_tolerance(change, coincide):
    table = curves({"A1": (2.3, 0.4), "A3": (2.3, 0.4)})
    last = (table.run == "A3") & (table.metric == change["metric"]) & (table.step == 40)
    if "relative" in change:
        table.loc[last, "value"] *= 1 + change["relative"]
    else:
        table.loc[last, "value"] += change["absolute"]
    assert (len(compare.coinciding_runs(table)) == 1) == coincide


def test_a_shorter_or_diverged_run_does_not_coincide():
    table = curves({"A1": (2.3, 0.4), "A3": (2.3, 0.4)})
    longer = table[table.run == "A1"].assign(step=lambda f: f.step + 100)
    extended = pd.concat([table[table.run == "A1"], longer, table[table.run == "A3"]])
    assert len(compare.coinciding_runs(extended)) == 1  # A3's every point lies on A1's line
    a1_short = table[(table.run == "A1") & (table.step < 20)]
    shorter_first = pd.concat([a1_short, table[table.run == "A3"]])
    assert compare.coinciding_runs(shorter_first).empty  # A3 goes on where A1 has no line
    table.loc[(table.run == "A3") & (table.step == 40), "value"] = np.nan
    assert compare.coinciding_runs(table).empty
    assert compare.coinciding_runs(table.iloc[:0]).empty


@pytest.mark.slow
def test_corrected_twin_is_named_on_the_curves_chart(sgd_twins):
    """Run 3 retraces run 1: the curves chart says so, with the gap measured."""
    table = compare.curves_table(sgd_twins)
    found = compare.coinciding_runs(table)
    first, _, third = sgd_twins
    assert found[["run", "reference"]].values.tolist() == [[third, first]]
    assert found.loss_gap.iloc[0] < 1e-4
    spec = charts.curves_chart(table, found).to_dict()
    assert f"{third} coincides with {first}: largest gap" in str(spec["datasets"])


# --- seed bands: the twins of one seed are twins ---------------------------------------------


def fake_twin(seed: int, gradient: float, update: float, losses) -> SimpleNamespace:
    """What the band helpers read of a run: its seed, its first kernel on step 1, its losses."""
    layers = pd.DataFrame(
        {
            "step": [0, 1, 1],
            "layer": [FIRST_LAYER, FIRST_LAYER, "hidden_2"],
            "gradient_norm": [np.nan, gradient, 99.0],
            "update_ratio": [np.nan, update, 99.0],
        }
    )
    config = SimpleNamespace(seed=seed)
    return SimpleNamespace(config=config, layers=layers, step_loss=np.asarray(losses, float))


def fake_bands() -> dict[str, list[SimpleNamespace]]:
    """Two seeds of three twins: seed 1's runs move twice as far as seed 0's, but within each
    seed run 2 moves c² = 65,025 times run 1 and run 3 exactly as far as run 1."""
    labels = twin.run_labels(255)
    steps = {0: 0.01, 1: 0.02}
    return {
        labels[0]: [fake_twin(s, 1.0 + s, step, [2.3, 2.0, 1.8]) for s, step in steps.items()],
        labels[1]: [
            fake_twin(s, 255 * (1.0 + s), 65025 * step, [2.3, 5.0 + s, np.inf])
            for s, step in steps.items()
        ],
        labels[2]: [
            fake_twin(s, 255 * (1.0 + s), step, [2.3, 2.0, 1.8 + s * 1e-7])
            for s, step in steps.items()
        ],
    }


def test_twins_by_seed_pairs_the_twins_of_each_seed():
    seeds = twin.twins_by_seed(fake_bands())
    assert len(seeds) == 2
    for index, twins in enumerate(seeds):
        assert list(twins) == list(twin.run_labels(255))
        assert {result.config.seed for result in twins.values()} == {index}
    shorter = {**fake_bands(), "extra": [fake_twin(0, 1, 1, [1.0])]}
    assert len(twin.twins_by_seed(shorter)) == 1  # a seed some twin lacks is left out


def test_first_step_band_takes_each_ratio_within_its_own_seed():
    per_seed = twin.first_step_seeds(twin.twins_by_seed(fake_bands()))
    assert list(per_seed.columns) == ["run", "seed", *twin.FIRST_STEP_MEASURES]
    assert list(per_seed.seed) == [0, 0, 0, 1, 1, 1]
    band = twin.first_step_band(per_seed).set_index("run")
    first, second, third = twin.run_labels(255)
    # ‖ΔW‖/‖W‖ doubles from seed 0 to seed 1: its mean and range say so ...
    assert band.loc[first, "update_ratio"] == pytest.approx(0.015)
    assert band.loc[first, ["update_ratio_low", "update_ratio_high"]].tolist() == [0.01, 0.02]
    # ... while the ratio to run 1 of the same seed does not move.
    assert band.loc[second, "ratio_to_first"] == pytest.approx(65025)
    assert band.loc[second, "ratio_to_first_high"] == pytest.approx(65025)
    assert band.loc[third, ["ratio_to_first_low", "ratio_to_first_high"]].tolist() == [1.0, 1.0]
    assert band.loc[second, "gradient_norm_low"] == 255 and set(band.seeds) == {2}
    words = twin.seed_range_words(band.reset_index())
    assert "Over the 2 seeds" in words and "run 2 / run 1 is 65,025 on every seed" in words
    assert "run 3 / run 1 is 1 on every seed" in words
    spread = band.reset_index().assign(ratio_to_first_low=0.99, ratio_to_first_high=1.0102)
    assert "run 3 / run 1 is from 0.99 to 1.0102." in twin.seed_range_words(spread)


def test_loss_gaps_per_seed_are_against_run_1_of_the_same_seed():
    gaps = twin.loss_gap_seeds(twin.twins_by_seed(fake_bands()))
    assert list(gaps.columns) == ["run", "seed", "step", "gap"]
    second, third = twin.run_labels(255)[1:]
    run_2 = gaps[gaps.run == second].set_index(["seed", "step"]).gap
    assert run_2.to_dict() == pytest.approx({(0, 1): 0.0, (0, 2): 3.0, (1, 1): 0.0, (1, 2): 4.0})
    run_3 = gaps[(gaps.run == third) & (gaps.step == 3)].set_index("seed").gap
    assert run_3[0] == 0.0 and run_3[1] == pytest.approx(1e-7)  # its own seed's run 1, not seed 0's
    spec = charts.loss_gap_chart(gaps, list(fake_bands())).to_dict()
    assert spec["encoding"]["detail"]["field"] == "seed"  # one line per twin and seed
    assert (
        "detail"
        not in charts.loss_gap_chart(twin.loss_gaps(twin.twins_by_seed(fake_bands())[0])).to_dict()[
            "encoding"
        ]
    )
