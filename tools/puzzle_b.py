"""Puzzle B's set over seeds: final validation accuracy of B2–B5, quick look and full size.

    python tools/puzzle_b.py [--seeds 3]

On Fashion-MNIST (the presets name MNIST, which this build machine cannot have). Prints the
mean and the range over seeds of each preset's final validation accuracy, for README's table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from explorer.data import load_dataset
from explorer.presets import COMPARISON_SETS, PRESETS
from explorer.train import train

SIZES = {"quick look": {"train_samples": 10_000, "validation_samples": 2_000}, "full size": {}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    data = load_dataset("fashion_mnist")
    print(f"| preset | {' | '.join(SIZES)} |")
    print(f"|---|{'---|' * len(SIZES)}")
    started = time.perf_counter()
    for key in COMPARISON_SETS["B"]:
        cells = []
        for sizes in SIZES.values():
            config = PRESETS[key].config.replace(dataset="fashion_mnist", **sizes)
            accuracies = [
                train(config.replace(seed=seed), data).final.val_accuracy
                for seed in range(args.seeds)
            ]
            mean = sum(accuracies) / len(accuracies)
            cells.append(f"{mean:.1%} ({min(accuracies):.1%}–{max(accuracies):.1%})")
        print(f"| {PRESETS[key].title} | {' | '.join(cells)} |", flush=True)
    print(f"\n{args.seeds} seeds (0–{args.seeds - 1}), {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
