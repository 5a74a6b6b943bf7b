"""Does a long-lived process give back the memory of finished trainings?

    python tools/memory.py --runs 50             each run in a fresh thread, as the app trains
    python tools/memory.py --runs 50 --no-threads

Loads the real Fashion-MNIST, trains N distinct small runs (each its own seed, width and
activation, so nothing is reused from an earlier run) one after another in one process, and
prints the resident set size (VmRSS from /proc/self/status) after each. The figures that count:
RSS after 5 runs (libraries loaded, first compilations done), RSS after the last run, and the
growth between them, against TARGET_GROWTH_MB.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from explorer.config import ACTIVATIONS, RunConfig
from explorer.data import load_dataset
from explorer.train import train

TARGET_GROWTH_MB = 150.0  # RSS after 50 runs minus RSS after 5, in one process
WARM_UP_RUNS = 5


def rss_mb() -> float:
    """This process's resident set size in MB (VmRSS, Linux only)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmRSS in /proc/self/status (not Linux?)")


def run_config(index: int, structures: int) -> RunConfig:
    """The index-th run: a small quick training, distinct from every other index (its own seed
    and learning rate), of one of `structures` networks (widths and activation)."""
    shape = index % structures
    return RunConfig(
        train_samples=2_000,
        validation_samples=500,
        epochs=1,
        seed=index,
        learning_rate=round(0.02 + 0.004 * index, 4),
        hidden_units=(32 + 16 * (shape % 7), 16 + 8 * (shape // 7)),
        activation=ACTIVATIONS[shape % len(ACTIVATIONS)],
    )


def train_once(config: RunConfig, dataset, threaded: bool) -> None:
    if not threaded:
        train(config, dataset)
        return
    errors: list[BaseException] = []

    def work() -> None:
        try:
            train(config, dataset)
        except BaseException as error:  # re-raised in the main thread
            errors.append(error)

    worker = threading.Thread(target=work, daemon=True)  # a new thread per run, as app.py does
    worker.start()
    worker.join()
    if errors:
        raise errors[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="distinct trainings (default 50)")
    parser.add_argument(
        "--threads",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train each run in a fresh thread, as the app does (default on)",
    )
    parser.add_argument(
        "--structures",
        type=int,
        default=3,
        help="distinct networks (widths, activation) the runs cycle through; each costs a "
        "compiled XLA program that TensorFlow never frees (default 3; --structures 50 makes "
        "every run a new network)",
    )
    args = parser.parse_args(argv)
    if args.runs <= WARM_UP_RUNS:
        parser.error(f"--runs must be more than {WARM_UP_RUNS}")

    dataset = load_dataset("fashion_mnist")
    print(f"RSS after loading the data: {rss_mb():.0f} MB", flush=True)
    after: dict[int, float] = {}
    started = time.perf_counter()
    for index in range(args.runs):
        config = run_config(index, args.structures)
        run_started = time.perf_counter()
        train_once(config, dataset, args.threads)
        after[index + 1] = rss_mb()
        print(
            f"run {index + 1:3d}  {config.activation:8s} {config.hidden_units!s:10s} "
            f"{time.perf_counter() - run_started:5.1f} s  RSS {after[index + 1]:7.0f} MB",
            flush=True,
        )
    growth = after[args.runs] - after[WARM_UP_RUNS]
    per_run = growth / (args.runs - WARM_UP_RUNS)
    print(
        f"threads: {'on' if args.threads else 'off'}, {args.structures} structures, "
        f"{time.perf_counter() - started:.0f} s"
    )
    print(f"RSS after {WARM_UP_RUNS} runs: {after[WARM_UP_RUNS]:.0f} MB")
    print(f"RSS after {args.runs} runs: {after[args.runs]:.0f} MB")
    print(f"growth: {growth:.0f} MB ({per_run:.1f} MB a run)")
    # The target is stated for 50 runs; other counts are judged at the same rate per run.
    target = TARGET_GROWTH_MB * (args.runs - WARM_UP_RUNS) / (50 - WARM_UP_RUNS)
    passed = growth <= target
    print(f"{'PASS' if passed else 'FAIL'}: growth {growth:.0f} MB vs target {target:.0f} MB")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
