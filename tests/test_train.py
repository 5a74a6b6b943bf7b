"""Training on real Fashion-MNIST: it learns, twins match, divergence is caught."""

import pickle

import numpy as np
import pytest

from explorer import data
from explorer.budget import EARLY_STEPS, checkpoint_steps
from explorer.model import build_model, make_loss, make_optimizer
from explorer.presets import PRESETS
from explorer.probes import init_activations
from explorer.train import samples_in_steps, select_samples, train

A1 = PRESETS["A1"].config


def small(config, samples=4_000, **changes):
    return config.replace(train_samples=samples, validation_samples=1_000, epochs=1, **changes)


def twin(config, factor, optimizer_multiplier):
    """Raw inputs with the first kernel ÷factor and its learning rate × multiplier."""
    return config.replace(
        input_divisor=1.0, weight_scale=factor, first_layer_lr_multiplier=optimizer_multiplier
    )


def test_checkpoints_cover_step_zero_early_steps_and_epochs():
    config = A1.replace(epochs=2)
    steps = checkpoint_steps(config)
    assert steps[0] == 0 and steps == sorted(set(steps))
    assert set(EARLY_STEPS) <= set(steps)
    for epoch in (1, 2):
        end = epoch * config.steps_per_epoch
        assert end in steps
        in_epoch = [s for s in steps if (epoch - 1) * config.steps_per_epoch < s <= end]
        assert len(in_epoch) >= 10
    assert steps[-1] == config.total_steps


def test_an_epoch_has_the_batches_of_model_fit():
    """ceil(samples / batch) steps, the last partial: B2 trains 469 a epoch, 9,380 in all."""
    b2 = PRESETS["B2"].config
    assert (b2.steps_per_epoch, b2.total_steps) == (469, 9_380)
    assert A1.steps_per_epoch == 1_719  # 55,000 / 32 = 1,718.75
    assert small(A1, samples=4_000).steps_per_epoch == 125  # divides: no partial batch
    config = small(A1, samples=1_000).replace(epochs=2)  # 31 batches of 32, then one of 8
    assert config.steps_per_epoch == 32
    assert samples_in_steps(config, 0, 32) == 1_000
    assert samples_in_steps(config, 0, 31) == 992
    assert samples_in_steps(config, 30, 4) == 32 + 8 + 32 + 32  # across the epoch's end
    assert samples_in_steps(config, 0, 64) == 2_000


@pytest.mark.slow
def test_step_losses_equal_keras_on_the_same_batches_partial_one_included(fashion):
    """train() against Keras itself fed the same order: train_on_batch step by step, and
    model.fit, whose epoch loss weights each batch by its size (the last has 8 samples)."""
    config = small(A1, samples=1_000, hidden_units=(64, 32)).replace(epochs=2)
    result = train(config, fashion)
    assert len(result.step_loss) == config.total_steps == 64
    assert result.history.epoch.iloc[-1] == 2.0 and result.final.val_full

    samples = select_samples(config, fashion)
    images = samples["train_images"].astype(np.float32)  # raw: the model's Rescaling divides
    labels = samples["train_labels"]
    shuffler = np.random.default_rng(config.seed)
    orders = [shuffler.permutation(config.train_samples) for _ in range(config.epochs)]

    def keras_model():
        model = build_model(config, samples["train_images"])
        model.compile(
            optimizer=make_optimizer(config, config.learning_rate), loss=make_loss(config)
        )
        return model

    stepped, losses = keras_model(), []
    for order in orders:
        for start in range(0, config.train_samples, config.batch_size):
            batch = order[start : start + config.batch_size]
            losses.append(float(stepped.train_on_batch(images[batch], labels[batch])))
    np.testing.assert_allclose(result.step_loss, losses, rtol=1e-5)

    fitted = keras_model()
    epoch_losses = [
        fitted.fit(
            images[order], labels[order], batch_size=config.batch_size, shuffle=False, verbose=0
        ).history["loss"][0]
        for order in orders
    ]
    sizes = np.array([32] * 31 + [8])
    per_epoch = result.step_loss.reshape(config.epochs, -1)
    np.testing.assert_allclose(epoch_losses, per_epoch @ sizes / sizes.sum(), rtol=1e-5)
    predicted = fitted.predict(samples["val_images"].astype(np.float32), verbose=0).argmax(-1)
    assert np.mean(predicted == samples["val_labels"]) == pytest.approx(
        result.final.val_accuracy, abs=1e-3
    )


@pytest.mark.slow
def test_short_real_training_learns_and_records_everything(fashion):
    seen = []
    result = train(small(A1), fashion, on_checkpoint=lambda partial: seen.append(partial))
    assert not result.diverged and result.finished
    assert result.final.val_accuracy > 0.6  # chance is 0.1
    assert result.final.val_full and result.final.epoch == 1.0
    history = result.history
    assert history.step.tolist() == checkpoint_steps(small(A1))
    assert history.train_loss.iloc[-1] < history.train_loss.iloc[0]
    assert len(result.step_loss) == small(A1).total_steps
    # One live call per checkpoint, each seeing the history so far.
    assert [len(partial.history) for partial in seen] == list(range(1, len(history) + 1))
    assert not seen[0].finished
    layers = result.layers
    assert set(layers.layer) == {"hidden_1", "hidden_2", "output"}
    assert layers[layers.step == 0].gradient_norm.isna().all()
    later = layers[layers.step > 0]
    assert (later.gradient_norm > 0).all() and (later.update_ratio > 0).all()
    assert layers[layers.hidden].dead_share.between(0, 1).all()  # relu: dead units measured
    assert layers.saturated_share.isna().all()  # relu does not saturate
    table = result.histogram_table()
    assert set(table.columns) >= {"step", "bin_start", "bin_end", "count", "density"}
    # Density is over all probe values: the bins' area and the off-scale share make 1.
    inside = table[table.side == "inside"]
    widths = (inside.bin_end - inside.bin_start).to_numpy()
    per_step = (inside.density * widths).groupby(inside.step).sum()
    assert np.allclose(per_step + history.set_index("step").z_outside, 1.0, atol=1e-6)
    assert np.allclose(table.groupby("step").off_scale.first(), history.z_outside)
    assert np.allclose(table.groupby("step").share.sum(), 1.0)  # no NaN in a healthy run
    assert result.preactivation_off_scale.shape == (len(history), 3)
    assert result.histogram_table("hidden_1")["count"].sum() > 0


@pytest.mark.slow
def test_sigmoid_mse_run_measures_saturation(fashion):
    config = small(PRESETS["B2"].config.replace(dataset="fashion_mnist"), init_param=1.0)
    result = train(config, fashion)
    hidden = result.layers[result.layers.layer == "hidden_1"]
    assert hidden.saturated_share.iloc[0] > 0.5  # N(0, 1) weights: most outputs near 0 or 1
    assert hidden.dead_share.isna().all()
    edges = result.activation_edges["hidden_1"]
    assert edges[0] == 0.0 and edges[-1] == 1.0


@pytest.mark.slow
def test_power_of_two_twin_is_bit_identical_with_relu(fashion):
    """÷256 is exact in float32, so the A1/A3 pair with c = 256 agrees to the last bit."""
    config = small(A1, samples=12_800)
    reference = train(config.replace(input_divisor=256.0), fashion)
    corrected = train(twin(config, 256.0, 1 / 256**2), fashion)
    np.testing.assert_array_equal(corrected.step_loss, reference.step_loss)


@pytest.mark.slow
def test_uncorrected_a2_diverges_without_raising(fashion):
    result = train(PRESETS["A2"].config.replace(epochs=1), fashion)
    assert result.diverged and result.diverged_step <= 10
    assert result.finished
    assert not np.isfinite(result.step_loss[-1])
    assert np.isfinite(result.step_loss[:-1]).all()  # marked at its first non-finite loss
    assert len(result.step_loss) == result.diverged_step
    assert np.isfinite(result.history.train_loss).all()  # what was recorded is kept
    # Its pre-activations leave the bins fixed at init: counted off scale, not drawn as a bell.
    table = result.histogram_table()
    last = table[table.step == result.history.step.iloc[-1]]
    assert last.off_scale.iloc[0] > 0.5
    inside = last[last.side == "inside"]
    area = (inside.density * (inside.bin_end - inside.bin_start)).sum()
    assert area == pytest.approx(1 - last.off_scale.iloc[0], abs=1e-6)
    assert result.history.step.iloc[-1] < result.diverged_step


@pytest.mark.slow
def test_same_config_and_seed_same_numbers(fashion):
    config = small(A1, samples=2_000)
    first, second = train(config, fashion), train(config, fashion)
    np.testing.assert_array_equal(first.step_loss, second.step_loss)
    columns = [c for c in first.history.columns if c != "elapsed_s"]
    assert first.history[columns].equals(second.history[columns])
    assert first.layers.equals(second.layers)
    np.testing.assert_array_equal(first.preactivation_counts, second.preactivation_counts)
    other = train(config.replace(seed=1), fashion)
    assert not np.array_equal(first.step_loss, other.step_loss)


@pytest.mark.slow
def test_twenty_epoch_result_pickles_small(fashion):
    result = train(PRESETS["B2"].config.replace(dataset="fashion_mnist"), fashion)
    assert len(result.history) >= 20 * 10
    assert len(pickle.dumps(result)) < 5 * 1024**2
    assert 0.3 < result.final.val_accuracy < 0.6  # the source's stall: ~42% on MNIST


def test_mnist_code_path_on_generated_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    folder = tmp_path / "mnist"
    folder.mkdir()
    arrays = (
        rng.integers(0, 256, (600, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 600, dtype=np.uint8),
        rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 100, dtype=np.uint8),
    )
    for name, array in zip(data.IDX_FILE_NAMES, arrays, strict=True):
        data.write_idx(folder / f"{name}.gz", array)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    mnist = data.load_dataset("mnist")
    config = PRESETS["B2"].config.replace(
        train_samples=512, validation_samples=100, epochs=2, batch_size=16
    )
    result = train(config, mnist)
    assert result.finished and len(result.history) > 20
    assert result.final.val_full


def test_b1_init_only_saturates_and_matches_variance_formula():
    result = init_activations(PRESETS["B1"].config, samples=64)
    assert result.outputs.shape == (64, 256)
    assert result.saturated_share > 0.6
    assert result.measured_preactivation_std == pytest.approx(
        result.expected_preactivation_std, rel=0.1
    )
    glorot = init_activations(PRESETS["B1"].config.replace(kernel_initializer="glorot_uniform"))
    assert glorot.saturated_share < 0.1


@pytest.mark.slow
def test_cut_calls_train_the_same_steps_and_hear_a_stop(fashion, monkeypatch):
    from explorer import budget
    from explorer.train import TrainingStopped

    config = small(A1, samples=640, hidden_units=(16,))
    whole = train(config, fashion)
    monkeypatch.setattr(budget, "CALL_SECONDS", 1e-9)  # one step per compiled call
    asked = []
    cut = train(config, fashion, should_stop=lambda: asked.append(1) and False)
    assert len(asked) == config.total_steps  # asked before every call, each one step
    np.testing.assert_array_equal(cut.step_loss, whole.step_loss)
    assert cut.final.val_accuracy == whole.final.val_accuracy

    with pytest.raises(TrainingStopped, match="stopped at step 7 of 20"):
        train(config, fashion, should_stop=lambda: len(asked.append(1) or asked) > 27)
