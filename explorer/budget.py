"""What a run costs before it starts, and the server's budget that refuses runs too large.

    weights       = Σ fan_in · fan_out over the Dense layers (784 → hidden… → 10)
    step FLOPs    = 6 · batch · weights            (2 forward, 4 backward: a matrix product each)
    probe FLOPs   = 2 · weights · (VALIDATION_SUBSET + PROBE_SAMPLES)   per checkpoint,
                    + 2 · weights · validation_samples                  per epoch end
    seconds       = COMPILE + steps · (STEP_OVERHEAD + step FLOPs / RATE)
                    + checkpoints · (CHECKPOINT_OVERHEAD + probe FLOPs / RATE)

The rates are this project's 2-core build machine pinned to one core (`taskset -c 1`), so the
estimate reads "seconds of one core"; `python tools/calibrate_budget.py` measures them again.
The budget is EXPLORER_BUDGET_SECONDS (default 600: ten minutes of one core) for everything one
action trains: a sweep or the twin lab counts all its runs.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Iterable

from explorer.config import IMAGE_PIXELS, NUM_CLASSES, RunConfig
from explorer.i18n import N_, _

# The schedule of a run, which explorer.train follows and the estimate counts:
EARLY_STEPS = (1, 2, 5, 10, 20, 50, 100)  # probed so that the first hundred steps show
VALIDATION_SUBSET = 1_000  # images evaluated at checkpoints between epoch ends
PROBE_SAMPLES = 512  # the first training images: the same probe for every run
# Measured on one core of the build machine (tools/calibrate_budget.py).
RATE_FLOPS = 20e9  # matrix products, floating-point operations per second
STEP_OVERHEAD = 250e-6  # seconds per step beyond its products (gather, optimizer, loop)
CHECKPOINT_OVERHEAD = 12e-3  # seconds per checkpoint beyond its products (histograms, tables)
COMPILE_SECONDS = 1.5  # XLA compilation and model building
DEFAULT_BUDGET_SECONDS = 600.0
CALL_SECONDS = 0.5  # the longest compiled call between two checks for a stop request


def weights(config: RunConfig) -> int:
    """Kernel weights of the Dense layers (biases are negligible in the products)."""
    widths = [IMAGE_PIXELS, *config.hidden_units, NUM_CLASSES]
    return sum(fan_in * fan_out for fan_in, fan_out in itertools.pairwise(widths))


def step_flops(config: RunConfig) -> float:
    return 6.0 * config.batch_size * weights(config)


def max_steps_per_call(config: RunConfig) -> int:
    """Steps one compiled call may take so that a stop request waits at most ~CALL_SECONDS."""
    seconds_per_step = STEP_OVERHEAD + step_flops(config) / RATE_FLOPS
    return max(1, int(CALL_SECONDS / seconds_per_step))


def checkpoint_steps(config: RunConfig) -> list[int]:
    """Sorted steps at which probes are recorded, always including 0 and every epoch end."""
    steps_per_epoch, total = config.steps_per_epoch, config.total_steps
    steps = {0, *(step for step in EARLY_STEPS if step <= total)}
    for index in range(1, config.checkpoints_per_epoch * config.epochs + 1):
        epoch, part = divmod(index, config.checkpoints_per_epoch)
        fraction = epoch + part / config.checkpoints_per_epoch
        steps.add(round(fraction * steps_per_epoch))
    return sorted(step for step in steps if step <= total)


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A run's cost in seconds of one core, split as the formula above."""

    steps: int
    weights: int
    training_seconds: float
    probe_seconds: float

    @property
    def seconds(self) -> float:
        return COMPILE_SECONDS + self.training_seconds + self.probe_seconds


def estimate(config: RunConfig) -> Estimate:
    weight_count = weights(config)
    steps = config.total_steps
    training = steps * (STEP_OVERHEAD + step_flops(config) / RATE_FLOPS)
    probe_flops = 2.0 * weight_count * (VALIDATION_SUBSET + PROBE_SAMPLES)
    probes = len(checkpoint_steps(config)) * (CHECKPOINT_OVERHEAD + probe_flops / RATE_FLOPS)
    probes += config.epochs * 2.0 * weight_count * config.validation_samples / RATE_FLOPS
    return Estimate(steps, weight_count, training, probes)


def budget_seconds() -> float:
    """EXPLORER_BUDGET_SECONDS, else ten minutes of one core."""
    configured = os.environ.get("EXPLORER_BUDGET_SECONDS", "").strip()
    if not configured:
        return DEFAULT_BUDGET_SECONDS
    try:
        seconds = float(configured)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(
            f"EXPLORER_BUDGET_SECONDS must be a positive number of seconds; got {configured!r}"
        )
    return seconds


THIS_RUN = N_("this run")


def over_budget(configs: Iterable[RunConfig], what: str = THIS_RUN) -> str | None:
    """None when `configs` together fit the budget; else a message with the estimate and what
    to reduce. Set-ups already trained cost nothing and should be left out by the caller.

    `what` names the work in English ("this sweep"), marked for the catalog where it is written:
    the message translates it."""
    configs = list(configs)
    if not configs:
        return None
    estimates = [estimate(config) for config in configs]
    total = sum(item.seconds for item in estimates)
    limit = budget_seconds()
    if total <= limit:
        return None
    largest = max(estimates, key=lambda item: item.seconds)
    shown = _(what)
    if len(configs) > 1:
        message = _(
            "{what} would take about {duration} of one CPU core ({count} runs, {steps} steps × "
            "{weights} weights for the largest); this server allows {limit} per action. Use "
            "fewer epochs or training images, a larger batch, narrower layers or quick look, or "
            "fewer values."
        )
    else:
        message = _(
            "{what} would take about {duration} of one CPU core ({steps} steps × {weights} "
            "weights for the largest); this server allows {limit} per action. Use fewer epochs "
            "or training images, a larger batch, narrower layers or quick look."
        )
    return message.format(
        what=shown[:1].upper() + shown[1:],
        duration=_duration(total),
        count=len(configs),
        steps=f"{largest.steps:,}",
        weights=f"{largest.weights:,}",
        limit=_duration(limit),
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return _("{seconds} s").format(seconds=f"{seconds:.0f}")
    if seconds < 5400:
        return _("{minutes} min").format(minutes=f"{seconds / 60:.0f}")
    return _("{hours} h").format(hours=f"{seconds / 3600:.1f}")
