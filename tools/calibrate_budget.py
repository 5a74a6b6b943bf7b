"""Measure what runs cost here and print them beside `explorer.budget`'s estimates.

    taskset -c 1 python tools/calibrate_budget.py     # one core, as the budget is counted

Each case trains once on Fashion-MNIST; the ratio measured / estimated should stay near or
below 1 (the estimate errs on the side of refusing). Refit the constants in
explorer/budget.py when it does not.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from explorer import budget
from explorer.config import RunConfig
from explorer.data import load_dataset
from explorer.train import train

CASES = {
    "quick A1": RunConfig(train_samples=10_000, validation_samples=2_000),
    "quick B2-like": RunConfig(
        train_samples=10_000,
        validation_samples=2_000,
        hidden_units=(64,),
        activation="sigmoid",
        loss="mse",
        learning_rate=0.01,
        batch_size=128,
        epochs=5,
    ),
    "wide, batch 8": RunConfig(
        train_samples=2_000,
        validation_samples=500,
        hidden_units=(1024, 1024),
        batch_size=8,
        epochs=1,
    ),
    "tiny, batch 1": RunConfig(
        train_samples=3_000,
        validation_samples=500,
        hidden_units=(8, 8, 8, 8),
        batch_size=1,
        epochs=1,
        checkpoints_per_epoch=100,
    ),
    "large, batch 256": RunConfig(
        train_samples=20_000,
        validation_samples=2_000,
        hidden_units=(1024, 1024, 1024),
        batch_size=256,
        epochs=1,
    ),
}


def main() -> None:
    data = load_dataset("fashion_mnist")
    print(f"{'case':18} {'steps':>6} {'estimate s':>10} {'measured s':>10} {'ratio':>6}")
    for name, config in CASES.items():
        started = time.perf_counter()
        train(config, data)
        measured = time.perf_counter() - started
        estimate = budget.estimate(config).seconds
        print(
            f"{name:18} {config.total_steps:6,} {estimate:10.2f} {measured:10.2f} "
            f"{measured / estimate:6.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
