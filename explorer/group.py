"""Runs that share shapes, trained together in one compiled graph over a leading run axis.

Seeds of one set-up, a comparison set (A1/A2/A3), a sweep's values and the twin lab's runs
differ only in numbers, so R of them train as one compiled program with a run axis in front:

    weights  W (R, in, out), b (R, 1, out): every run's, stacked
    x_r      = images[order_r[batch]] · scale_r + offset_r         each run its own shuffle
    z_r      = h_r @ W[r] + b[r]                                   each run's own 2-D products
    loss     = Σ_r loss_r                                          ∂loss/∂θ_r = ∂loss_r/∂θ_r
    θ       ← Keras's own optimizer `update_step` on the stacked variables, the learning rate
              (and the first kernel's epsilon) an (R, 1, 1) tensor: elementwise, so each run
              takes exactly the step it takes alone, with its own optimizer state

Each run's weights are drawn by its own seeded initializers (`model.initial_weights`, as
`build_model` draws them), its batches come from its own seed's shuffle, and it gets the same
`RunResult` as `train()` (the same recorder, checkpoints and probes). A run whose loss stops
being finite is marked diverged at that step, as `train()` marks it, and drops out; the others
go on. The products are the 2-D ones of a run alone (not one batched product, which rounds
differently), so a grouped run's numbers are those of `train()` (bit for bit wherever measured;
the tests allow 1e-5 on the losses).

The compiled program waits in `train.TRAINERS` between groups, keyed on its shapes and static
choices (`group_structure`), so a second group of the same shapes pays no compilation; it counts
against `train.MAX_COMPILATIONS` like a run's.
"""

from __future__ import annotations

import functools
import itertools
import time
import traceback
import types
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from explorer import train as training  # its TRAINERS at call time (tests swap the pool)
from explorer.budget import checkpoint_steps, max_steps_per_call
from explorer.config import MAX_SEED, MAX_SEEDS, RunConfig
from explorer.data import Dataset
from explorer.model import (
    IMAGE_PIXELS,
    NUM_CLASSES,
    initial_weights,
    input_rescaling,
    make_first_layer_optimizer,
    make_optimizer,
)
from explorer.train import (
    RunResult,
    TrainingStopped,
    _free_finished_run,
    _Recorder,
    batch_indices,
    masked_mean_loss,
    per_sample_loss,
    select_samples,
)

# What the runs of a group share: the graph's shapes (data, widths, batch), its static choices
# (activation, optimizer kind) and the checkpoint schedule. Every other field is a number fed to
# the graph: seed, input scaling, initializer, weight scale, loss, learning rates.
GROUP_FIELDS = (
    "dataset",
    "train_samples",
    "validation_samples",
    "validation_source",
    "hidden_units",
    "activation",
    "optimizer",
    "batch_size",
    "epochs",
    "checkpoints_per_epoch",
)
# Runs in one compiled program: each adds its own copy of the step to it, so compilation grows
# with the count (seconds for a dozen A1 runs). A sweep's largest count.
MAX_GROUP_RUNS = 12


def group_key(config: RunConfig) -> tuple:
    """The values of GROUP_FIELDS: configs with equal keys can train as one group."""
    return tuple(getattr(config, name) for name in GROUP_FIELDS)


def check_group(configs: Sequence[RunConfig]) -> None:
    """Raises ValueError unless `configs` (1 to MAX_GROUP_RUNS) can train as one group."""
    if not 1 <= len(configs) <= MAX_GROUP_RUNS:
        raise ValueError(f"a group holds 1 to {MAX_GROUP_RUNS} runs; got {len(configs)}")
    for name in GROUP_FIELDS:
        values = list(dict.fromkeys(getattr(config, name) for config in configs))
        if len(values) > 1:
            raise ValueError(
                f"runs of one group must share {name}; got {', '.join(map(repr, values))}"
            )


def split_into_groups(
    configs: Sequence[RunConfig], max_runs: int = MAX_GROUP_RUNS
) -> list[list[int]]:
    """Indices of `configs` by group (equal `group_key`), in the order each group's first run
    appears; a group of more than `max_runs` is cut into groups of at most that many."""
    groups: dict[tuple, list[int]] = {}
    for index, config in enumerate(configs):
        groups.setdefault(group_key(config), []).append(index)
    return [
        indices[start : start + max_runs]
        for indices in groups.values()
        for start in range(0, len(indices), max_runs)
    ]


def seed_configs(config: RunConfig, count: int) -> list[RunConfig]:
    """`count` copies of `config` with seeds config.seed, config.seed + 1, …: one seed band.

    Raises:
        ValueError: if `count` is not a whole number from 1 to MAX_SEEDS, or the seeds would
            pass MAX_SEED.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SEEDS:
        raise ValueError(f"seeds must be a whole number from 1 to {MAX_SEEDS}; got {count!r}")
    if config.seed + count - 1 > MAX_SEED:
        raise ValueError(
            f"seeds {config.seed} to {config.seed + count - 1} pass the largest seed {MAX_SEED}"
        )
    return [config.replace(seed=config.seed + offset) for offset in range(count)]


def group_structure(configs: Sequence[RunConfig]) -> tuple:
    """What a group trainer's traced graph fixes: runs, widths, activation, optimizer kind,
    batch and each run's loss (the loss function is chosen per run at trace time)."""
    first = configs[0]
    losses = tuple(config.loss for config in configs)
    return ("group", len(configs), first.hidden_units, first.activation, first.optimizer,
            first.batch_size, losses)  # fmt: skip


def _per_run(runs: int) -> tf.Variable:
    """A number per run, shaped (R, 1, 1) to broadcast over a run's (batch, units)."""
    return tf.Variable(tf.zeros([runs, 1, 1]), trainable=False)


class _GroupTrainer:
    """The compiled functions of a group: stacked weights, two Keras optimizers built on them.

    Serves any group of the same `group_structure`: `load()` gives it the runs' initial
    weights, rates, input scaling and data without tracing or compiling again.
    """

    def __init__(self, configs: Sequence[RunConfig], jit: bool = True):
        first, runs = configs[0], len(configs)
        self.runs = runs
        widths = [IMAGE_PIXELS, *first.hidden_units, NUM_CLASSES]
        self.kernels = [
            keras.Variable(np.zeros((runs, fan_in, fan_out), np.float32), name=f"kernel_{index}")
            for index, (fan_in, fan_out) in enumerate(itertools.pairwise(widths))
        ]
        self.biases = [
            keras.Variable(np.zeros((runs, 1, fan_out), np.float32), name=f"bias_{index}")
            for index, fan_out in enumerate(widths[1:])
        ]
        # Gradients come in this order: every kernel, then every bias (as in train._Trainer).
        self.variables = [*self.kernels, *self.biases]
        self.other_variables = self.variables[1:]
        self.scale, self.offset = _per_run(runs), _per_run(runs)  # inputs · scale + offset
        self.first_rate, self.rate = _per_run(runs), _per_run(runs)
        # Keras's optimizers of the group's kind; their own learning rate is unused (update_step
        # takes the per-run rates). The first kernel's epsilon follows each run's weight scale.
        self.first_optimizer = make_optimizer(first, 1.0)
        self.optimizer = make_optimizer(first, 1.0)
        self.first_optimizer.build(self.variables[:1])
        self.optimizer.build(self.other_variables)
        self.first_epsilon = _per_run(runs)
        if hasattr(self.first_optimizer, "epsilon"):  # Adam, RMSprop
            self.first_optimizer.epsilon = self.first_epsilon
        self.activation = keras.activations.get(first.activation)
        self.output_activation = keras.activations.get("softmax")  # as the output Dense layer
        self.sample_losses = [per_sample_loss(config) for config in configs]
        self.one_hot = [config.loss == "mse" for config in configs]
        self.images = tf.Variable(
            np.zeros((0, IMAGE_PIXELS), np.uint8), trainable=False, shape=[None, IMAGE_PIXELS]
        )
        self.labels = tf.Variable(np.zeros(0, np.int32), trainable=False, shape=[None])
        # (steps + 1, R): row `step` holds every run's loss of that step.
        self.step_loss = tf.Variable(tf.zeros([0, runs]), trainable=False, shape=[None, runs])
        self.run_steps = tf.function(self._run_steps, jit_compile=jit, autograph=False)
        # Probes: graph mode, one run at a time (its index fed), each loss kind traced once.
        self.batch = first.batch_size
        self.loss_by_kind = {config.loss: per_sample_loss(config) for config in configs}
        # One trace per loss kind serves every shape (probe, validation subset, full set).
        images = tf.TensorSpec([None, IMAGE_PIXELS], tf.uint8)
        signature = [tf.TensorSpec([], tf.int32), images, tf.TensorSpec([None], tf.int32), images]
        self.measure = {
            kind: tf.function(
                functools.partial(self._measure, kind), autograph=False, input_signature=signature
            )
            for kind in self.loss_by_kind
        }

    def load(self, configs: Sequence[RunConfig], samples: dict[str, np.ndarray]) -> None:
        """Make the group's next runs `configs`: each run's initial weights drawn by its own
        Keras model (as `train()` draws them), fresh optimizer state, rates, scaling, data."""
        images = samples["train_images"]
        drawn = [initial_weights(config) for config in configs]  # as build_model draws them
        for index, kernel in enumerate(self.kernels):
            kernel.assign(np.stack([run[index][0] for run in drawn]))
        for index, bias in enumerate(self.biases):
            bias.assign(np.stack([run[index][1][None] for run in drawn]))
        hidden = len(configs[0].hidden_units)
        self.layer_names = [*(f"hidden_{index + 1}" for index in range(hidden)), "output"]
        self.parameter_count = sum(kernel.size + bias.size for kernel, bias in drawn[0])

        def column(values):  # float32, as a Keras optimizer or layer keeps a Python float
            return np.asarray(values, np.float32).reshape(-1, 1, 1)

        rescaling = [input_rescaling(config, images) for config in configs]
        self.scale.assign(column([scale for scale, _ in rescaling]))
        self.offset.assign(column([offset for _, offset in rescaling]))
        self.first_rate.assign(
            column([config.learning_rate * config.first_layer_lr_multiplier for config in configs])
        )
        self.rate.assign(column([config.learning_rate for config in configs]))
        if hasattr(self.first_optimizer, "epsilon"):  # the twin's correction (model.py)
            epsilons = [make_first_layer_optimizer(config).epsilon for config in configs]
            self.first_epsilon.assign(column(epsilons))
        for optimizer in (self.first_optimizer, self.optimizer):
            for variable in optimizer.variables:  # iteration count, moments
                variable.assign(tf.zeros_like(variable))
        self.images.assign(images)
        self.labels.assign(samples["train_labels"])
        self.step_loss.assign(tf.zeros([configs[0].total_steps + 1, self.runs]))

    def unload(self) -> None:
        """Let go of the runs' data while the trainer waits in the pool."""
        self.images.assign(tf.zeros([0, IMAGE_PIXELS], tf.uint8))
        self.labels.assign(tf.zeros([0], tf.int32))
        self.step_loss.assign(tf.zeros([0, self.runs]))

    def retire(self, runs: np.ndarray) -> None:
        """Zero the weights and optimizer state of diverged `runs` (a boolean (R,) mask), so
        they compute plain finite numbers while the others go on; their results are final."""
        keep = tf.constant(~runs, tf.float32)[:, None, None]
        stacked = [*self.variables, *self.first_optimizer.variables, *self.optimizer.variables]
        for variable in stacked:
            if len(variable.shape) == 3:  # skip the optimizers' scalars
                variable.assign(tf.where(keep > 0, variable, tf.zeros_like(variable)))

    def _losses(self, images, labels, real):
        """Each run's mean loss and correct count on its batch: two (R,) vectors.

        Each run's products are its own 2-D ones, on slices of the stacked weights: XLA
        compiles them as it does the run alone (a batched (R, B, in) @ (R, in, out) product
        rounds differently, and A1's chaotic training amplifies that to ±0.7 pp at its end).
        """
        inputs = tf.unstack(tf.cast(images, tf.float32) * self.scale + self.offset)  # R (B, 784)
        kernels = [tf.unstack(kernel) for kernel in self.kernels]  # per layer: R (in, out)
        biases = [tf.unstack(bias) for bias in self.biases]  # per layer: R (1, out)
        last = len(self.kernels) - 1
        losses, corrects = [], []
        for run in range(self.runs):
            hidden = inputs[run]
            for layer in range(last + 1):
                z = tf.matmul(hidden, kernels[layer][run]) + biases[layer][run]  # (B, units)
                # The output's softmax keeps its logits, from which cross-entropy is computed
                # (as Keras's Dense layer and loss do in train()).
                hidden = self.output_activation(z) if layer == last else self.activation(z)
            targets = tf.one_hot(labels[run], NUM_CLASSES) if self.one_hot[run] else labels[run]
            predicted = tf.argmax(hidden, axis=-1, output_type=tf.int32)
            values = self.sample_losses[run](targets, hidden)
            loss, correct = masked_mean_loss(values, predicted, labels[run], real)
            losses.append(loss)
            corrects.append(correct)
        return tf.stack(losses), tf.stack(corrects)

    def _step(self, orders, step_in_epoch, global_step, measure=False):
        """One step of every run on its own batch; returns losses, correct counts (R,), stats.

        With `measure`, stats are (‖∇W‖, ‖ΔW‖ / ‖W‖) for each run and kernel, two (R, layers).
        """
        indices, real = batch_indices(orders, step_in_epoch, self.batch)  # (R, B), (B,)
        images, labels = tf.gather(self.images, indices), tf.gather(self.labels, indices)
        with tf.GradientTape() as tape:
            losses, corrects = self._losses(images, labels, real)
            total = tf.reduce_sum(losses)  # ∂total/∂loss_r = 1: each run's own gradient
        gradients = tape.gradient(total, self.variables)
        before = [tf.identity(kernel) for kernel in self.kernels] if measure else []
        # Keras's own update rules, elementwise over the run axis (see the module docstring).
        updates = (
            (self.first_optimizer, self.first_rate, gradients[:1], self.variables[:1]),
            (self.optimizer, self.rate, gradients[1:], self.other_variables),
        )
        for optimizer, rate, some_gradients, some_variables in updates:
            for gradient, variable in zip(some_gradients, some_variables, strict=True):
                optimizer.update_step(gradient, variable, rate)
            optimizer.iterations.assign_add(1)
        self.step_loss.scatter_nd_update([[global_step]], [losses])  # XLA-friendly write
        if not measure:
            return losses, corrects, None
        gradient_norms = tf.stack([_norms(gradient) for gradient in gradients[: len(before)]], 1)
        update_ratios = tf.stack(
            [
                _norms(kernel - old) / tf.maximum(_norms(old), 1e-30)
                for kernel, old in zip(self.kernels, before, strict=True)
            ],
            axis=1,
        )
        return losses, corrects, (gradient_norms, update_ratios)

    def _run_steps(self, orders, start_in_epoch, start_global, count, active):
        """`count` steps of every run, the last one measured, as train._Trainer._run_steps.

        Stops early only when no `active` run (R,) is left with finite losses. Returns each
        run's loss sum and correct count (R,), the steps done, each run's first step with a
        non-finite loss (1-based within the call; 0 when none) and the last step's stats.
        """
        runs = self.runs

        def body(done, loss_sum, correct_sum, finite, first_bad):
            losses, corrects, _ = self._step(orders, start_in_epoch + done, start_global + done + 1)
            now_finite = tf.math.is_finite(losses)
            first_bad = tf.where(finite & ~now_finite, done + 1, first_bad)
            return (
                done + 1,
                loss_sum + losses,
                correct_sum + corrects,
                finite & now_finite,
                first_bad,
            )

        def keep_going(done, loss_sum, correct_sum, finite, first_bad):
            return tf.logical_and(done < count - 1, tf.reduce_any(finite & active))

        zeros = tf.zeros([runs])
        done, loss_sum, correct_sum, finite, first_bad = tf.while_loop(
            keep_going,
            body,
            (tf.constant(0), zeros, zeros, tf.ones([runs], tf.bool), tf.zeros([runs], tf.int32)),
        )

        def measured_step():
            return self._step(orders, start_in_epoch + done, start_global + done + 1, measure=True)

        def skipped_step():
            nan = tf.fill([runs, len(self.kernels)], float("nan"))
            return zeros, zeros, (nan, nan)

        going = tf.reduce_any(finite & active)
        losses, corrects, stats = tf.cond(going, measured_step, skipped_step)
        first_bad = tf.where(going & finite & ~tf.math.is_finite(losses), done + 1, first_bad)
        return (
            loss_sum + losses,
            correct_sum + corrects,
            done + tf.cast(going, tf.int32),
            first_bad,
            stats,
        )

    def _outputs(self, index, images):
        """[(z, h)] per Dense layer of run `index` on uint8 `images`, as probes.layer_outputs."""
        hidden = tf.cast(images, tf.float32) * self.scale[index] + self.offset[index]
        outputs, last = [], len(self.kernels) - 1
        for layer, (kernel, bias) in enumerate(zip(self.kernels, self.biases, strict=True)):
            z = tf.matmul(hidden, tf.gather(kernel, index)) + tf.gather(bias, index)  # (N, units)
            hidden = self.output_activation(z) if layer == last else self.activation(z)
            outputs.append((z, hidden))
        return outputs

    def _evaluate(self, kind, index, images, labels, outputs=None):
        """Run `index`'s mean loss and accuracy on `images`, as train._Trainer._evaluate."""
        probabilities = (outputs or self._outputs(index, images))[-1][1]
        targets = tf.one_hot(labels, NUM_CLASSES) if kind == "mse" else labels
        predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        values = self.loss_by_kind[kind](targets, probabilities)
        loss, correct = masked_mean_loss(values, predicted, labels)
        return loss, correct / tf.cast(tf.shape(labels)[0], tf.float32)

    def _measure(self, kind, index, val_images, val_labels, probe_images):
        """Validation loss and accuracy, and [(z, h)] per layer on the probe, in one call."""
        return self._evaluate(kind, index, val_images, val_labels), self._outputs(
            index, probe_images
        )


def _norms(tensor: tf.Tensor) -> tf.Tensor:
    """‖tensor_r‖ for each run r of an (R, in, out) tensor: (R,)."""
    return tf.sqrt(tf.reduce_sum(tf.square(tensor), axis=[1, 2]))


class _Member:
    """One run of a group as `train._Recorder` reads a trainer: `measure` (its probes),
    `dense` (layer names), `model.count_params()` and `step_loss.numpy()`."""

    def __init__(self, trainer: _GroupTrainer, index: int, config: RunConfig):
        self.trainer, self.index, self.kind = trainer, tf.constant(index), config.loss
        self.dense = [types.SimpleNamespace(name=name) for name in trainer.layer_names]
        self.model = types.SimpleNamespace(count_params=lambda: trainer.parameter_count)
        # This run's column of the step losses, (steps + 1,).
        self.step_loss = types.SimpleNamespace(numpy=lambda: trainer.step_loss[:, index].numpy())

    def measure(self, val_images, val_labels, probe_images):
        return self.trainer.measure[self.kind](self.index, val_images, val_labels, probe_images)


def train_group(
    configs: Sequence[RunConfig],
    dataset: Dataset,
    on_checkpoint: Callable[[int, RunResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[RunResult]:
    """Train `configs` together, one compiled graph for all; each gets what `train()` gives it.

    Args:
        configs: the runs, sharing GROUP_FIELDS (see `check_group`, `split_into_groups`).
        dataset: uint8 images and labels, as `explorer.data.load_dataset` returns.
        on_checkpoint: called as on_checkpoint(index, result so far) for each run after each
            of its checkpoints (step 0 included); `finished` is False until the end.
        should_stop: asked before every compiled call: True stops the group with
            `TrainingStopped`.

    Returns:
        One `RunResult` per config, in order. A run whose loss is not finite is marked
        diverged at that step (as `train()` marks it) and stops; the others go on. Each
        result's setup_seconds and train_seconds are the group's.

    Raises:
        ValueError: if the configs cannot train as one group (`check_group`).
    """
    check_group(configs)
    try:
        return _train_group(list(configs), dataset, on_checkpoint, should_stop)
    except BaseException as error:
        traceback.clear_frames(error.__traceback__)  # let go of the trainer (see train.train)
        raise
    finally:
        _free_finished_run()


def _train_group(configs, dataset, on_checkpoint, should_stop) -> list[RunResult]:
    started = time.perf_counter()
    samples = select_samples(configs[0], dataset)  # the same samples for every run
    key = group_structure(configs)
    trainer = training.TRAINERS.take_idle(key)
    if trainer is None:
        trainer = _GroupTrainer(configs, jit=training.TRAINERS.allow_compilation())
    trainer.structure = key
    try:
        trainer.load(configs, samples)
        return _train_group_with(trainer, configs, samples, on_checkpoint, should_stop, started)
    finally:
        training.TRAINERS.give_back(trainer)


def _train_group_with(trainer, configs, samples, on_checkpoint, should_stop, started):
    runs, schedule = len(configs), configs[0]
    recorders = [
        _Recorder(config, _Member(trainer, index, config), samples)
        for index, config in enumerate(configs)
    ]
    results = [recorder.result for recorder in recorders]
    shufflers = [np.random.default_rng(config.seed) for config in configs]
    steps_per_epoch = schedule.steps_per_epoch
    # A call of R runs does R runs' work: cut it R times shorter to hear a stop as soon.
    call_steps = max(1, min(max_steps_per_call(config) for config in configs) // runs)
    setup_seconds = time.perf_counter() - started
    train_started = time.perf_counter()

    def report(index):
        if on_checkpoint:
            on_checkpoint(index, recorders[index].snapshot())

    for index, recorder in enumerate(recorders):
        recorder.checkpoint(step=0, loss_sum=0.0, correct_sum=0.0, steps=0, elapsed=0.0, stats=None)
        report(index)
    active = np.ones(runs, bool)
    step, orders, order_epoch = 0, None, -1
    for target in checkpoint_steps(schedule)[1:]:
        loss_sums, correct_sums, steps_done, stats = np.zeros(runs), np.zeros(runs), 0, None
        while step < target and active.any():
            epoch = step // steps_per_epoch
            if epoch != order_epoch:  # a new shuffle each epoch, from each run's own seed
                permutations = [
                    shuffler.permutation(schedule.train_samples) for shuffler in shufflers
                ]
                orders, order_epoch = tf.constant(np.stack(permutations).astype(np.int32)), epoch
            count = min(target, (epoch + 1) * steps_per_epoch, step + call_steps) - step
            if should_stop is not None and should_stop():
                raise TrainingStopped(f"stopped at step {step:,} of {schedule.total_steps:,}")
            chunk_loss, chunk_correct, done, first_bad, chunk_stats = trainer.run_steps(
                orders,
                tf.constant(step - epoch * steps_per_epoch),
                tf.constant(step),
                tf.constant(count),
                tf.constant(active),
            )
            # float64 sums of float32 chunks, as train() adds them in Python floats.
            loss_sums += chunk_loss.numpy().astype(np.float64)
            correct_sums += chunk_correct.numpy().astype(np.float64)
            diverged = active & (first_bad.numpy() > 0)
            for index in np.flatnonzero(diverged):
                results[index].diverged_step = step + int(first_bad[index])
            steps_done += int(done)
            step += int(done)
            stats = (chunk_stats[0].numpy(), chunk_stats[1].numpy())
            if diverged.any():
                active &= ~diverged
                trainer.retire(diverged)
        if not active.any():
            break
        elapsed = time.perf_counter() - train_started
        for index in np.flatnonzero(active):
            recorders[index].checkpoint(
                target,
                loss_sums[index],
                correct_sums[index],
                steps_done,
                elapsed,
                (stats[0][index], stats[1][index]),
            )
            report(index)

    step_loss = trainer.step_loss.numpy()  # (steps + 1, R)
    train_seconds = time.perf_counter() - train_started
    for index, (recorder, result) in enumerate(zip(recorders, results, strict=True)):
        recorder._fill()
        last = result.diverged_step if result.diverged else step
        result.step_loss = step_loss[1 : last + 1, index].copy()
        result.setup_seconds, result.train_seconds = setup_seconds, train_seconds
        result.finished = True
    return results
