"""Instrumented training: many steps per compiled call, probes at checkpoints, plain results.

    for each checkpoint interval:
        run_steps(n)      one XLA-compiled loop over batches gathered from uint8 data; the
                          interval's last step is a call of its own, with ‖∇W‖ and ‖ΔW‖/‖W‖
                          per kernel measured around it
        evaluate + probe  validation loss/accuracy, histograms, saturation, dead units

Batches follow `model.fit`: each epoch trains ceil(samples / batch) of them in a fresh shuffle,
the last one partial (padded to the batch's shape and masked, so one compiled step serves all).
Checkpoints: step 0, the early steps 1, 2, 5, 10, 20, 50, 100 (so the first hundred steps show),
and `checkpoints_per_epoch` evenly spaced points per epoch, the last at each epoch's end.
Validation uses the full validation set at epoch ends and a fixed subset of
VALIDATION_SUBSET images in between. A non-finite loss stops the run: it is marked diverged at
that step and what was recorded is kept.
"""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import gc
import math
import os
import threading
import time
import traceback
from collections.abc import Callable

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from explorer import probes
from explorer.budget import (  # the schedule a run's cost is counted on
    PROBE_SAMPLES,
    VALIDATION_SUBSET,
    checkpoint_steps,
    max_steps_per_call,
)
from explorer.config import RunConfig
from explorer.data import Dataset
from explorer.i18n import _
from explorer.model import (
    IMAGE_PIXELS,
    NUM_CLASSES,
    build_model,
    dense_layers,
    initial_weights,
    input_rescaling,
    make_first_layer_optimizer,
    make_loss,
    make_optimizer,
)

# What is imported by now (TensorFlow and Keras: ~340,000 objects) lives as long as the process.
# Frozen out of the cyclic collector's reach, the full collection after every run
# (`_free_finished_run`) takes ~3 ms instead of ~0.25 s; later objects are collected as before.
gc.collect()
gc.freeze()


@dataclasses.dataclass
class RunResult:
    """Everything a run recorded, as plain tables and arrays (pickles small).

    history: one row per checkpoint: step, epoch, train_loss, train_accuracy (means over the
        interval since the previous checkpoint), val_loss, val_accuracy, val_full (True when
        on the full validation set), elapsed_s, and the first layer's pre-activation
        z_mean, z_std, z_min, z_max, z_outside (share off scale: outside the histogram bins,
        or NaN).
    layers: one row per (checkpoint, Dense layer): step, epoch, layer, hidden, saturated_share,
        dead_share, activation_mean, activation_std, gradient_norm and update_ratio of the
        kernel on the last step before the checkpoint (NaN at step 0).
    step_loss: the training loss of every step, in order.
    """

    config: RunConfig
    history: pd.DataFrame
    layers: pd.DataFrame
    step_loss: np.ndarray
    preactivation_edges: np.ndarray  # (bins + 1,), fixed at step 0
    preactivation_counts: np.ndarray  # (checkpoints, bins)
    preactivation_off_scale: np.ndarray  # (checkpoints, 3): below the bins, above them, NaN
    activation_edges: dict[str, np.ndarray]  # per hidden layer
    activation_counts: dict[str, np.ndarray]  # per hidden layer: (checkpoints, bins)
    activation_off_scale: dict[str, np.ndarray]  # per hidden layer: (checkpoints, 3)
    parameter_count: int
    planned_steps: int
    diverged_step: int | None = None  # the step whose loss was not finite
    setup_seconds: float = 0.0  # model building and graph compilation
    train_seconds: float = 0.0
    finished: bool = False  # all planned steps done (or diverged)

    @property
    def diverged(self) -> bool:
        return self.diverged_step is not None

    @property
    def final(self) -> pd.Series:
        """The last checkpoint's row."""
        return self.history.iloc[-1]

    def histogram_table(self, layer: str | None = None) -> pd.DataFrame:
        """Long table for charts: step, epoch, then `probes.histogram_rows`'s columns (side,
        bin_start, bin_end, count, share, density, off_scale) of each checkpoint.

        `layer` None gives the first layer's pre-activations; a hidden layer's name gives its
        activations. density = count / (all probe values · bin width), comparable across runs;
        the "below" and "above" rows count what left the bins fixed at step 0.
        """
        if layer is None:
            edges, counts = self.preactivation_edges, self.preactivation_counts
            off_scale = self.preactivation_off_scale
        else:
            edges, counts = self.activation_edges[layer], self.activation_counts[layer]
            off_scale = self.activation_off_scale[layer]
        table = probes.histogram_rows(edges, counts, off_scale)
        checkpoints = table.pop("histogram").to_numpy()
        table.insert(0, "step", self.history["step"].to_numpy()[checkpoints])
        table.insert(1, "epoch", self.history["epoch"].to_numpy()[checkpoints])
        return table


def select_samples(config: RunConfig, dataset: Dataset) -> dict[str, np.ndarray]:
    """uint8 images flattened to (N, 784) and int32 labels for train and validation."""
    train_images = dataset.train_images.reshape(-1, IMAGE_PIXELS)
    train_labels = dataset.train_labels.astype(np.int32)
    if config.train_samples > len(train_images):
        raise ValueError(
            _("train_samples must be at most {limit} for this dataset; got {value}").format(
                limit=len(train_images), value=config.train_samples
            )
        )
    if config.validation_source == "holdout":
        val_images, val_labels = train_images, train_labels
        if config.train_samples + config.validation_samples > len(train_images):
            raise ValueError(
                _("train_samples + validation_samples must be at most {limit}; got {value}").format(
                    limit=len(train_images), value=config.train_samples + config.validation_samples
                )
            )
        val_slice = slice(len(train_images) - config.validation_samples, None)
    else:
        val_images = dataset.test_images.reshape(-1, IMAGE_PIXELS)
        val_labels = dataset.test_labels.astype(np.int32)
        val_slice = slice(0, min(config.validation_samples, len(val_images)))
    return {
        "train_images": train_images[: config.train_samples],
        "train_labels": train_labels[: config.train_samples],
        "val_images": val_images[val_slice],
        "val_labels": val_labels[val_slice],
    }


def samples_in_steps(config: RunConfig, first: int, count: int) -> int:
    """Training samples seen by steps first+1 … first+count (the batches of `model.fit`).

    Every batch holds batch_size samples but an epoch's last, which holds what is left:
        last = train_samples - (steps_per_epoch - 1) · batch_size
    """
    steps_per_epoch, batch = config.steps_per_epoch, config.batch_size
    short = batch - (config.train_samples - (steps_per_epoch - 1) * batch)
    epoch_ends = (first + count) // steps_per_epoch - first // steps_per_epoch
    return count * batch - epoch_ends * short


def batch_indices(order: tf.Tensor, step_in_epoch: tf.Tensor, batch: int):
    """The sample indices of batch `step_in_epoch` of `order`, and which of them are real.

    `order` is (samples,), or (runs, samples) for runs trained together, each with its own
    order: indices are then (runs, batch); `real` is (batch,) either way.

    An epoch's last batch is partial when `batch` does not divide the samples (as in
    `model.fit`). It keeps its full shape, so one compiled step serves every batch: its missing
    rows repeat the epoch's last sample and are masked out of the loss (`masked_mean_loss`),
    which gives them zero gradient.
        positions = step_in_epoch · batch + [0, batch)     real = positions < len(order)
    """
    samples = tf.shape(order)[-1]
    positions = step_in_epoch * batch + tf.range(batch)
    # A gather, not tf.slice: XLA would treat slice's start as a constant and recompile.
    indices = tf.gather(order, tf.minimum(positions, samples - 1), axis=-1)
    return indices, positions < samples


def per_sample_loss(config: RunConfig) -> keras.losses.Loss:
    """The run's Keras loss with no reduction: one value per sample, (B,)."""
    loss = make_loss(config)
    return type(loss).from_config({**loss.get_config(), "reduction": None})


def masked_mean_loss(values, predicted, labels, real=None):
    """The mean of per-sample loss `values` and the correct count, over the `real` rows only.

        loss = Σ_real values / count(real)    Keras's sum_over_batch_size on the real rows
    With every row real this is Keras's own reduction, to the bit.
    """
    correct = predicted == labels
    if real is None:
        count = tf.cast(tf.shape(values)[0], values.dtype)
    else:
        values = tf.where(real, values, tf.zeros_like(values))
        correct = tf.logical_and(correct, real)
        count = tf.reduce_sum(tf.cast(real, values.dtype))
    return tf.reduce_sum(values) / count, tf.reduce_sum(tf.cast(correct, tf.float32))


def _single_replica(optimizer):
    """`optimizer`, made to apply its gradients as they are instead of all-reducing them.

    Keras's TensorFlow optimizer sums gradients over replicas with tf.distribute's all_reduce,
    which inside a traced function wraps them in a tf.custom_gradient. That registers a gradient
    function under a new name ("CustomGradient-N") in TensorFlow's process-wide gradient registry
    and never removes it; its closure holds tensors of the traced step, so every run's loop
    graphs (Python objects, their C++ graphs and the functions registered with the eager
    context) stayed alive for good: about 5.5 MB a run in a long-lived server
    (tools/memory.py). Training here has one replica, where the sum is the gradient itself, so
    skipping it changes no number.
    """
    if tf.distribute.get_strategy().num_replicas_in_sync != 1:
        raise ValueError("training here runs on one replica; no distribution strategy")
    optimizer._all_reduce_sum_gradients = list  # (gradient, variable) pairs, unchanged
    return optimizer


class _Trainer:
    """The compiled functions of one run, sharing one model and its two optimizers.

    A trainer serves any run of the same `structure` (see `_TrainerPool`): `load()` gives it a
    run's initial weights, learning rates and data without tracing or compiling again. The data
    and the step losses are variables whose first dimension is free, so they change size.
    """

    def __init__(self, config: RunConfig, samples: dict[str, np.ndarray], jit: bool = True):
        self.config = config
        self.model = build_model(config, samples["train_images"])
        self.dense = dense_layers(self.model)
        self.kernels = [layer.kernel for layer in self.dense]
        biases = [layer.bias for layer in self.dense]
        # Gradients come in this order: every kernel, then every bias.
        self.variables = [*self.kernels, *biases]
        self.other_variables = self.variables[1:]
        self.first_optimizer = _single_replica(make_first_layer_optimizer(config))
        self.optimizer = _single_replica(make_optimizer(config, config.learning_rate))
        self.first_optimizer.build(self.variables[:1])
        self.optimizer.build(self.other_variables)
        self.sample_loss = per_sample_loss(config)
        self.one_hot = config.loss == "mse"
        # uint8: 1 byte a pixel in memory.
        self.images = tf.Variable(
            samples["train_images"], trainable=False, shape=tf.TensorShape([None, IMAGE_PIXELS])
        )
        self.labels = tf.Variable(samples["train_labels"], trainable=False, shape=[None])
        self.step_loss = tf.Variable(
            tf.zeros([config.total_steps + 1]), trainable=False, shape=[None]
        )
        # autograph=False: the loop is an explicit tf.while_loop, and converting the
        # Python source of Keras's layers and optimizers would only add seconds of tracing.
        self.run_steps = tf.function(self._run_steps, jit_compile=jit, autograph=False)
        order = tf.TensorSpec([None], tf.int32)
        self.gradient_norms = tf.function(
            self._gradient_norms,
            autograph=False,
            input_signature=[order, tf.TensorSpec([], tf.int32)],
        )
        # Evaluation and probes run once per checkpoint: graph mode, no XLA compile to wait for.
        # One trace serves every shape (probe, validation subset, full validation set).
        images = tf.TensorSpec([None, IMAGE_PIXELS], tf.uint8)
        labels = tf.TensorSpec([None], tf.int32)
        self.measure = tf.function(
            self._measure, autograph=False, input_signature=[images, labels, images]
        )

    def load(self, config: RunConfig, samples: dict[str, np.ndarray]) -> None:
        """Make this trainer's next run `config`: its initial weights (drawn as a fresh model's
        are), fresh optimizer state, its learning rates and its data."""
        for layer, (kernel, bias) in zip(self.dense, initial_weights(config), strict=True):
            layer.kernel.assign(kernel)
            layer.bias.assign(bias)
        rates = (config.learning_rate * config.first_layer_lr_multiplier, config.learning_rate)
        for optimizer, rate in zip((self.first_optimizer, self.optimizer), rates, strict=True):
            for variable in optimizer.variables:  # iteration count, moments
                variable.assign(tf.zeros_like(variable))
            optimizer.learning_rate = rate
        self.images.assign(samples["train_images"])
        self.labels.assign(samples["train_labels"])
        self.step_loss.assign(tf.zeros([config.total_steps + 1]))
        self.config = config

    def unload(self) -> None:
        """Let go of the run's data while the trainer waits in the pool."""
        self.images.assign(tf.zeros([0, IMAGE_PIXELS], tf.uint8))
        self.labels.assign(tf.zeros([0], tf.int32))
        self.step_loss.assign(tf.zeros([0]))

    def _loss(self, images, labels, training, real=None):
        """Mean loss and correct count over the rows where `real` (all rows when None)."""
        probabilities = self.model(tf.cast(images, tf.float32), training=training)  # (B, 10)
        targets = tf.one_hot(labels, NUM_CLASSES) if self.one_hot else labels
        predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return masked_mean_loss(self.sample_loss(targets, probabilities), predicted, labels, real)

    def _step(self, order, step_in_epoch, global_step):
        """One step on the batch at `step_in_epoch` of `order`; returns its loss and correct."""
        indices, real = batch_indices(order, step_in_epoch, self.config.batch_size)
        images, labels = tf.gather(self.images, indices), tf.gather(self.labels, indices)
        with tf.GradientTape() as tape:
            loss, correct = self._loss(images, labels, training=True, real=real)
        gradients = tape.gradient(loss, self.variables)
        self.first_optimizer.apply(gradients[:1], self.variables[:1])
        self.optimizer.apply(gradients[1:], self.other_variables)
        self.step_loss.scatter_nd_update([[global_step]], [loss])  # XLA-friendly write
        return loss, correct

    def _run_steps(self, order, start_in_epoch, start_global, count):
        """`count` steps; stops early at a non-finite loss.

        Returns the loss sum, correct count, steps done and whether the last loss was finite.
        The compiled loop holds the step once: the last step before a checkpoint is measured
        around a call of one step (`measured_step`), not by a second, measured copy of the step
        in the program, which doubled XLA's compilation (~0.7-1.3 s of a new structure's run).
        """

        def body(done, loss_sum, correct_sum, finite):
            loss, correct = self._step(order, start_in_epoch + done, start_global + done + 1)
            return done + 1, loss_sum + loss, correct_sum + correct, tf.math.is_finite(loss)

        def keep_going(done, loss_sum, correct_sum, finite):
            return tf.logical_and(done < count, finite)

        done, loss_sum, correct_sum, finite = tf.while_loop(
            keep_going, body, (tf.constant(0), tf.constant(0.0), tf.constant(0.0), True)
        )
        return loss_sum, correct_sum, done, finite

    def _gradient_norms(self, order, step_in_epoch):
        """‖∇W‖ of each kernel for the step at `step_in_epoch`, at the current weights, without
        taking it (graph mode: nothing to compile). The same gradient as the compiled step
        takes, rounded as TensorFlow's kernels round it; it is only shown, never applied."""
        indices, real = batch_indices(order, step_in_epoch, self.config.batch_size)
        images, labels = tf.gather(self.images, indices), tf.gather(self.labels, indices)
        with tf.GradientTape() as tape:
            loss, _ = self._loss(images, labels, training=True, real=real)
        gradients = tape.gradient(loss, self.kernels)
        return tf.stack([tf.norm(gradient) for gradient in gradients])

    def measured_step(self, order, step_in_epoch, global_step):
        """One compiled step, with (‖∇W‖, ‖ΔW‖/‖W‖) of each kernel as two (layers,) arrays.

        Returns what `run_steps` returns, and the stats (NaN when the step's loss was not
        finite). ΔW = W after − W before: the kernels are copied before the step.
        """
        norms = self.gradient_norms(order, step_in_epoch).numpy()
        before = [tf.identity(kernel) for kernel in self.kernels]
        outcome = self.run_steps(order, step_in_epoch, global_step, tf.constant(1))
        ratios = np.array(
            [
                float(tf.norm(kernel - old) / tf.maximum(tf.norm(old), 1e-30))
                for kernel, old in zip(self.kernels, before, strict=True)
            ]
        )
        if not bool(outcome[3]):
            norms = ratios = np.full(len(self.kernels), np.nan)
        return outcome, (norms, ratios)

    def _measure(self, val_images, val_labels, probe_images):
        """Validation loss and accuracy, and [(z, h)] per layer on the probe, in one call."""
        return self._evaluate(val_images, val_labels), probes.layer_outputs(
            self.model, probe_images
        )

    def _evaluate(self, images, labels):
        loss, correct = self._loss(images, labels, training=False)
        return loss, correct / tf.cast(tf.shape(labels)[0], tf.float32)


def _free_finished_run() -> None:
    """Give back what a finished run held, now rather than at some later garbage collection.

    A traced tf.function's graphs are reference cycles (FuncGraph, ops and tensors point at each
    other), as are Keras models, so a run's graphs, the functions they registered with the
    eager context and its model outlived train() until Python's cyclic collector next did a
    full pass; freed that late, between the next runs' allocations, they left ~3 MB a run of
    growth (tools/memory.py: 10.6 MB a run without this collection, 7.8 MB with it). One full
    collection takes ~0.1-0.3 s (a few % of a real run). Then malloc_trim hands the freed pages
    of every glibc arena (XLA compiles in the training thread's own arena) back to the OS:
    ~50 MB less resident set, growth unchanged; not on other C libraries.
    """
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


def _load_malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        return None


_malloc_trim = _load_malloc_trim()


class TrainingStopped(Exception):
    """Raised by `train()` when its `should_stop` says so: nobody waits for the run any more."""


def train(
    config: RunConfig,
    dataset: Dataset,
    on_checkpoint: Callable[[RunResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RunResult:
    """Train `config` on `dataset`, recording probes at every checkpoint.

    Args:
        config: the run's set-up.
        dataset: uint8 images and labels, as `explorer.data.load_dataset` returns.
        on_checkpoint: called with the result so far after each checkpoint (step 0 included),
            for live progress; it sees `finished` False until the end.
        should_stop: asked before every compiled call (each at most about
            `budget.CALL_SECONDS` of work): True stops the run with `TrainingStopped`.

    Returns:
        The `RunResult`. A non-finite loss stops training and sets `diverged_step`; never raises
        for a run that blows up.

    The run's trainer (model, optimizers, compiled loop) goes back to a pool for the next run
    of the same structure, without the run's data; whatever else the run held is collected
    before it returns (or raises), so a long-lived process does not keep it.
    """
    try:
        return _train(config, dataset, on_checkpoint, should_stop)
    except BaseException as error:
        # The traceback holds _train's frame and with it the trainer: drop the finished frames'
        # locals, so that a stopped or failed run is freed below too.
        traceback.clear_frames(error.__traceback__)
        raise
    finally:
        _free_finished_run()


def structure(config: RunConfig, train_images: np.ndarray) -> tuple:
    """What a trainer's traced graph fixes; runs that agree on it share one compiled loop.

    The layer widths, activation, loss, optimizer kind and batch size shape the graph; the input
    scaling and the adaptive optimizers' epsilon (which follows the weight scale) are constants
    in it. Weights, learning rates, seeds and the data are fed to it.
    """
    adaptive = config.optimizer in ("adam", "rmsprop")
    return (
        config.hidden_units,
        config.activation,
        config.loss,
        config.optimizer,
        config.batch_size,
        input_rescaling(config, train_images),
        config.weight_scale if adaptive else None,
    )


class _TrainerPool:
    """Idle trainers by structure, the least recently used let go past `size`.

    Reusing a trainer reuses its compiled XLA loop: a run pays no compilation, and the process
    keeps one compiled program per structure, not per run. TensorFlow never frees a compiled
    XLA program (its compilation cache has no eviction), so without the pool every run would
    keep ~7.5 MB for good (tools/memory.py).
    """

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        self._idle: collections.OrderedDict[tuple, list[_Trainer]] = collections.OrderedDict()
        self.compilations = 0  # XLA programs made in this process (each kept for good)

    def take(self, config: RunConfig, samples: dict[str, np.ndarray]) -> _Trainer:
        key = structure(config, samples["train_images"])
        trainer = self.take_idle(key)
        if trainer is None:
            trainer = _Trainer(config, samples, jit=self.allow_compilation())
        else:
            trainer.load(config, samples)
        trainer.structure = key
        return trainer

    def take_idle(self, key: tuple):
        """An idle trainer of structure `key` (any kind with `structure` and `unload()`: the
        group trainers of explorer.group wait here too), or None."""
        with self._lock:
            waiting = self._idle.get(key)
            return waiting.pop() if waiting else None

    def allow_compilation(self) -> bool:
        """Whether a new trainer may compile with XLA (counted), or must run in graph mode."""
        with self._lock:
            jit = self.compilations < MAX_COMPILATIONS
            self.compilations += jit
        return jit

    def give_back(self, trainer: _Trainer) -> None:
        trainer.unload()
        with self._lock:
            self._idle.setdefault(trainer.structure, []).append(trainer)
            self._idle.move_to_end(trainer.structure)
            while sum(map(len, self._idle.values())) > self.size:
                oldest = next(iter(self._idle))
                self._idle[oldest].pop(0)
                if not self._idle[oldest]:
                    del self._idle[oldest]

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()


POOL_SIZE = 6  # idle trainers kept: their weights and optimizer state, without the data


# TensorFlow keeps every XLA program for good (~7.5-10 MB each): past this many in one process, a
# new trainer runs in TensorFlow's graph mode instead (about half as fast; the same arithmetic up
# to the order of float additions), so no stream of distinct networks can exhaust memory. A
# private install with memory to spare raises it with EXPLORER_MAX_COMPILATIONS.
def _max_compilations() -> int:
    configured = os.environ.get("EXPLORER_MAX_COMPILATIONS", "").strip() or "16"
    if not configured.isdigit():
        raise ValueError(
            f"EXPLORER_MAX_COMPILATIONS must be a whole number of at least 0; got {configured!r}"
        )
    return int(configured)


MAX_COMPILATIONS = _max_compilations()
TRAINERS = _TrainerPool(POOL_SIZE)


def _train(config, dataset, on_checkpoint, should_stop) -> RunResult:
    started = time.perf_counter()
    samples = select_samples(config, dataset)
    trainer = TRAINERS.take(config, samples)
    try:
        return _train_with(trainer, config, samples, on_checkpoint, should_stop, started)
    finally:
        TRAINERS.give_back(trainer)


def _train_with(trainer, config, samples, on_checkpoint, should_stop, started) -> RunResult:
    recorder = _Recorder(config, trainer, samples)
    shuffler = np.random.default_rng(config.seed)
    steps_per_epoch = config.steps_per_epoch
    # Long intervals between checkpoints are cut into calls of bounded work (the same cut for the
    # same config, so the numbers stay the same), so that a stop request is heard in time.
    call_steps = max_steps_per_call(config)
    recorder.result.setup_seconds = time.perf_counter() - started
    train_started = time.perf_counter()

    recorder.checkpoint(step=0, loss_sum=0.0, correct_sum=0.0, steps=0, elapsed=0.0, stats=None)
    if on_checkpoint:
        on_checkpoint(recorder.snapshot())
    step, order, order_epoch = 0, None, -1
    for target in checkpoint_steps(config)[1:]:
        loss_sum, correct_sum, steps_done, stats = 0.0, 0.0, 0, None
        while step < target:
            epoch = step // steps_per_epoch
            if epoch != order_epoch:  # a new shuffle each epoch, from the seed
                permutation = shuffler.permutation(config.train_samples)
                order, order_epoch = tf.constant(permutation.astype(np.int32)), epoch
            count = min(target, (epoch + 1) * steps_per_epoch, step + call_steps) - step
            if should_stop is not None and should_stop():
                raise TrainingStopped(f"stopped at step {step:,} of {config.total_steps:,}")
            in_epoch = step - epoch * steps_per_epoch
            # The interval's last step is measured, on its own (`_Trainer.measured_step`).
            plain = count - 1 if step + count == target else count
            outcomes = []
            if plain:
                outcomes.append(
                    trainer.run_steps(
                        order, tf.constant(in_epoch), tf.constant(step), tf.constant(plain)
                    )
                )
            if plain < count and (not outcomes or bool(outcomes[0][3])):
                last = in_epoch + plain
                outcome, stats = trainer.measured_step(
                    order, tf.constant(last), tf.constant(step + plain)
                )
                outcomes.append(outcome)
            for chunk_loss, chunk_correct, done, _finite in outcomes:
                loss_sum += float(chunk_loss)
                correct_sum += float(chunk_correct)
                steps_done += int(done)
                step += int(done)
            if not bool(outcomes[-1][3]):  # the last loss was not finite
                recorder.result.diverged_step = step
                break
        if recorder.result.diverged:
            break
        recorder.checkpoint(
            target, loss_sum, correct_sum, steps_done, time.perf_counter() - train_started, stats
        )
        if on_checkpoint:
            on_checkpoint(recorder.snapshot())

    recorder._fill()
    result = recorder.result
    last = result.diverged_step if result.diverged else step
    result.step_loss = trainer.step_loss.numpy()[1 : last + 1].copy()
    result.train_seconds = time.perf_counter() - train_started
    result.finished = True
    return result


def validation_subset(count: int) -> np.ndarray:
    """The rows of a validation set of `count` images evaluated between epoch ends: the same
    VALIDATION_SUBSET for every run (a fixed seed), so compared runs see the same images."""
    return np.sort(np.random.default_rng(0).permutation(count)[:VALIDATION_SUBSET])


class _Recorder:
    """Turns probes at each checkpoint into the rows and histograms of a `RunResult`."""

    def __init__(self, config: RunConfig, trainer: _Trainer, samples: dict[str, np.ndarray]):
        self.config, self.trainer = config, trainer
        self.probe_images = tf.constant(samples["train_images"][:PROBE_SAMPLES])
        self.probe_labels = tf.constant(samples["train_labels"][:PROBE_SAMPLES])
        self.val_full = (tf.constant(samples["val_images"]), tf.constant(samples["val_labels"]))
        subset = validation_subset(len(samples["val_labels"]))
        self.val_subset = (
            tf.constant(samples["val_images"][subset]),
            tf.constant(samples["val_labels"][subset]),
        )
        self.layer_names = [layer.name for layer in trainer.dense]
        self.hidden_names = self.layer_names[:-1]
        self.history_rows: list[dict] = []
        self.layer_rows: list[dict] = []
        self.preactivation_counts: list[np.ndarray] = []
        self.preactivation_off_scale: list[np.ndarray] = []
        self.activation_counts: dict[str, list[np.ndarray]] = {
            name: [] for name in self.hidden_names
        }
        self.activation_off_scale: dict[str, list[np.ndarray]] = {
            name: [] for name in self.hidden_names
        }
        self.result = RunResult(
            config=config,
            history=pd.DataFrame(),
            layers=pd.DataFrame(),
            step_loss=np.zeros(0, np.float32),
            preactivation_edges=np.zeros(0),
            preactivation_counts=np.zeros((0, probes.HISTOGRAM_BINS), np.int32),
            preactivation_off_scale=np.zeros((0, 3), np.int64),
            activation_edges={},
            activation_counts={},
            activation_off_scale={},
            parameter_count=int(trainer.model.count_params()),
            planned_steps=config.total_steps,
        )

    def checkpoint(self, step, loss_sum, correct_sum, steps, elapsed, stats) -> None:
        # A run on its way to diverging has inf values: their statistics are NaN, not errors.
        with np.errstate(over="ignore", invalid="ignore"):
            self._checkpoint(step, loss_sum, correct_sum, steps, elapsed, stats)

    def _checkpoint(self, step, loss_sum, correct_sum, steps, elapsed, stats) -> None:
        config, trainer, result = self.config, self.trainer, self.result
        epoch = step / config.steps_per_epoch
        if steps == 0:  # step 0: the training loss at init, measured on the probe batch
            # measure's one trace serves this too (evaluate would trace once more: ~0.05 s).
            (loss, accuracy), _ = trainer.measure(
                self.probe_images, self.probe_labels, self.probe_images[:1]
            )
            train_loss, train_accuracy = float(loss), float(accuracy)
        else:
            train_loss = loss_sum / steps
            train_accuracy = correct_sum / samples_in_steps(config, step - steps, steps)
        full = step % config.steps_per_epoch == 0
        val_images, val_labels = self.val_full if full else self.val_subset
        (val_loss, val_accuracy), layer_outputs = trainer.measure(
            val_images, val_labels, self.probe_images
        )
        # float64: a blowing-up run's values overflow float32 sums before they become inf.
        outputs = [
            (z.numpy().astype(np.float64), h.numpy().astype(np.float64)) for z, h in layer_outputs
        ]
        first_z = outputs[0][0]
        if step == 0:
            result.preactivation_edges = probes.histogram_edges(first_z)
            result.activation_edges = {
                name: probes.histogram_edges(h, probes.ACTIVATION_RANGES.get(config.activation))
                for name, (_, h) in zip(self.hidden_names, outputs, strict=False)
            }
        counts, off_scale = probes.histogram(first_z, result.preactivation_edges)
        self.preactivation_counts.append(counts)
        self.preactivation_off_scale.append(off_scale)
        self.history_rows.append(
            {
                "step": step,
                "epoch": epoch,
                "train_loss": train_loss,
                "train_accuracy": train_accuracy,
                "val_loss": float(val_loss),
                "val_accuracy": float(val_accuracy),
                "val_full": full,
                "elapsed_s": elapsed,
                "z_mean": float(np.mean(first_z)),
                "z_std": float(np.std(first_z)),
                "z_min": float(np.min(first_z)),
                "z_max": float(np.max(first_z)),
                "z_outside": probes.off_scale_share(counts, off_scale),
            }
        )
        norms, ratios = stats if stats is not None else ([math.nan] * len(outputs),) * 2
        for index, (name, (z, h)) in enumerate(zip(self.layer_names, outputs, strict=True)):
            hidden = name in self.activation_counts
            if hidden:
                counts, off_scale = probes.histogram(h, result.activation_edges[name])
                self.activation_counts[name].append(counts)
                self.activation_off_scale[name].append(off_scale)
            self.layer_rows.append(
                {
                    "step": step,
                    "epoch": epoch,
                    "layer": name,
                    "hidden": hidden,
                    "saturated_share": (
                        probes.saturated_share(config.activation, h) if hidden else math.nan
                    ),
                    "dead_share": probes.dead_share(config.activation, z) if hidden else math.nan,
                    "activation_mean": float(np.mean(h)),
                    "activation_std": float(np.std(h)),
                    "gradient_norm": float(norms[index]),
                    "update_ratio": float(ratios[index]),
                }
            )

    def _fill(self) -> None:
        """Tables from the rows so far; built on demand, since rebuilding them at every
        checkpoint would cost time quadratic in the number of checkpoints."""
        result = self.result
        result.history = pd.DataFrame(self.history_rows)
        result.layers = pd.DataFrame(self.layer_rows)
        result.preactivation_counts = np.stack(self.preactivation_counts)
        result.preactivation_off_scale = np.stack(self.preactivation_off_scale)
        result.activation_counts = {
            name: np.stack(counts) for name, counts in self.activation_counts.items()
        }
        result.activation_off_scale = {
            name: np.stack(counts) for name, counts in self.activation_off_scale.items()
        }

    def snapshot(self) -> RunResult:
        """A copy of the result so far, safe to keep while training goes on."""
        self._fill()
        snapshot = dataclasses.replace(self.result)
        last_step = self.history_rows[-1]["step"]
        snapshot.step_loss = self.trainer.step_loss.numpy()[1 : last_step + 1].copy()
        return snapshot
