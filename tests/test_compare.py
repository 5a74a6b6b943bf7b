"""Run labels, comparison tables, CSV export and the plain-language diagnosis."""

import io

import pandas as pd
import pytest

from explorer import compare, diagnosis, presets
from explorer.presets import PRESETS
from explorer.train import train

A1 = PRESETS["A1"].config


def test_names_name_presets_or_what_differs_from_the_first_run():
    a1, a2 = (PRESETS[key].config for key in ("A1", "A2"))
    quick = a1.replace(train_samples=10_000, validation_samples=2_000)
    assert presets.preset_key(quick) == "A1"
    assert compare.stable_name(quick, None) == PRESETS["A1"].title
    assert compare.stable_name(a2, quick) == PRESETS["A2"].title
    taken = {PRESETS["A1"].title}
    assert compare.stable_name(a1, quick, taken) == f"{PRESETS['A1'].title} · 55,000 images"
    custom = quick.replace(learning_rate=0.5, seed=3)
    assert compare.stable_name(custom, quick) == "learning_rate=0.5 · seed=3"
    assert compare.stable_name(custom, quick, {"learning_rate=0.5 · seed=3"}).endswith(" #2")
    assert compare.stable_name(custom, None).startswith("glorot_normal_untruncated relu")


def test_a_new_name_says_what_is_allowed():
    assert compare.check_name("  my run ") == "my run"
    for bad in ("", "x" * (compare.MAX_NAME + 1), "a|b"):
        with pytest.raises(ValueError, match="a run's name must be 1 to 40 characters"):
            compare.check_name(bad)
    with pytest.raises(ValueError, match="another run is already named 'A1'"):
        compare.check_name("A1", {"A1"})


@pytest.fixture(scope="module")
def two_runs(fashion):
    config = A1.replace(train_samples=2_000, validation_samples=500, epochs=1)
    return {
        "scaled": train(config, fashion),
        "diverging": train(
            config.replace(input_divisor=1.0, weight_scale=255.0, learning_rate=1.0), fashion
        ),
    }


@pytest.mark.slow
def test_tables_carry_every_run(two_runs):
    curves = compare.curves_table(two_runs)
    assert set(curves.run) == set(two_runs)
    assert set(curves.split) == {"train", "validation"} and set(curves.metric) == {
        "loss",
        "accuracy",
    }
    z = compare.preactivation_table(two_runs)
    assert z.groupby("run").checkpoint.min().eq(0).all()
    layers = compare.layers_table(two_runs)
    assert {"gradient_norm", "update_ratio", "dead_share"} <= set(layers.columns)
    assert set(compare.activations_at_init_table(two_runs).layer) == {"hidden_1", "hidden_2"}


@pytest.mark.slow
def test_history_csv_reads_back(two_runs):
    table = pd.read_csv(io.StringIO(compare.history_csv(two_runs)))
    assert set(table.run) == set(two_runs)
    assert {"step", "epoch", "val_accuracy", "hidden_1_dead_share", "output_update_ratio"} <= set(
        table.columns
    )
    expected_rows = sum(len(result.history) for result in two_runs.values())
    assert len(table) == expected_rows


@pytest.mark.slow
def test_diagnosis_speaks_of_divergence_dead_units_and_progress(two_runs):
    scaled = diagnosis.diagnose(two_runs["scaled"])
    assert "the network is learning" in scaled[-1]
    assert any("first step changed the first-layer kernel" in finding for finding in scaled)
    diverging = two_runs["diverging"]
    assert diverging.diverged
    findings = diagnosis.diagnose(diverging)
    assert f"step {diverging.diverged_step}" in findings[0] and "diverged" in findings[0]
    table = diagnosis.summary_table(diverging)
    assert table.set_index("measure").loc["diverged", "value"].startswith("yes, at step")


@pytest.mark.slow
def test_diagnosis_reports_saturation_at_init(fashion):
    config = PRESETS["B2"].config.replace(
        dataset="fashion_mnist",
        train_samples=1_280,
        validation_samples=300,
        epochs=1,
        init_param=1.0,
    )
    findings = diagnosis.diagnose(train(config, fashion))
    assert any("sigmoid outputs were saturated at init" in finding for finding in findings)


def test_only_b1_does_not_train():
    assert not presets.trains(PRESETS["B1"].config)
    assert not presets.trains(PRESETS["B1"].config.replace(train_samples=1_000))
    assert presets.trains(PRESETS["B2"].config) and presets.trains(
        PRESETS["B1"].config.replace(seed=3)
    )


@pytest.mark.parametrize(
    ("ratio", "words"),
    [
        (1e-3, "near"),
        (2.5e-3, "near"),
        (0.013, "about 13× larger than"),
        (1e-4, "about 10× smaller than"),
        (0.83, "far larger than"),
        (1.5e-5, "far smaller than"),
    ],
)
def test_update_words_fit_the_factor(ratio, words):
    assert diagnosis.update_words(ratio) == words


@pytest.mark.slow
def test_diagnosis_tells_saturation_from_a_slow_loss(fashion):
    short = {"dataset": "fashion_mnist", "train_samples": 2_000, "validation_samples": 500}
    b2 = " ".join(
        diagnosis.diagnose(train(PRESETS["B2"].config.replace(epochs=1, **short), fashion))
    )
    b4 = " ".join(
        diagnosis.diagnose(train(PRESETS["B4"].config.replace(epochs=1, **short), fashion))
    )
    assert "about Glorot's √(2/(784+64)) = 0.0486" in b2
    assert "Slow because of the loss and the learning rate, not saturation" in b2
    assert "MSE on softmax outputs" in b2 and "Stalled by saturation" not in b2
    assert "Stalled by saturation" in b4 and "20.6× Glorot's" in b4


@pytest.mark.slow
def test_a_diverged_runs_figures_are_written_once(two_runs):
    diverging = two_runs["diverging"]
    table = diagnosis.summary_table(diverging).set_index("measure")["value"]
    findings = " ".join(diagnosis.diagnose(diverging))
    step = diverging.diverged_step
    at_divergence = f"at step {step:,} (epoch {step / diverging.config.steps_per_epoch:.3g})"
    assert table["diverged"] == f"yes, {at_divergence}" and at_divergence in findings
    assert table["epochs trained"].startswith(f"{step / diverging.config.steps_per_epoch:.3g} of")
    assert f"last finite training loss was {table['last finite training loss']}." in findings
    checkpoint = table["last checkpoint before it diverged"]
    assert checkpoint.startswith(f"step {int(diverging.final.step):,} (epoch ")
    assert f"last checkpoint before it diverged, {checkpoint}:" in findings
    assert f"validation accuracy at step {int(diverging.final.step):,}" in table.index


@pytest.mark.slow
def test_a2_diagnosis_links_blowing_up_to_converging_slowly_and_gives_the_c2_answer(two_runs):
    findings = " ".join(diagnosis.diagnose(two_runs["diverging"]))
    assert "converge extremely slowly" in findings and "accuracy stuck near chance" in findings
    assert "65,025× more" in findings and "Twin lab" in findings
    assert "Twin lab" not in " ".join(diagnosis.diagnose(two_runs["scaled"]))


@pytest.mark.slow
def test_plain_fit_of_a2_shows_what_the_diagnosis_says_it_shows(fashion):
    """The diagnosis says a plain `fit` of A2 prints a huge or NaN first-epoch loss, then
    accuracy near chance: the question's "converges extremely slowly"."""
    import keras
    import numpy as np

    from explorer.model import build_model
    from explorer.train import select_samples

    config = presets.PRESETS["A2"].config.replace(
        train_samples=3_000, validation_samples=500, epochs=2
    )
    samples = select_samples(config, fashion)
    keras.utils.set_random_seed(0)  # fit's own shuffling
    model = build_model(config, samples["train_images"])
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        samples["train_images"].astype(np.float64),
        samples["train_labels"],
        batch_size=32,
        epochs=2,
        verbose=0,
    ).history
    first_loss = history["loss"][0]
    assert np.isnan(first_loss) or first_loss > 1e6
    for accuracy in history["accuracy"]:
        assert abs(accuracy - diagnosis.CHANCE_ACCURACY) < 0.03
    findings = " ".join(diagnosis.diagnose(train(config.replace(epochs=1), fashion)))
    assert "huge or not a number" in findings and "accuracy stuck near chance" in findings
