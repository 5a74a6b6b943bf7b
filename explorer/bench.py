"""Benchmark: `train()` against plain `model.fit` and a bare loop, and groups of runs against
one run, in one process.

    python -m explorer.bench [--parts floor fit setup groups memory] [--presets A1 B2]
                             [--seed 0] [--quick]

Parts (all by default, on Fashion-MNIST, the data this machine has):
  floor   train() of each preset ÷ its bare loop (`bare_loop`): the least a Keras + XLA engine
          does for the same run, the issue's own prototype design (one compiled call per epoch
          over uint8 batches, then the full validation set, as fit does) with no probes,
          checkpoints or metrics. Both pay one compilation. Targets ≤ 1.5 for A1, ≤ 1.3 for B2.
          Also a second train() of the same structure (no compilation) ÷ the bare loop, and the
          probes' floor: the bare loop with train()'s checkpoints (compiled calls cut at each,
          and the forward passes train() makes there), ÷ the bare loop.
  fit     train() against `model.fit` fed the way the source code feeds it (`fit_reference`):
          both times, the ratio train/fit, both final validation accuracies, the bare loop, and
          the peak RSS of the train() runs. verbose=0 for fit: no progress bar to pay for.
          Targets: ratio ≤ 0.40 for A1 and ≤ 0.15 for B2; peak RSS of train() ≤ 1.5 GB.
  setup   set-up seconds of a second run of the same shapes: train() and a group (≤ 0.05 s).
  groups  runs trained as one group (`explorer.group.train_group`) ÷ one run: 5 seeds of A1
          (≤ 3.0), an 8-value learning-rate sweep of quick A1 (≤ 3.0), A1/A2/A3 (≤ 2.0); every
          shape compiled before it is timed. Each row also prints its floor, the runs' bare loops
          one after another ÷ the one run.
  memory  peak RSS of a fresh process training 8 seeds of A1 at full size as one group
          (≤ 1.5 GB).
--quick trains quick-look sizes (10,000 training images) everywhere: a smoke run; the targets
are for full size. For a missed target the table says what the target leaves once the floor is
paid.
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import time

import keras
import numpy as np

from explorer.budget import PROBE_SAMPLES, checkpoint_steps
from explorer.config import IMAGE_PIXELS, RunConfig
from explorer.data import load_dataset
from explorer.group import seed_configs, train_group
from explorer.model import (
    NUM_CLASSES,
    build_model,
    dense_layers,
    make_first_layer_optimizer,
    make_loss,
    make_optimizer,
)
from explorer.presets import PRESETS
from explorer.setups import SWEEP_KNOBS
from explorer.sweep import sweep_configs, sweep_values
from explorer.train import (
    TRAINERS,
    batch_indices,
    per_sample_loss,
    select_samples,
    train,
    validation_subset,
)

TARGET_RATIOS = {"A1": 0.40, "B2": 0.15}  # train() ÷ model.fit
TARGET_FLOOR_RATIOS = {"A1": 1.5, "B2": 1.3}  # train() ÷ bare loop
TARGET_PEAK_RSS_GB = 1.5
TARGET_SETUP_SECONDS = 0.05  # a second run of the same shapes
TARGET_GROUP_RATIOS = {"seeds": 3.0, "sweep": 3.0, "set A": 2.0}
GROUP_SEEDS, SWEEP_VALUES, MEMORY_SEEDS = 5, 8, 8
# The app's quick look (explorer/ui/sidebar.py, which the engine does not import).
QUICK_LOOK = {"train_samples": 10_000, "validation_samples": 2_000}
PARTS = ("floor", "fit", "setup", "groups", "memory")
MEMORY_REPORT = "peak RSS GB: "  # the memory child's one line to its parent


def fit_reference(config: RunConfig, dataset, pipeline: str) -> tuple[float, float]:
    """Seconds and final validation accuracy of plain `model.fit` fed as the source feeds it.

    pipeline "A" (the Cross Validated question): pixels ÷255 in NumPy (float64), then
        tf.data .shuffle(5000).batch(32, drop_remainder=True) for training and validation.
    pipeline "B" (the tutorial): float32 arrays ÷255, one-hot labels for MSE, fit(batch_size).
    Both build the same model and initial weights as `train()` (input division moved to NumPy).
    """
    import tensorflow as tf

    started = time.perf_counter()
    samples = select_samples(config, dataset)
    model = build_model(config.replace(input_divisor=1.0), samples["train_images"])
    model.compile(
        optimizer=make_optimizer(config, config.learning_rate),
        loss=make_loss(config),
        metrics=["accuracy"],
    )

    def targets(labels):  # MSE compares the softmax output with one-hot labels
        return keras.utils.to_categorical(labels, NUM_CLASSES) if config.loss == "mse" else labels

    if pipeline == "A":

        def batches(images, labels):
            pairs = (images / config.input_divisor, targets(labels))  # float64, as the source
            data = tf.data.Dataset.from_tensor_slices(pairs).shuffle(5000, seed=config.seed)
            return data.batch(config.batch_size, drop_remainder=True)

        train_data = batches(samples["train_images"], samples["train_labels"])
        history = model.fit(
            train_data,
            epochs=config.epochs,
            validation_data=batches(samples["val_images"], samples["val_labels"]),
            verbose=0,
        )
    else:
        scale = np.float32(config.input_divisor)
        history = model.fit(
            samples["train_images"].astype(np.float32) / scale,
            targets(samples["train_labels"]),
            batch_size=config.batch_size,
            epochs=config.epochs,
            validation_data=(
                samples["val_images"].astype(np.float32) / scale,
                targets(samples["val_labels"]),
            ),
            verbose=0,
        )
    # On one-hot targets Keras's "accuracy" is categorical accuracy, the same measure.
    return time.perf_counter() - started, float(history.history["val_accuracy"][-1])


def bare_loop(config: RunConfig, dataset, checkpoints: bool = False) -> tuple[float, float]:
    """Seconds and final validation accuracy of the least a compiled Keras loop does for `config`.

    Same model, initial weights, optimizer, loss, data, batch, epochs and per-epoch shuffle
    source as `train()`; one `tf.function(jit_compile=True)` call per epoch running every step,
    then the full validation set. Written by hand because it is the reference being measured.

    With `checkpoints`, the least that recording train()'s checkpoints adds to it (the probes'
    floor): compiled calls cut at every checkpoint step, and at each checkpoint the forward
    passes train() makes there, in graph mode as train() makes them: the validation subset (the
    full set at epoch ends) and the probe batch. No statistics, gradient norms or copies.
    """
    import tensorflow as tf

    started = time.perf_counter()
    samples = select_samples(config, dataset)
    model = build_model(config, samples["train_images"])
    first = [dense_layers(model)[0].kernel]  # with its own optimizer, as in train()
    first_optimizer = make_first_layer_optimizer(config)
    others = [variable for variable in model.trainable_variables if variable is not first[0]]
    optimizer = make_optimizer(config, config.learning_rate)
    sample_loss = per_sample_loss(config)
    images, labels = tf.constant(samples["train_images"]), tf.constant(samples["train_labels"])
    val_images, val_labels = tf.constant(samples["val_images"]), samples["val_labels"]
    batch, steps = config.batch_size, config.steps_per_epoch
    one_hot = config.loss == "mse"

    def targets(indices):
        picked = tf.gather(labels, indices)
        return tf.one_hot(picked, NUM_CLASSES) if one_hot else picked

    def run(order, start, count):
        def body(step):
            # An epoch's last batch is partial, as in model.fit: padded and masked as in train().
            indices, real = batch_indices(order, start + step, batch)
            x = tf.cast(tf.gather(images, indices), tf.float32)
            with tf.GradientTape() as tape:
                values = sample_loss(targets(indices), model(x, training=True))
                loss = tf.reduce_sum(tf.where(real, values, 0.0)) / tf.reduce_sum(
                    tf.cast(real, tf.float32)
                )
            gradients = tape.gradient(loss, [*first, *others])
            first_optimizer.apply(gradients[:1], first)
            optimizer.apply(gradients[1:], others)
            return (step + 1,)

        return tf.while_loop(lambda step: step < count, body, (tf.constant(0),))

    pixels = tf.TensorSpec([None, IMAGE_PIXELS], tf.uint8)
    predict = tf.function(
        lambda x: model(tf.cast(x, tf.float32)), autograph=False, input_signature=[pixels]
    )
    shuffler = np.random.default_rng(config.seed)
    if checkpoints:
        run_steps = tf.function(run, jit_compile=True, autograph=False)
        subset = tf.constant(samples["val_images"][validation_subset(len(val_labels))])
        probe = tf.constant(samples["train_images"][:PROBE_SAMPLES])
        predict(probe).numpy(), predict(val_images).numpy()  # step 0
        step, epoch, order = 0, -1, None
        for target in checkpoint_steps(config)[1:]:
            while step < target:
                if step // steps != epoch:
                    epoch = step // steps
                    order = tf.constant(shuffler.permutation(config.train_samples).astype(np.int32))
                count = min(target, (epoch + 1) * steps) - step
                run_steps(order, tf.constant(step - epoch * steps), tf.constant(count))
                step += count
            predict(val_images if target % steps == 0 else subset).numpy()
            predict(probe).numpy()
        predicted = np.argmax(predict(val_images).numpy(), axis=-1)
        return time.perf_counter() - started, float(np.mean(predicted == val_labels))
    run_epoch = tf.function(lambda order: run(order, 0, steps), jit_compile=True, autograph=False)
    accuracy = float("nan")
    for _ in range(config.epochs):
        order = shuffler.permutation(config.train_samples).astype(np.int32)
        run_epoch(tf.constant(order))
        predicted = np.argmax(predict(val_images).numpy(), axis=-1)
        accuracy = float(np.mean(predicted == val_labels))
    return time.perf_counter() - started, accuracy


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux reports KiB


def own_peak_rss_gb() -> float:
    """This process's own peak resident set since it started its program: Linux's VmHWM.
    ru_maxrss would do elsewhere, but Linux carries it across exec, so a child started by a
    large parent reports the parent's size (1.59 GB measured for 8 seeds, VmHWM 1.1 GB)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024**2  # kB
    except OSError:
        pass
    return peak_rss_gb()


def preset(key: str, seed: int, quick: bool = False) -> RunConfig:
    """A preset on Fashion-MNIST (this machine's data), quick look or full size."""
    config = PRESETS[key].config.replace(dataset="fashion_mnist", seed=seed)
    return config.replace(**QUICK_LOOK) if quick else config


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - started, value


def floor_table(dataset, keys, seed, quick, failures) -> None:
    """train() ÷ bare loop per preset; both compile once (train()'s trainers are let go). Then
    a second train() of the same structure, which compiles nothing (the trainer pool): its
    ratio is what probes cost every later run of that structure."""
    # The process's first model, trace and XLA compilation pay one-time start-up costs (Keras's
    # and XLA's own initialization): paid here, by a small run of another structure through
    # both, so that neither timed side carries them.
    small = preset("A1", seed, quick=True).replace(
        train_samples=1_000, validation_samples=500, epochs=1, hidden_units=(16,)
    )
    train(small, dataset), bare_loop(small, dataset)
    print(
        f"{'preset':7}{'train s':>9}{'bare s':>8}{'ratio':>8}{'target':>8}"
        f"{'2nd train s':>13}{'2nd ratio':>11}{'probes floor s':>16}{'floor ratio':>13}"
    )
    for key in keys:
        config = preset(key, seed, quick)
        TRAINERS.clear()  # pay one compilation, as the bare loop does
        train_seconds, _ = timed(train, config, dataset)
        second_seconds, _ = timed(train, config, dataset)
        bare_seconds, _ = bare_loop(config, dataset)
        floor_seconds, _ = bare_loop(config, dataset, checkpoints=True)
        ratio, target = train_seconds / bare_seconds, TARGET_FLOOR_RATIOS.get(key, math.nan)
        print(
            f"{key:7}{train_seconds:9.2f}{bare_seconds:8.2f}{ratio:8.3f}{target:8.2f}"
            f"{second_seconds:13.2f}{second_seconds / bare_seconds:11.3f}"
            f"{floor_seconds:16.2f}{floor_seconds / bare_seconds:13.3f}",
            flush=True,
        )
        if ratio > target:
            failures.append(
                f"{key}: train() ÷ bare loop {ratio:.3f} > {target}: the target allows "
                f"{target * bare_seconds - bare_seconds:.2f} s beyond the bare loop for probes; "
                f"train() spends {train_seconds - bare_seconds:.2f} s, of which "
                f"{train_seconds - second_seconds:.2f} s is a first run's (its trainer, traces "
                f"and compilation) and {floor_seconds - bare_seconds:.2f} s the least its "
                f"checkpoints cost (their calls and forward passes)"
            )


def fit_table(dataset, keys, seed, quick, failures) -> None:
    """train() against model.fit as the source code feeds it, and the bare loop."""
    print(
        f"{'preset':7}{'train s':>9}{'fit s':>9}{'ratio':>8}{'target':>8}"
        f"{'train acc':>11}{'fit acc':>9}{'bare s':>8}{'bare ratio':>12}{'bare acc':>10}"
    )
    budgets = []
    # Every train() first, then every fit: the engine's peak RSS is read before fit's float
    # copies of the data (pipeline A alone holds 55,000 float64 images twice) raise it.
    trained = {}
    for key in keys:
        config = preset(key, seed, quick)
        seconds, result = timed(train, config, dataset)
        trained[key] = (config, seconds, result.final.val_accuracy, len(result.history))
    train_rss = peak_rss_gb()
    for key, (config, train_seconds, train_accuracy, checkpoints) in trained.items():
        fit_seconds, fit_accuracy = fit_reference(config, dataset, pipeline=key[0])
        bare_seconds, bare_accuracy = bare_loop(config, dataset)
        ratio, bare_ratio = train_seconds / fit_seconds, bare_seconds / fit_seconds
        target = TARGET_RATIOS.get(key, math.nan)
        print(
            f"{key:7}{train_seconds:9.2f}{fit_seconds:9.2f}{ratio:8.3f}{target:8.2f}"
            f"{train_accuracy:11.4f}{fit_accuracy:9.4f}"
            f"{bare_seconds:8.2f}{bare_ratio:12.3f}{bare_accuracy:10.4f}",
            flush=True,
        )
        if ratio > target:
            failures.append(f"{key}: ratio {ratio:.3f} > {target}")
            allowed = target * fit_seconds
            budgets.append(
                f"{key}: the target allows {allowed:.2f} s; the bare loop alone takes "
                f"{bare_seconds:.2f} s, leaving {allowed - bare_seconds:.2f} s for {checkpoints} "
                f"checkpoints of probes (train() spends {train_seconds - bare_seconds:.2f} s)"
            )
    print(
        f"peak RSS of train(): {train_rss:.2f} GB (target ≤ {TARGET_PEAK_RSS_GB} GB); "
        f"with the fit references too: {peak_rss_gb():.2f} GB"
    )
    if train_rss > TARGET_PEAK_RSS_GB:
        failures.append(f"peak RSS of train() {train_rss:.2f} GB > {TARGET_PEAK_RSS_GB} GB")
    for budget in budgets:
        print(f"  {budget}")


def setup_table(dataset, seed, quick, failures) -> None:
    """Set-up seconds (model and weights, optimizer state, data; `RunResult.setup_seconds`) of
    a first and a second run of the same shapes, for train() and a group of GROUP_SEEDS seeds
    (per run: ÷ GROUP_SEEDS), beside each run's total. XLA compiles in the first compiled
    call, so the first run's compilation shows in its total, not its set-up."""
    config = preset("A1", seed, quick)
    group = seed_configs(config, GROUP_SEEDS)
    TRAINERS.clear()
    alone = [timed(train, config, dataset) for _ in range(2)]
    grouped = [timed(train_group, group, dataset) for _ in range(2)]
    rows = (
        ("train() A1", [(seconds, result.setup_seconds) for seconds, result in alone]),
        (
            f"{GROUP_SEEDS} seeds of A1 as one group, per run",
            [(seconds, results[0].setup_seconds / GROUP_SEEDS) for seconds, results in grouped],
        ),
    )
    print(f"{'':40}{'set-up s':>10}{'2nd':>7}{'target':>8}{'total s':>9}{'2nd':>7}")
    for label, ((first_total, first), (second_total, second)) in rows:
        print(
            f"{label:40}{first:10.3f}{second:7.3f}{TARGET_SETUP_SECONDS:8.2f}"
            f"{first_total:9.2f}{second_total:7.2f}",
            flush=True,
        )
        if second > TARGET_SETUP_SECONDS:
            failures.append(f"{label}: second set-up {second:.3f} s > {TARGET_SETUP_SECONDS} s")


def group_table(dataset, seed, quick, failures) -> None:
    """Groups ÷ one run, each beside its floor: its runs' bare loops ÷ the one run."""
    a1, quick_a1 = preset("A1", seed, quick), preset("A1", seed, quick=True)
    knob = SWEEP_KNOBS["learning_rate"]  # the sweep lab's default range
    rates = sweep_values(knob.start, knob.stop, SWEEP_VALUES)
    rows = (
        (f"{GROUP_SEEDS} seeds of A1 ÷ one A1 run", "seeds", a1, seed_configs(a1, GROUP_SEEDS)),
        (
            f"{SWEEP_VALUES}-value lr sweep of quick A1 ÷ one quick A1",
            "sweep",
            quick_a1,
            sweep_configs(quick_a1, "learning_rate", rates),
        ),
        (
            "A1/A2/A3 ÷ one A1 run",
            "set A",
            a1,
            [preset(k, seed, quick) for k in ("A1", "A2", "A3")],
        ),
    )
    print(f"{'group':46}{'group s':>9}{'one s':>7}{'ratio':>7}{'target':>8}{'floor':>7}")
    bare_seconds: dict[RunConfig, float] = {}
    for label, name, one, configs in rows:
        train(one, dataset), train_group(configs, dataset)  # compile both shapes first
        one_seconds, _ = timed(train, one, dataset)
        group_seconds, _ = timed(train_group, configs, dataset)
        for config in configs:
            if config not in bare_seconds:
                bare_seconds[config] = bare_loop(config, dataset)[0]
        ratio, target = group_seconds / one_seconds, TARGET_GROUP_RATIOS[name]
        floor = sum(bare_seconds[config] for config in configs) / one_seconds
        print(
            f"{label:46}{group_seconds:9.2f}{one_seconds:7.2f}{ratio:7.2f}{target:8.1f}"
            f"{floor:7.2f}",
            flush=True,
        )
        if ratio > target:
            failures.append(
                f"{label}: {ratio:.2f} > {target} (bare loops one after another: {floor:.2f})"
            )


def memory_table(seed, quick, failures) -> None:
    """Peak RSS of a fresh process training MEMORY_SEEDS seeds of A1 as one group."""
    command = [sys.executable, "-m", "explorer.bench", "--memory-child", "--seed", str(seed)]
    # The child reports its own peak: RUSAGE_CHILDREN would be the largest of every child
    # this process has waited for, whatever else it ran.
    child = subprocess.run(
        [*command, *(["--quick"] if quick else [])], check=True, capture_output=True, text=True
    )
    peak = float(child.stdout.split(MEMORY_REPORT)[-1].split()[0])
    print(f"peak RSS, {MEMORY_SEEDS} seeds of A1 as one group: {peak:.2f} GB "
          f"(target ≤ {TARGET_PEAK_RSS_GB} GB)")  # fmt: skip
    if peak > TARGET_PEAK_RSS_GB:
        failures.append(f"peak RSS of {MEMORY_SEEDS} seeds {peak:.2f} GB > {TARGET_PEAK_RSS_GB} GB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--presets", nargs="+", default=list(TARGET_RATIOS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="quick-look sizes: a smoke run")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    dataset = load_dataset("fashion_mnist")
    if args.memory_child:  # the memory part's fresh process
        train_group(seed_configs(preset("A1", args.seed, args.quick), MEMORY_SEEDS), dataset)
        print(f"{MEMORY_REPORT}{own_peak_rss_gb():.4f}")
        return 0
    print(
        f"data: {dataset.source}" + (" (quick look: not the targets' sizes)" if args.quick else "")
    )
    failures: list[str] = []
    for part in PARTS:
        if part not in args.parts:
            continue
        print(f"\n# {part}")
        if part == "floor":
            floor_table(dataset, args.presets, args.seed, args.quick, failures)
        elif part == "fit":
            fit_table(dataset, args.presets, args.seed, args.quick, failures)
        elif part == "setup":
            setup_table(dataset, args.seed, args.quick, failures)
        elif part == "groups":
            group_table(dataset, args.seed, args.quick, failures)
        else:
            memory_table(args.seed, args.quick, failures)
    for failure in failures:
        print(f"MISSED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
