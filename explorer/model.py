"""The Keras MLP of a run: scaling layer, hidden Dense layers, Dense(10, softmax).

    x (B, 784) uint8 -> float32 -> Rescaling -> [Dense(units_i, activation)]* -> Dense(10, softmax)

Each Dense layer gets a fresh initializer instance seeded from the run seed and its index,
so the same seed gives the same weights whatever layers come before or after.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd

from explorer.config import IMAGE_PIXELS, NUM_CLASSES, RunConfig

MOMENTUM = 0.9  # for the "momentum" optimizer (SGD with heavy-ball momentum)


def kernel_initializer(name: str, init_param: float, seed: int) -> keras.initializers.Initializer:
    """A new Keras initializer for `name`.

    `init_param` is the stddev of random_normal and truncated_normal, and the limit of
    random_uniform: U(-init_param, init_param). The others follow Keras's fan formulas, e.g.
    glorot_uniform: limit = sqrt(6 / (fan_in + fan_out)).

    Raises:
        ValueError: if `name` is not a known initializer.
    """
    initializers = keras.initializers
    if name == "random_normal":
        return initializers.RandomNormal(stddev=init_param, seed=seed)
    if name == "random_uniform":
        return initializers.RandomUniform(minval=-init_param, maxval=init_param, seed=seed)
    if name == "truncated_normal":
        return initializers.TruncatedNormal(stddev=init_param, seed=seed)
    if name == "glorot_normal_untruncated":
        # The seed-A initializer: N(0, sqrt(2 / (fan_in + fan_out))) with no truncation.
        return initializers.VarianceScaling(
            scale=1.0, mode="fan_avg", distribution="untruncated_normal", seed=seed
        )
    if name == "zeros":
        return initializers.Zeros()
    by_name = {
        "glorot_normal": initializers.GlorotNormal,
        "glorot_uniform": initializers.GlorotUniform,
        "he_normal": initializers.HeNormal,
        "he_uniform": initializers.HeUniform,
        "lecun_normal": initializers.LecunNormal,
        "orthogonal": initializers.Orthogonal,
    }
    if name not in by_name:
        raise ValueError(f"kernel_initializer must be a known initializer; got {name!r}")
    return by_name[name](seed=seed)


def bias_initializer(name: str, seed: int) -> keras.initializers.Initializer:
    """Zeros, Ones, or RandomNormal(stddev=0.05) seeded per layer."""
    if name == "zeros":
        return keras.initializers.Zeros()
    if name == "ones":
        return keras.initializers.Ones()
    if name == "random_normal":
        return keras.initializers.RandomNormal(stddev=0.05, seed=seed)
    raise ValueError(f"bias_initializer must be one of zeros, ones, random_normal; got {name!r}")


def input_rescaling(
    config: RunConfig, train_images: np.ndarray | None = None
) -> tuple[float, float]:
    """(scale, offset) such that scaled = x * scale + offset.

    divide:      scale = 1 / input_divisor, offset = 0
    standardize: scale = 1 / std(train pixels), offset = -mean / std  (one mean and std for all
                 pixels, since border pixels of MNIST have zero variance)
    """
    if config.input_scaling == "divide":
        return 1.0 / config.input_divisor, 0.0
    if train_images is None:
        raise ValueError("input_scaling='standardize' needs the training images to measure")
    pixels = train_images[: config.train_samples]
    mean = float(pixels.mean(dtype=np.float64))
    std = float(pixels.std(dtype=np.float64)) or 1.0
    return 1.0 / std, -mean / std


PIXEL_SAMPLE = 1_000  # images whose pixels the data view's histogram counts
PIXEL_BINS = 50


def pixel_histogram(config: RunConfig, train_images: np.ndarray) -> pd.DataFrame:
    """bin_start, bin_end, count of the first PIXEL_SAMPLE images' pixels after input scaling."""
    flat = train_images.reshape(-1, IMAGE_PIXELS)
    scale, offset = input_rescaling(config, flat)
    pixels = flat[:PIXEL_SAMPLE].reshape(-1).astype(np.float64)
    counts, edges = np.histogram(pixels * scale + offset, bins=PIXEL_BINS)
    return pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "count": counts})


def build_model(config: RunConfig, train_images: np.ndarray | None = None) -> keras.Sequential:
    """The run's Keras model with weights initialized, scaled and ready to train.

    Layer 0 is the Rescaling layer; layers 1.. are the Dense layers, the last being the output.
    Kernels in the weight-scale scope are divided by `config.weight_scale` after
    initialization (as the seed-A code divides the initializer's sample).
    """
    scale, offset = input_rescaling(config, train_images)
    layers: list[keras.layers.Layer] = [
        keras.Input(shape=(IMAGE_PIXELS,), dtype="float32"),
        keras.layers.Rescaling(scale=scale, offset=offset, name="scaling"),
    ]
    widths = [*config.hidden_units, NUM_CLASSES]
    initializers = layer_initializers(config)
    for index, (units, (kernel, bias)) in enumerate(zip(widths, initializers, strict=True)):
        is_output = index == len(widths) - 1
        layers.append(
            keras.layers.Dense(
                units,
                activation="softmax" if is_output else config.activation,
                kernel_initializer=kernel,
                bias_initializer=bias,
                name="output" if is_output else f"hidden_{index + 1}",  # as FIRST_LAYER
            )
        )
    model = keras.Sequential(layers, name="mlp")
    for dense in dense_layers(model):
        if config.weight_scale_scope == "all" or dense is dense_layers(model)[0]:
            dense.kernel.assign(dense.kernel / config.weight_scale)
    return model


def layer_initializers(config: RunConfig) -> list[tuple[keras.initializers.Initializer, ...]]:
    """(kernel, bias) initializers of each Dense layer, seeded per layer (seed · 1000 + index;
    biases + 500). Kernels outside the init scope get Keras's Dense default, GlorotUniform."""
    widths = [*config.hidden_units, NUM_CLASSES]
    initializers = []
    for index in range(len(widths)):
        in_scope = {
            "first": index == 0,
            "hidden": index < len(widths) - 1,
            "all": True,
        }[config.init_scope]
        layer_seed = config.seed * 1_000 + index
        kernel = (
            kernel_initializer(config.kernel_initializer, config.init_param, layer_seed)
            if in_scope
            else keras.initializers.GlorotUniform(seed=layer_seed)  # Keras's Dense default
        )
        initializers.append((kernel, bias_initializer(config.bias_initializer, layer_seed + 500)))
    return initializers


def initial_weights(config: RunConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each Dense layer's initial (kernel, bias), exactly as `build_model` draws and scales
    them, without building a Keras model: the initializers called on the layers' shapes, as
    Dense.build calls them (a few ms, where a model takes ~40 ms; a trainer reused from the pool
    or a group of eight seeds needs only the numbers)."""
    widths = [IMAGE_PIXELS, *config.hidden_units, NUM_CLASSES]
    weights = []
    for index, (kernel_init, bias_init) in enumerate(layer_initializers(config)):
        fan_in, units = widths[index], widths[index + 1]
        kernel = kernel_init(shape=(fan_in, units), dtype="float32")
        if config.weight_scale_scope == "all" or index == 0:
            kernel = kernel / config.weight_scale  # as build_model divides the variable
        bias = bias_init(shape=(units,), dtype="float32")
        weights.append((keras.ops.convert_to_numpy(kernel), keras.ops.convert_to_numpy(bias)))
    return weights


def dense_layers(model: keras.Model) -> list[keras.layers.Dense]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def make_optimizer(config: RunConfig, learning_rate: float, gradient_scale: float = 1.0):
    """A Keras optimizer of the configured kind.

    `gradient_scale` c rescales Adam's and RMSprop's epsilon so that a kernel whose gradients
    are c times larger (the first kernel divided by the weight scale c, fed raw inputs) takes
    exactly the steps of the unscaled one, given a learning rate ÷ c:
        Adam:    step = lr * m / (sqrt(v) + eps)   -> eps × c   (m ∝ c, sqrt(v) ∝ c)
        RMSprop: step = lr * g / sqrt(v + eps)     -> eps × c²  (v ∝ c², Keras's form)
    """
    optimizers = keras.optimizers
    epsilon = 1e-7  # Keras's default for both
    if config.optimizer == "sgd":
        return optimizers.SGD(learning_rate=learning_rate)
    if config.optimizer == "momentum":
        return optimizers.SGD(learning_rate=learning_rate, momentum=MOMENTUM)
    if config.optimizer == "adam":
        return optimizers.Adam(learning_rate=learning_rate, epsilon=epsilon * gradient_scale)
    if config.optimizer == "rmsprop":
        return optimizers.RMSprop(learning_rate=learning_rate, epsilon=epsilon * gradient_scale**2)
    raise ValueError(
        f"optimizer must be one of sgd, momentum, adam, rmsprop; got {config.optimizer!r}"
    )


def make_first_layer_optimizer(config: RunConfig):
    """The first kernel's own optimizer: learning rate × first_layer_lr_multiplier, exact for
    every optimizer (a gradient multiplier would not be, for Adam and RMSprop), and epsilon
    following the weight scale (see `make_optimizer`), so the twin run is exact."""
    return make_optimizer(
        config, config.learning_rate * config.first_layer_lr_multiplier, config.weight_scale
    )


def make_loss(config: RunConfig) -> keras.losses.Loss:
    """Sparse cross-entropy on labels, or MSE between the softmax output and one-hot labels."""
    if config.loss == "cross_entropy":
        return keras.losses.SparseCategoricalCrossentropy()
    return keras.losses.MeanSquaredError()
