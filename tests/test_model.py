"""The Keras model: initializers against Keras's fan formulas, weight scaling, init equivalence."""

import math

import numpy as np
import pytest
import tensorflow as tf

from explorer.config import KERNEL_INITIALIZERS, RunConfig
from explorer.model import (
    build_model,
    dense_layers,
    initial_weights,
    input_rescaling,
    make_optimizer,
)
from explorer.probes import layer_outputs

FAN_IN, FAN_OUT = 784, 300
TRUNCATED_STD = 0.87962566103423978  # std of N(0,1) truncated to [-2, 2]


def first_kernel(**changes):
    config = RunConfig(hidden_units=(FAN_OUT,), **changes)
    return dense_layers(build_model(config))[0].kernel.numpy().astype(np.float64)


# (expected std, hard limit or None) of each initializer for a 784 -> 300 kernel.
EXPECTED = {
    "random_normal": (0.05, None),
    "random_uniform": (0.05 / math.sqrt(3), 0.05),
    "truncated_normal": (0.05 * TRUNCATED_STD, 2 * 0.05),
    "glorot_normal": (
        math.sqrt(2 / (FAN_IN + FAN_OUT)),
        2 * math.sqrt(2 / (FAN_IN + FAN_OUT)) / TRUNCATED_STD,
    ),
    "glorot_normal_untruncated": (math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    "glorot_uniform": (math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "he_normal": (math.sqrt(2 / FAN_IN), 2 * math.sqrt(2 / FAN_IN) / TRUNCATED_STD),
    "he_uniform": (math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    "lecun_normal": (math.sqrt(1 / FAN_IN), 2 * math.sqrt(1 / FAN_IN) / TRUNCATED_STD),
    "zeros": (0.0, 0.0),
    "orthogonal": (math.sqrt(1 / FAN_IN), 1.0),  # orthonormal columns of length 1 in 784-d
}


def test_every_initializer_has_an_expectation():
    assert set(EXPECTED) == set(KERNEL_INITIALIZERS)


@pytest.mark.parametrize("name", KERNEL_INITIALIZERS)
def test_initializer_statistics_match_keras_formulas(name):
    kernel = first_kernel(kernel_initializer=name, init_param=0.05)
    expected_std, limit = EXPECTED[name]
    assert abs(kernel.mean()) <= 0.02 * max(expected_std, 1e-12) + 1e-12 or expected_std == 0
    assert kernel.std() == pytest.approx(expected_std, rel=0.02, abs=1e-12)
    if limit is not None:
        assert np.abs(kernel).max() <= limit * (1 + 1e-6)
    if name in ("random_normal", "glorot_normal_untruncated"):
        # Not truncated: values beyond 2 std exist (about 4.6% of them).
        share_beyond = np.mean(np.abs(kernel) > 2 * expected_std)
        assert 0.04 < share_beyond < 0.052
    if name == "orthogonal":
        np.testing.assert_allclose(kernel.T @ kernel, np.eye(FAN_OUT), atol=1e-5)


def test_same_seed_same_weights_other_seed_other_weights():
    assert np.array_equal(first_kernel(seed=3), first_kernel(seed=3))
    assert not np.array_equal(first_kernel(seed=3), first_kernel(seed=4))


def test_init_scope_and_keras_default_elsewhere():
    model = build_model(RunConfig(hidden_units=(300, 100), kernel_initializer="zeros"))
    first, second, output = (layer.kernel.numpy() for layer in dense_layers(model))
    assert not first.any()
    limit = math.sqrt(6 / (300 + 100))  # Keras's default: GlorotUniform
    assert second.std() == pytest.approx(limit / math.sqrt(3), rel=0.03)
    assert output.any()
    model = build_model(
        RunConfig(hidden_units=(300, 100), kernel_initializer="zeros", init_scope="all")
    )
    assert not any(layer.kernel.numpy().any() for layer in dense_layers(model))


@pytest.mark.parametrize(("scope", "scaled_layers"), [("first", 1), ("all", 3)])
def test_weight_scale_divides_the_kernels_in_scope(scope, scaled_layers):
    config = RunConfig(hidden_units=(300, 100))
    plain = [layer.kernel.numpy() for layer in dense_layers(build_model(config))]
    scaled_config = config.replace(weight_scale=255.0, weight_scale_scope=scope)
    scaled = [layer.kernel.numpy() for layer in dense_layers(build_model(scaled_config))]
    for index, (before, after) in enumerate(zip(plain, scaled, strict=True)):
        factor = 255.0 if index < scaled_layers else 1.0
        np.testing.assert_allclose(after, before / factor, rtol=1e-6)


def test_same_preactivations_at_init_for_inputs_or_weights_divided(fashion):
    """Puzzle A: (inputs ÷255, W) and (inputs ÷1, W ÷255) give the same z = x·W + b."""
    images = tf.constant(fashion.train_images[:256].reshape(-1, 784))
    scaled_inputs = RunConfig(input_divisor=255.0, weight_scale=1.0)
    scaled_weights = RunConfig(input_divisor=1.0, weight_scale=255.0)
    z_inputs = layer_outputs(build_model(scaled_inputs), images)[0][0].numpy()
    z_weights = layer_outputs(build_model(scaled_weights), images)[0][0].numpy()
    assert np.abs(z_inputs).max() > 0.1
    np.testing.assert_allclose(z_weights, z_inputs, rtol=1e-5, atol=1e-5 * np.abs(z_inputs).max())


def test_standardize_uses_training_pixels():
    images = np.array([[0, 0], [255, 255]], dtype=np.uint8).repeat(392, axis=1)
    config = RunConfig(
        input_scaling="standardize", train_samples=2, batch_size=1, validation_samples=1
    )
    scale, offset = input_rescaling(config, images)
    scaled = images.astype(np.float64) * scale + offset
    assert scaled.mean() == pytest.approx(0.0, abs=1e-9)
    assert scaled.std() == pytest.approx(1.0, rel=1e-9)
    with pytest.raises(ValueError, match="standardize"):
        input_rescaling(config, None)


def test_epsilon_follows_gradient_scale():
    adam = make_optimizer(RunConfig(optimizer="adam"), 0.001, gradient_scale=255.0)
    rmsprop = make_optimizer(RunConfig(optimizer="rmsprop"), 0.001, gradient_scale=255.0)
    assert adam.epsilon == pytest.approx(1e-7 * 255)
    assert rmsprop.epsilon == pytest.approx(1e-7 * 255**2)


def test_pixel_histogram_counts_the_scaled_pixels():
    from explorer.config import RunConfig
    from explorer.model import PIXEL_BINS, PIXEL_SAMPLE, pixel_histogram

    images = np.random.default_rng(0).integers(0, 256, (1500, 28, 28), dtype=np.uint8)
    divided = pixel_histogram(RunConfig(input_divisor=255.0), images)
    assert len(divided) == PIXEL_BINS and divided["count"].sum() == PIXEL_SAMPLE * 784
    assert divided["bin_start"].min() >= 0 and divided["bin_end"].max() <= 1.0
    standardized = pixel_histogram(RunConfig(input_scaling="standardize"), images)
    middles = (standardized["bin_start"] + standardized["bin_end"]) / 2
    mean = float((middles * standardized["count"]).sum() / standardized["count"].sum())
    assert abs(mean) < 0.05  # centred on the training pixels' mean


def test_saturation_band_is_sigmoid_only():
    from explorer.probes import SATURATION_HIGH, SATURATION_LOW, saturation_band

    assert saturation_band("sigmoid") == (SATURATION_LOW, SATURATION_HIGH)
    assert saturation_band("tanh") is None and saturation_band("relu") is None


@pytest.mark.parametrize("initializer", KERNEL_INITIALIZERS)
@pytest.mark.parametrize(
    ("init_scope", "weight_scale_scope", "weight_scale", "bias"),
    [("first", "first", 255.0, "zeros"), ("all", "all", 3.0, "random_normal")],
)
def test_initial_weights_are_build_models_to_the_bit(
    initializer, init_scope, weight_scale_scope, weight_scale, bias
):
    """initial_weights() draws without a model what build_model's layers hold: every kernel and
    bias bit for bit, scaled where the scope says."""
    config = RunConfig(
        kernel_initializer=initializer,
        init_scope=init_scope,
        weight_scale=weight_scale,
        weight_scale_scope=weight_scale_scope,
        bias_initializer=bias,
        hidden_units=(32, 16),
        seed=7,
    )
    layers = dense_layers(build_model(config))
    drawn = initial_weights(config)
    assert len(drawn) == len(layers) == 3
    for layer, (kernel, bias_values) in zip(layers, drawn, strict=True):
        np.testing.assert_array_equal(layer.kernel.numpy(), kernel)
        np.testing.assert_array_equal(layer.bias.numpy(), bias_values)
    if initializer != "zeros":  # the seed matters
        other = initial_weights(config.replace(seed=8))[0][0]
        assert not np.array_equal(drawn[0][0], other)
