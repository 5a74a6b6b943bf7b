"""The cost estimate and the server's budget: pure arithmetic, no training."""

import itertools

import pytest

from explorer import budget
from explorer.config import RunConfig
from explorer.presets import PRESETS

# The link: widths 1024×4, batch 15, 60k images, 50 epochs, 100 checkpoints per epoch.
HOURS_LONG = RunConfig(
    train_samples=60_000,
    validation_samples=10_000,
    validation_source="test",
    hidden_units=(1024, 1024, 1024, 1024),
    batch_size=15,
    epochs=50,
    checkpoints_per_epoch=100,
)


def test_weights_count_every_kernel():
    assert budget.weights(RunConfig(hidden_units=(300, 100))) == 784 * 300 + 300 * 100 + 100 * 10


def test_estimate_follows_the_formula():
    config = RunConfig(train_samples=10_000, validation_samples=2_000)
    estimate = budget.estimate(config)
    weights = budget.weights(config)
    step = budget.STEP_OVERHEAD + 6 * 32 * weights / budget.RATE_FLOPS
    assert estimate.training_seconds == pytest.approx(config.total_steps * step)
    assert estimate.seconds > budget.COMPILE_SECONDS + estimate.training_seconds


def test_every_preset_fits_the_default_budget(monkeypatch):
    monkeypatch.delenv("EXPLORER_BUDGET_SECONDS", raising=False)
    for key, preset in PRESETS.items():
        assert budget.over_budget([preset.config]) is None, key
    # The A set trained together at full size fits too.
    assert budget.over_budget([PRESETS[key].config for key in ("A1", "A2", "A3")]) is None


def test_the_hours_long_link_is_refused_with_its_estimate_and_what_to_reduce(monkeypatch):
    monkeypatch.delenv("EXPLORER_BUDGET_SECONDS", raising=False)
    assert budget.estimate(HOURS_LONG).seconds > 3600
    message = budget.over_budget([HOURS_LONG])
    assert message is not None
    for words in ("h of one CPU core", "200,000 steps", "10 min", "fewer epochs"):
        assert words in message


def test_a_sweep_counts_all_its_runs(monkeypatch):
    one = RunConfig(train_samples=10_000, validation_samples=2_000, epochs=10)
    seconds = budget.estimate(one).seconds
    monkeypatch.setenv("EXPLORER_BUDGET_SECONDS", str(seconds * 3.5))
    assert budget.over_budget([one] * 3) is None
    message = budget.over_budget([one] * 4, "this sweep")
    assert message.startswith("This sweep would take") and "4 runs" in message
    assert "fewer values" in message


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXPLORER_BUDGET_SECONDS", "10")
    assert budget.budget_seconds() == 10
    assert budget.over_budget([PRESETS["B2"].config]) is not None
    for bad in ("0", "-5", "ten", "nan"):
        monkeypatch.setenv("EXPLORER_BUDGET_SECONDS", bad)
        with pytest.raises(ValueError, match=f"EXPLORER_BUDGET_SECONDS.*{bad!r}"):
            budget.budget_seconds()


def test_long_intervals_are_cut_into_bounded_calls():
    assert (
        budget.max_steps_per_call(HOURS_LONG) * budget.step_flops(HOURS_LONG) / (budget.RATE_FLOPS)
        <= budget.CALL_SECONDS
    )
    # A1's intervals (at most 172 steps at full size) are never cut: its numbers stay as they were.
    a1 = PRESETS["A1"].config
    longest = max(b - a for a, b in itertools.pairwise(budget.checkpoint_steps(a1)))
    assert longest == 172 and budget.max_steps_per_call(a1) > longest


def test_the_schedule_counts_the_partial_batch_of_each_epoch():
    b2 = PRESETS["B2"].config  # 60,000 / 128 = 468.75: 469 batches an epoch, as model.fit
    steps = budget.checkpoint_steps(b2)
    assert steps[-1] == b2.total_steps == 9_380
    assert {469 * epoch for epoch in range(1, 21)} <= set(steps)
    assert budget.estimate(b2).steps == 9_380
