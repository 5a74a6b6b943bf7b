"""The benchmark's plain-`fit` reference trains the same model as `train()` (no timing here)."""

import pytest

from explorer import bench
from explorer.presets import PRESETS
from explorer.train import train

pytestmark = pytest.mark.slow  # each test trains (and fits) real runs


def test_fit_reference_learns_like_train(fashion):
    config = PRESETS["A1"].config.replace(train_samples=3_200, validation_samples=640, epochs=1)
    seconds, fit_accuracy = bench.fit_reference(config, fashion, pipeline="A")
    assert seconds > 0
    train_accuracy = train(config, fashion).final.val_accuracy
    assert fit_accuracy > 0.6 and train_accuracy > 0.6  # chance is 0.1
    assert abs(fit_accuracy - train_accuracy) < 0.1


def test_fit_reference_feeds_one_hot_targets_for_mse(fashion):
    config = PRESETS["B2"].config.replace(
        dataset="fashion_mnist", train_samples=1_280, validation_samples=256, epochs=1
    )
    seconds, accuracy = bench.fit_reference(config, fashion, pipeline="B")
    assert seconds > 0 and 0.0 <= accuracy <= 1.0


def test_bare_loop_does_the_same_arithmetic_as_train(fashion):
    # The floor the benchmark prints is only a floor if it trains the same run: same initial
    # weights, shuffles, optimizer and loss give the same final validation accuracy.
    config = PRESETS["A1"].config.replace(train_samples=3_200, validation_samples=640, epochs=2)
    seconds, bare_accuracy = bench.bare_loop(config, fashion)
    assert seconds > 0
    train_accuracy = train(config, fashion).final.val_accuracy
    assert bare_accuracy > 0.6  # chance is 0.1
    assert abs(bare_accuracy - train_accuracy) <= 0.01


def test_bare_loop_gives_the_first_kernel_its_own_learning_rate(fashion):
    # A3's corrected twin: raw inputs, first kernel ÷255 and its learning rate ÷255².
    config = PRESETS["A3"].config.replace(train_samples=3_200, validation_samples=640, epochs=1)
    assert config.first_layer_lr_multiplier != 1
    _, bare_accuracy = bench.bare_loop(config, fashion)
    train_accuracy = train(config, fashion).final.val_accuracy
    assert abs(bare_accuracy - train_accuracy) <= 0.01


def test_probes_floor_trains_the_same_run_cut_at_train_s_checkpoints(fashion):
    # The probes' floor cuts the compiled calls at every checkpoint and adds the forward passes
    # train() makes there: the run it trains is the bare loop's, to the last accuracy digit.
    config = PRESETS["A1"].config.replace(train_samples=3_200, validation_samples=640, epochs=2)
    _, bare_accuracy = bench.bare_loop(config, fashion)
    seconds, floor_accuracy = bench.bare_loop(config, fashion, checkpoints=True)
    assert seconds > 0 and bare_accuracy > 0.6
    assert floor_accuracy == bare_accuracy
