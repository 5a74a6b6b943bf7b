"""A run's set-up as one standalone Keras script, for learners to read, run and change.

    keras_script(config) -> the text of a .py file importing keras, tensorflow and numpy only:
        load_data()    keras.datasets, the same subset and validation split as select_samples
        build_model()  the same layers, initializers and seeds as explorer.model.build_model,
                       then kernels ÷ WEIGHT_SCALE: the app's weights at init, to the bit
        train()        the app's loop: a new shuffle per epoch from SEED, batches in that order
                       (the last one partial, as model.fit trains it), one XLA-compiled step, and
                       the first kernel's own optimizer where the app gives it one
        FirstLayerProbe   a Keras callback printing each epoch the first layer's saturated share
                       (or dead units) on the app's probe batch and its update ratio ‖ΔW‖/‖W‖

The script is written for the set-up, not for every set-up: only the branches this config takes
appear in it (one initializer, one loss, one measure), so a learner reads straight code.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import string
import urllib.parse

from explorer import presets
from explorer.budget import PROBE_SAMPLES
from explorer.config import (
    FIRST_LAYER,
    IMAGE_PIXELS,
    NUM_CLASSES,
    RunConfig,
    format_value,
)
from explorer.model import MOMENTUM
from explorer.probes import RELU_LIKE, SATURATION_HIGH, SATURATION_LOW, TANH_SATURATION

DATA_DIR_VARIABLE = "EXPLORER_SCRIPT_DATA_DIR"  # the script's offline hook: a folder of IDX files
PACKAGE = "init-scaling-explorer"  # the distribution whose version the header names
ADAPTIVE = ("adam", "rmsprop")  # their first-kernel epsilon follows the weight scale
EPSILON = 1e-7  # Keras's default epsilon for Adam and RMSprop, as explorer.model uses
LINE_LENGTH = 100  # the script's lines fit this, as the project's own code (pyproject.toml)


def keras_script(config: RunConfig, run_name: str | None = None) -> str:
    """The standalone Keras script that reproduces `config`'s run of `explorer.train.train`.

    Args:
        config: the run's set-up (its `dataset` names the keras.datasets module it loads).
        run_name: the name the app shows for the run, for the header; a preset's title, or
            "custom set-up", when None.

    Returns:
        Python source text; `compile()` accepts it, and run as a program it trains and prints.
    """
    if not isinstance(config, RunConfig):
        raise ValueError(f"keras_script needs a RunConfig; got {type(config).__name__}")
    standardize = config.input_scaling == "standardize"
    fields = {
        "header": _header(config, run_name),
        "constants": _constants(config),
        "dataset": config.dataset,
        "data_dir_variable": DATA_DIR_VARIABLE,
        "validation": _VALIDATION[config.validation_source],
        "model": _model(config),
        "loss": _LOSSES[config.loss],
        "targets": "tf.one_hot(labels, NUM_CLASSES)" if config.loss == "mse" else "labels",
        "optimizers": _optimizers(config),
        "train_variables": _train_variables(config),
        "apply": _APPLY_SPLIT if _needs_own_optimizer(config) else _APPLY_ONE,
        "measure": _measure(config.activation),
        "model_arguments": "train_images" if standardize else "",
        "build_call": "build_model(train_images)" if standardize else "build_model()",
    }
    return string.Template(_SCRIPT).substitute(fields)


def script_filename(config: RunConfig) -> str:
    """The download's file name: explorer_a1.py for a preset as it is, else the preset's key
    (or "custom") and 8 hex digits of the set-up's link, so different set-ups never clash."""
    key = presets.preset_key(config)
    if key is not None and not presets.PRESETS[key].config.differences(config):
        return f"explorer_{key.lower()}.py"
    digest = hashlib.sha256(link_query(config).encode()).hexdigest()[:8]
    return f"explorer_{(key or 'custom').lower()}_{digest}.py"


def script_download(config: RunConfig, run_name: str | None = None) -> dict[str, str]:
    """What a download button needs, in one call: data, file_name and mime.

    The page's one line: st.download_button("Download as Keras script",
    **export.script_download(config, name)).
    """
    return {
        "data": keras_script(config, run_name),
        "file_name": script_filename(config),
        "mime": "text/x-python",
    }


def link_query(config: RunConfig) -> str:
    """The set-up as the app's link query: the fields that differ from RunConfig()'s defaults,
    as RunConfig.from_query reads them back ("?" alone for the defaults)."""
    defaults = RunConfig()
    changed = {name: format_value(ours) for name, (ours, _) in config.differences(defaults).items()}
    return "?" + urllib.parse.urlencode(changed, safe=",/")


def app_version() -> str:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "(development version)"


def _needs_own_optimizer(config: RunConfig) -> bool:
    """Whether the first kernel's optimizer differs from the others' in the app (train.py always
    gives it one): a learning-rate multiplier, or Adam's or RMSprop's epsilon × weight scale."""
    scaled_epsilon = config.optimizer in ADAPTIVE and config.weight_scale != 1.0
    return config.first_layer_lr_multiplier != 1.0 or scaled_epsilon


# --- the script's parts -----------------------------------------------------------------------


def _header(config: RunConfig, run_name: str | None) -> str:
    key = presets.preset_key(config)
    preset = presets.PRESETS[key] if key is not None else None
    name = run_name or (preset.title if preset else "custom set-up")
    name = " ".join(name.split())  # one line of the header comment, whatever the name holds
    lines = [
        f"# Keras script exported by the Initialization & Scaling Explorer {app_version()}.",
        f"# Set-up: {name}",
        "# The app's link for it (one line, wrapped here at each &):",
        *_wrap_query(link_query(config)),
    ]
    if preset is not None:
        changed = preset.config.differences(config)
        if changed:
            text = ", ".join(
                f"{field} {format_value(ours)}" for field, (_, ours) in changed.items()
            )
            lines.append(f"# (preset {key} with {text})")
        if not preset.trains:
            lines += [
                f"# In the app, {key} only looks at this network at init (on uniform random",
                "# inputs); this script trains the set-up as the Train button would.",
            ]
    return "\n".join(lines)


def _wrap_query(query: str) -> list[str]:
    """Comment lines of at most LINE_LENGTH characters, each `#   ` and whole `&key=value`s."""
    lines, line = [], "#   "
    for part in query.replace("&", "\n&").split("\n"):
        if len(line) > len("#   ") and len(line) + len(part) > LINE_LENGTH:
            lines.append(line)
            line = "#   "
        line += part
    return [*lines, line]


def _constants(config: RunConfig) -> str:
    """The knobs at the top of the script, each with what it means."""
    validation = {
        "holdout": f"the last {config.validation_samples:,} training images, held out",
        "test": f"the first {config.validation_samples:,} test images",
    }[config.validation_source]
    scope = "every kernel" if config.weight_scale_scope == "all" else "the first layer's kernel"
    rows = [
        ("TRAIN_SAMPLES", _int(config.train_samples), "the first N training images"),
        ("VALIDATION_SAMPLES", _int(config.validation_samples), validation),
    ]
    if config.input_scaling == "divide":
        rows.append(("INPUT_DIVISOR", _float(config.input_divisor), "pixels x / INPUT_DIVISOR"))
    rows += [
        ("WEIGHT_SCALE", _float(config.weight_scale), f"{scope} ÷ this after initialization"),
        ("LEARNING_RATE", _float(config.learning_rate), ""),
    ]
    if _needs_own_optimizer(config):
        rows.append(
            (
                "FIRST_LAYER_LR_MULTIPLIER",
                _float(config.first_layer_lr_multiplier),
                "the first kernel's learning rate × this",
            )
        )
    rows += [
        ("BATCH_SIZE", _int(config.batch_size), ""),
        ("EPOCHS", _int(config.epochs), ""),
        ("SEED", _int(config.seed), "initializers (per layer) and the shuffle"),
        ("PROBE_SAMPLES", _int(PROBE_SAMPLES), "the first training images, probed each epoch"),
        ("NUM_CLASSES", _int(NUM_CLASSES), ""),
    ]
    return "\n".join(
        f"{name} = {value}" + (f"  # {why}" if why else "") for name, value, why in rows
    )


def _int(value: int) -> str:
    return f"{value:_}" if value >= 1_000 else str(value)


def _float(value: float) -> str:
    """Python source for `value` that reads back exactly: 255.0, 0.1, and 1 / 65025 rather
    than 1.5378700499807768e-05."""
    text = repr(float(value))
    if value < 1 and len(text) > 8:
        denominator = round(1 / value)
        if 1 / denominator == value:
            return f"1 / {denominator}"
    return text


def _call(function: str, arguments: list[str], room: int) -> str:
    """`function(arguments)` as ruff formats a call: on one line if it fits in `room`
    characters, else its arguments on one indented line, else one argument a line."""
    one_line = f"{function}({', '.join(arguments)})"
    if len(one_line) <= room:
        return one_line
    if len(", ".join(arguments)) <= room - 4:
        return f"{function}(\n    {', '.join(arguments)}\n)"
    return f"{function}(\n" + "".join(f"    {argument},\n" for argument in arguments) + ")"


def _initializer(name: str, init_param: float, seed: str, room: int) -> tuple[str, str]:
    """(Keras expression, comment) for a kernel initializer, as explorer.model makes it."""
    param = repr(init_param)
    arguments = {
        "random_normal": ("RandomNormal", [f"stddev={param}"]),
        "random_uniform": ("RandomUniform", [f"minval=-{param}", f"maxval={param}"]),
        "truncated_normal": ("TruncatedNormal", [f"stddev={param}"]),
        "glorot_normal_untruncated": (
            "VarianceScaling",
            ["scale=1.0", 'mode="fan_avg"', 'distribution="untruncated_normal"'],
        ),
        "glorot_normal": ("GlorotNormal", []),
        "glorot_uniform": ("GlorotUniform", []),
        "he_normal": ("HeNormal", []),
        "he_uniform": ("HeUniform", []),
        "lecun_normal": ("LecunNormal", []),
        "orthogonal": ("Orthogonal", []),
    }
    if name == "zeros":
        return "keras.initializers.Zeros()", ""
    if name not in arguments:
        raise ValueError(f"kernel_initializer must be a known initializer; got {name!r}")
    class_name, parameters = arguments[name]
    comment = (
        "N(0, sqrt(2 / (fan_in + fan_out))), not truncated"
        if name == "glorot_normal_untruncated"
        else ""
    )
    return _call(f"keras.initializers.{class_name}", [*parameters, f"seed={seed}"], room), comment


def _model(config: RunConfig) -> str:
    """The body of build_model(): the Sequential model, then the weight scale."""
    if config.input_scaling == "divide":
        scaling = 'keras.layers.Rescaling(scale=1 / INPUT_DIVISOR, name="scaling")'
        prelude = ""
    else:
        scaling = 'keras.layers.Rescaling(scale=1 / std, offset=-mean / std, name="scaling")'
        prelude = (
            "# Standardize with one mean and std over every pixel of the training images (border\n"
            "# pixels have zero variance, so not per pixel).\n"
            "mean = float(train_images.mean(dtype=np.float64))\n"
            "std = float(train_images.std(dtype=np.float64)) or 1.0\n"
        )
    layers = [f"keras.Input(shape=({IMAGE_PIXELS},)),", f"{scaling},"]
    # Room for `kernel_initializer=...,` inside Sequential([Dense(...)]) inside a function.
    room = LINE_LENGTH - 16 - len("kernel_initializer=,")
    widths = [*config.hidden_units, NUM_CLASSES]
    for index, units in enumerate(widths):
        is_output = index == len(widths) - 1
        in_scope = {"first": index == 0, "hidden": not is_output, "all": True}[config.init_scope]
        seed = f"SEED * 1000 + {index}"
        if in_scope:
            kernel, comment = _initializer(config.kernel_initializer, config.init_param, seed, room)
        else:
            kernel, comment = f"keras.initializers.GlorotUniform(seed={seed})", "Keras's default"
        activation = "softmax" if is_output else config.activation
        name = "output" if is_output else f"hidden_{index + 1}"
        arguments = [f"{units}", f'activation="{activation}"', f"kernel_initializer={kernel}"]
        bias = {
            "zeros": None,  # Keras's default
            "ones": '"ones"',
            "random_normal": _call(
                "keras.initializers.RandomNormal",
                ["stddev=0.05", f"seed=SEED * 1000 + {index + 500}"],
                room,
            ),
        }[config.bias_initializer]
        if bias is not None:
            arguments.append(f"bias_initializer={bias}")
        arguments.append(f'name="{name}"')
        layer = "keras.layers.Dense(\n" + _indent(",\n".join(arguments) + ",", 4) + "\n),"
        if comment:
            layer = f"# {name}: {comment}\n{layer}"
        layers.append(layer)
    model = "model = keras.Sequential(\n    [\n" + _indent("\n".join(layers), 8) + "\n    ]\n)"
    if config.weight_scale_scope == "all":
        scale = (
            "for layer in model.layers[1:]:  # every Dense layer\n"
            "    layer.kernel.assign(layer.kernel / WEIGHT_SCALE)"
        )
    else:
        scale = (
            f'first_kernel = model.get_layer("{FIRST_LAYER}").kernel\n'
            "first_kernel.assign(first_kernel / WEIGHT_SCALE)"
        )
    return _indent(prelude + model + "\n" + scale, 4)


def _make_optimizer(optimizer: str, learning_rate: str, room: int, epsilon: str = "") -> str:
    """A Keras optimizer as explorer.model.make_optimizer makes it, as Python source."""
    name = {"sgd": "SGD", "momentum": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}[optimizer]
    arguments = [f"learning_rate={learning_rate}"]
    if optimizer == "momentum":
        arguments.append(f"momentum={MOMENTUM}")
    if epsilon:
        arguments.append(f"epsilon={epsilon}")
    return _call(f"keras.optimizers.{name}", arguments, room)


def _optimizers(config: RunConfig) -> str:
    """The script's make_optimizer() (one for every weight) or make_optimizers() (the first
    kernel's own, then the rest's), as train.py makes them."""
    room = LINE_LENGTH - 4 - len("first_kernel_optimizer = ")
    optimizer = _indent(_make_optimizer(config.optimizer, "LEARNING_RATE", room), 4).lstrip()
    if not _needs_own_optimizer(config):
        return string.Template(_MAKE_OPTIMIZER).substitute(optimizer=optimizer)
    epsilon = {"adam": f"{EPSILON!r} * WEIGHT_SCALE", "rmsprop": f"{EPSILON!r} * WEIGHT_SCALE**2"}
    first = _make_optimizer(
        config.optimizer,
        "LEARNING_RATE * FIRST_LAYER_LR_MULTIPLIER",
        room,
        epsilon.get(config.optimizer, ""),
    )
    return string.Template(_MAKE_OPTIMIZERS).substitute(
        why=_EPSILON_WHY.get(config.optimizer, ""),
        first=_indent(first, 4).lstrip(),
        optimizer=optimizer,
    )


def _train_variables(config: RunConfig) -> str:
    """The start of the script's train(): the optimizers, built on the variables they train."""
    return _TRAIN_SPLIT if _needs_own_optimizer(config) else _TRAIN_ONE


def _measure(activation: str) -> str:
    """The probe's method `measure(z, outputs) -> text` for `activation`, as explorer.probes."""
    if activation == "sigmoid":
        body = (
            '"""Saturated share: sigmoid outputs within 0.05 of 0 or 1, where its slope is '
            'flat."""\n'
            f"saturated = np.mean((outputs < {SATURATION_LOW}) | (outputs > {SATURATION_HIGH}))\n"
            'return f"saturated {saturated:.2%}"'
        )
    elif activation == "tanh":
        body = (
            '"""Saturated share: tanh outputs within 0.05 of -1 or 1, where its slope is flat."""\n'
            f"saturated = np.mean(np.abs(outputs) > {TANH_SATURATION})\n"
            'return f"saturated {saturated:.2%}"'
        )
    elif activation in RELU_LIKE:
        body = (
            '"""Dead units: z <= 0 on every probe image, so no gradient reaches them (the\n'
            'app\'s measure for ReLU-like activations, which do not saturate)."""\n'
            "dead = np.mean(np.all(z <= 0, axis=0))\n"
            'return f"dead units {dead:.2%}"'
        )
    else:  # linear: nothing saturates, nothing dies
        body = '"""A linear layer neither saturates nor dies: nothing to measure."""\nreturn ""'
    return _indent("def measure(self, z, outputs):\n" + _indent(body, 4), 4)


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.split("\n"))


_VALIDATION = {
    "holdout": (
        "    # Validation: the last VALIDATION_SAMPLES training images, held out.\n"
        "    val_images = train_images[-VALIDATION_SAMPLES:]\n"
        "    val_labels = train_labels[-VALIDATION_SAMPLES:]"
    ),
    "test": (
        "    # Validation: the first VALIDATION_SAMPLES test images.\n"
        "    val_images = test_images[:VALIDATION_SAMPLES]\n"
        "    val_labels = test_labels[:VALIDATION_SAMPLES]"
    ),
}
_LOSSES = {
    "cross_entropy": (
        "# Sparse categorical cross-entropy of the softmax output, averaged over the batch.\n"
        "loss_function = keras.losses.SparseCategoricalCrossentropy()"
    ),
    "mse": (
        "# Mean squared error of the softmax output against one-hot labels, batch-averaged.\n"
        "loss_function = keras.losses.MeanSquaredError()"
    ),
}
_MAKE_OPTIMIZER = '''\
def make_optimizer():
    """One optimizer for every kernel and bias."""
    return $optimizer'''
_MAKE_OPTIMIZERS = '''\
def make_optimizers():
    """The first kernel's own optimizer, and the one for every other kernel and bias (the first
    layer's bias included), as the app makes them: the first kernel's learning rate is
    LEARNING_RATE * FIRST_LAYER_LR_MULTIPLIER.
$why    """
    first_kernel_optimizer = $first
    optimizer = $optimizer
    return first_kernel_optimizer, optimizer'''
_EPSILON_WHY = {
    "adam": """
    Adam's step is lr * m / (sqrt(v) + epsilon). Fed raw inputs, a kernel ÷c gets c times larger
    gradients: epsilon × c, with the learning rate ÷c, makes its steps exactly those of the
    unscaled kernel fed inputs ÷c (the app does the same).
""",
    "rmsprop": """
    RMSprop's step is lr * g / sqrt(v + epsilon). Fed raw inputs, a kernel ÷c gets c times
    larger gradients (v, c² times): epsilon × c², with the learning rate ÷c, makes its steps
    exactly those of the unscaled kernel fed inputs ÷c (the app does the same).
""",
}
_TRAIN_ONE = """\
    optimizer = make_optimizer()
    optimizer.build(model.trainable_variables)"""
_TRAIN_SPLIT = """\
    first_kernel = model.get_layer("hidden_1").kernel
    other_variables = [
        variable for variable in model.trainable_variables if variable is not first_kernel
    ]
    first_kernel_optimizer, optimizer = make_optimizers()
    first_kernel_optimizer.build([first_kernel])
    optimizer.build(other_variables)"""
_APPLY_ONE = """\
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))"""
_APPLY_SPLIT = """\
        first_gradient, *other_gradients = tape.gradient(loss, [first_kernel, *other_variables])
        first_kernel_optimizer.apply_gradients([(first_gradient, first_kernel)])
        optimizer.apply_gradients(zip(other_gradients, other_variables, strict=True))"""

# The script. `$name` is filled in by keras_script; every other character is the script's own.
_SCRIPT = '''\
$header
#
# It trains the same network from the same initial weights on the same batches as the app,
# and prints each epoch the first hidden layer's saturated share (or dead units) on a fixed
# probe batch and its update ratio ‖ΔW‖/‖W‖ on the epoch's last step, as the app measures them.
# Needs keras 3 (TensorFlow backend), tensorflow and numpy; run it with python.
import gzip
import math
import os

import keras
import numpy as np
import tensorflow as tf

$constants

$loss


$optimizers


def load_arrays():
    """keras.datasets.$dataset's ((train images, labels), (test images, labels)), uint8."""
    folder = os.environ.get("$data_dir_variable")
    if not folder:
        return keras.datasets.$dataset.load_data()

    # Offline and test hook: read the four IDX files keras.datasets downloads
    # (train-images-idx3-ubyte.gz, ...) from a folder instead.
    def read_idx(name):
        with gzip.open(os.path.join(folder, name)) as file:
            data = file.read()
        dimensions = data[3]  # header: 0, 0, type (8 = uint8), number of dimensions, sizes
        shape = np.frombuffer(data, ">u4", count=dimensions, offset=4)
        return np.frombuffer(data, np.uint8, offset=4 + 4 * dimensions).reshape(shape)

    return (
        (read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")),
        (read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz")),
    )


def load_data():
    """uint8 images flattened to (N, 784) and int32 labels: (train, validation) as the app picks
    them. Images stay uint8; the model's Rescaling layer scales them."""
    (train_images, train_labels), (test_images, test_labels) = load_arrays()
    train_images, test_images = train_images.reshape(-1, 784), test_images.reshape(-1, 784)
    train_labels, test_labels = train_labels.astype(np.int32), test_labels.astype(np.int32)
$validation
    return (train_images[:TRAIN_SAMPLES], train_labels[:TRAIN_SAMPLES]), (val_images, val_labels)


def build_model(${model_arguments}):
    """x (B, 784) -> Rescaling -> hidden Dense layers -> Dense(10, softmax), as in the app.

    Each Dense layer's initializers are seeded with SEED * 1000 + its index (the bias + 500), so
    the weights at init are the app's to the bit.
    """
$model
    return model


def evaluate(model, images, labels):
    """Loss and accuracy on (images, labels), as the app measures validation."""
    probabilities = model(tf.cast(images, tf.float32), training=False)  # (N, 10)
    loss = loss_function($targets, probabilities)
    accuracy = np.mean(np.argmax(probabilities, axis=-1) == labels)
    return float(loss), float(accuracy)


class FirstLayerProbe(keras.callbacks.Callback):
    """Prints what the app's Saturation and Gradients views show for the first hidden layer.

    On a fixed probe batch (the first PROBE_SAMPLES training images):
        z = scaled x · W + b,  outputs = activation(z)
    and the update ratio of the first kernel on the epoch's last step:
        ‖W_after - W_before‖ / ‖W_before‖
    It works with model.fit as well as with the loop below.
    """

    def __init__(self, probe_images):
        super().__init__()
        self.probe_images = tf.cast(probe_images, tf.float32)
        self.kernel_before = None

    def first_layer(self):
        """z and outputs on the probe batch, as NumPy arrays (PROBE_SAMPLES, units)."""
        layer = self.model.get_layer("hidden_1")
        scaled = self.model.get_layer("scaling")(self.probe_images)
        z = keras.ops.matmul(scaled, layer.kernel) + layer.bias
        return keras.ops.convert_to_numpy(z), keras.ops.convert_to_numpy(layer.activation(z))

$measure

    def on_train_begin(self, logs=None):
        measure = self.measure(*self.first_layer())
        if measure:
            print(f"at init: {measure}", flush=True)

    def first_kernel(self):
        return keras.ops.convert_to_numpy(self.model.get_layer("hidden_1").kernel)

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self.params["steps"] - 1:  # the epoch's last step: keep W to measure ΔW
            self.kernel_before = self.first_kernel()

    def on_epoch_end(self, epoch, logs=None):
        kernel, before = self.first_kernel(), self.kernel_before
        update_ratio = np.linalg.norm(kernel - before) / max(np.linalg.norm(before), 1e-30)
        scores = ", ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items())
        measure = self.measure(*self.first_layer())
        print(
            f"epoch {epoch + 1}/{self.params['epochs']}: {scores}, "
            + (f"{measure}, " if measure else "")
            + f"update ratio {update_ratio:.3e}",
            flush=True,
        )


def train(model, train_data, validation_data, callback):
    """The app's training loop; returns the loss of every step.

    Each epoch shuffles the training images with a generator seeded once with SEED, then takes
    batches in that order, the last one partial when BATCH_SIZE does not divide TRAIN_SAMPLES
    (as model.fit does). A loss that is not a finite number stops the run: it diverged.
    """
    train_images, train_labels = train_data
$train_variables

    @tf.function(jit_compile=True)  # one XLA-compiled step, as the app compiles its loop
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            probabilities = model(tf.cast(images, tf.float32), training=True)  # (B, 10)
            loss = loss_function($targets, probabilities)
$apply
        return loss

    steps_per_epoch = math.ceil(TRAIN_SAMPLES / BATCH_SIZE)
    callback.set_model(model)
    callback.set_params({"epochs": EPOCHS, "steps": steps_per_epoch})
    shuffler = np.random.default_rng(SEED)
    step_losses = []
    callback.on_train_begin()
    for epoch in range(EPOCHS):
        order = shuffler.permutation(TRAIN_SAMPLES)
        for step in range(steps_per_epoch):
            callback.on_train_batch_begin(step)
            batch = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
            loss = float(train_step(train_images[batch], train_labels[batch]))
            step_losses.append(loss)
            if not math.isfinite(loss):
                print(f"diverged: the loss is {loss} at step {len(step_losses)}", flush=True)
                return step_losses
        val_loss, val_accuracy = evaluate(model, *validation_data)
        epoch_loss = np.mean(step_losses[-steps_per_epoch:])
        logs = {"loss": epoch_loss, "val_loss": val_loss, "val_accuracy": val_accuracy}
        callback.on_epoch_end(epoch, logs)
    callback.on_train_end()
    return step_losses


def main():
    (train_images, train_labels), validation_data = load_data()
    model = $build_call
    probe = FirstLayerProbe(train_images[:PROBE_SAMPLES])
    train(model, (train_images, train_labels), validation_data, probe)
    val_loss, val_accuracy = evaluate(model, *validation_data)
    print(f"final validation accuracy {val_accuracy:.4f}, loss {val_loss:.4f}")


if __name__ == "__main__":
    main()
'''
