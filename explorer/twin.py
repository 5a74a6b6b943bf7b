"""The twin lab: puzzle A answered with three runs that share their pre-activations at init.

    run 1  inputs ÷c, first kernel W:        z = (x/c)·W
    run 2  inputs ÷1, first kernel W/c:      z = x·(W/c)            the same z, the same loss
    run 3  run 2 with the exact correction:  first-layer lr ÷c² (SGD, momentum) or ÷c (Adam,
                                             RMSprop; their epsilon ×c the engine applies by
                                             itself, through the weight scale)

Why they part: ∂L/∂W = xᵀ·∂L/∂z, so ∂L/∂W₂ = c·∂L/∂W₁, while ‖W₂‖ = ‖W₁‖/c. An SGD step
ΔW₂ = −η·c·∂L/∂W₁ is c times larger and lands on a kernel c times smaller: c² times the relative
change. Adam and RMSprop divide the gradient by its running size, so their step is the same
size in both runs and only the smaller kernel counts: c times the relative change.

With several seeds, the twins of one seed are twins (the same seed, differing only by the
scaling): each ratio is taken within a seed (run k of seed s over run 1 of seed s), and a band
of twins reads those ratios over the seeds.

The runs' labels, the advice and the derivation are in the reader's language (made when the page
asks for them); the derivation's numbers are written as in English.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from explorer.config import FIRST_LAYER, RunConfig
from explorer.i18n import N_, _
from explorer.setups import TwinSetup
from explorer.train import RunResult

ADAPTIVE = ("adam", "rmsprop")  # steps normalized by the gradient's running size
OPTIMIZER_NAMES = {  # as config.OPTION_NAMES names them: `_()` at use
    "sgd": N_("SGD"),
    "momentum": N_("SGD with momentum"),
    "adam": N_("Adam"),
    "rmsprop": N_("RMSprop"),
}


def check_factor(factor: object) -> float:
    """`factor` as a float, or ValueError saying what was received and what is allowed."""
    return float(TwinSetup(factor=factor).factor)


def check_optimizer(optimizer: object) -> str:
    return TwinSetup(optimizer=optimizer).optimizer


ADAPTIVE_LEARNING_RATE = 0.01  # above this, Adam and RMSprop usually overshoot


def learning_rate_advice(optimizer: str, learning_rate: float) -> str | None:
    """A caution when an adaptive optimizer gets an SGD-sized learning rate, else None."""
    if optimizer in ADAPTIVE and learning_rate > ADAPTIVE_LEARNING_RATE:
        return _(
            "{optimizer} usually wants a learning rate near 0.001; the sidebar's is {rate}."
        ).format(optimizer=optimizer, rate=f"{learning_rate:g}")
    return None


def factor_is_exact(factor: float) -> bool:
    """Whether ÷c is exact in float32: c a power of two (then runs 1 and 3 agree to the bit)."""
    return float(math.log2(factor)).is_integer()


def relative_step_growth(optimizer: str, factor: float) -> float:
    """How many times larger run 2's first relative step is than run 1's: c² or c.

    SGD and momentum:  ‖ΔW₂‖/‖W₂‖ = (η·c·‖g‖)/(‖W‖/c) = c² · ‖ΔW₁‖/‖W₁‖
    Adam and RMSprop:  ‖ΔW₂‖ ≈ ‖ΔW₁‖ (step ∝ g/‖g‖), so only ‖W₂‖ = ‖W₁‖/c counts: c
    """
    factor, optimizer = check_factor(factor), check_optimizer(optimizer)
    return factor if optimizer in ADAPTIVE else factor**2


def run_labels(factor: float) -> tuple[str, str, str]:
    """The three runs' labels, with c filled in, in the reader's language."""
    c = f"{check_factor(factor):g}"
    return (
        _("1 · inputs ÷{c}").format(c=c),
        _("2 · weights ÷{c}").format(c=c),
        _("3 · weights ÷{c}, corrected").format(c=c),
    )


def twin_configs(base: RunConfig, factor: float, optimizer: str) -> dict[str, RunConfig]:
    """The three runs of the lab, by label, built on `base` (data, model, initializer, learning
    rate, batch, epochs, seed).

    The lab sets what it compares: inputs divided by a number (not standardized), the weight
    scale on the first layer only, and the first-layer learning-rate multiplier.

        run 1: input_divisor = c, weight_scale = 1, multiplier = 1
        run 2: input_divisor = 1, weight_scale = c, multiplier = 1
        run 3: run 2 with multiplier = 1 / relative_step_growth(optimizer, c)

    Raises:
        ValueError: for a factor outside [MIN_FACTOR, MAX_FACTOR] or an unknown optimizer.
    """
    factor = check_factor(factor)
    shared = base.replace(
        optimizer=check_optimizer(optimizer),
        input_scaling="divide",
        weight_scale_scope="first",
        first_layer_lr_multiplier=1.0,
    )
    first, second, third = run_labels(factor)
    scaled_inputs = shared.replace(input_divisor=factor, weight_scale=1.0)
    scaled_weights = shared.replace(input_divisor=1.0, weight_scale=factor)
    corrected = scaled_weights.replace(
        first_layer_lr_multiplier=1.0 / relative_step_growth(optimizer, factor)
    )
    return {first: scaled_inputs, second: scaled_weights, third: corrected}


def first_step_ratios(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """The first kernel on the first step, one row per run, with the first run as reference.

    Columns: run, gradient_norm ‖∇W‖, update_ratio ‖ΔW‖/‖W‖, ratio_to_first (update_ratio
    over the first run's). NaN where a run stopped before step 1.
    """
    rows = []
    for label, result in results.items():
        layers = result.layers
        row = layers[(layers["step"] == 1) & (layers["layer"] == FIRST_LAYER)]
        gradient = float(row["gradient_norm"].iloc[0]) if len(row) else math.nan
        update = float(row["update_ratio"].iloc[0]) if len(row) else math.nan
        rows.append({"run": label, "gradient_norm": gradient, "update_ratio": update})
    table = pd.DataFrame(rows, columns=["run", "gradient_norm", "update_ratio"])
    reference = table["update_ratio"].iloc[0] if len(table) else math.nan
    table["ratio_to_first"] = table["update_ratio"] / reference
    return table


FIRST_STEP_MEASURES = ("gradient_norm", "update_ratio", "ratio_to_first")


def twins_by_seed(bands: Mapping[str, Sequence[RunResult]]) -> list[dict[str, RunResult]]:
    """The twins of each seed, first seed first: [{label: band[label][k]} for seed k].

    `bands` gives each twin's seeds in the same order (a band's first seed first); a seed some
    twin lacks is left out, so every entry holds all the twins.
    """
    count = min((len(members) for members in bands.values()), default=0)
    return [{label: members[k] for label, members in bands.items()} for k in range(count)]


def first_step_seeds(seeds: Sequence[Mapping[str, RunResult]]) -> pd.DataFrame:
    """`first_step_ratios` of each seed's twins, stacked, with the seed after the run:
    run, seed, gradient_norm, update_ratio, ratio_to_first (against run 1 of the same seed)."""
    frames = []
    for twins in seeds:
        table = first_step_ratios(twins)
        table.insert(1, "seed", next(iter(twins.values())).config.seed)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["run", "seed", *FIRST_STEP_MEASURES])
    return pd.concat(frames, ignore_index=True)


def first_step_band(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Each run's first step over its seeds, from `first_step_seeds`: run, then for each of
    gradient_norm, update_ratio and ratio_to_first its mean and `_low`, `_high` (min, max over
    the seeds where it is a number), and seeds.

    ratio_to_first is averaged as measured, within each seed: run 3's stays near 1 on every
    seed even where ‖ΔW‖/‖W‖ itself varies from seed to seed.
    """
    grouped = per_seed.groupby("run", sort=False)
    columns = {}
    for measure in FIRST_STEP_MEASURES:
        columns[measure] = (measure, "mean")
        columns[f"{measure}_low"] = (measure, "min")
        columns[f"{measure}_high"] = (measure, "max")
    columns["seeds"] = ("seed", "size")
    return grouped.agg(**columns).reset_index()


def loss_gaps(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """run, step, gap: |loss_k − loss_1| per training step for runs 2, 3… against the first.

    Steps where either run has no finite loss are left out.
    """
    runs = list(results.items())
    if not runs:
        return pd.DataFrame(columns=["run", "step", "gap"])
    reference = pd.Series(runs[0][1].step_loss, dtype=float)
    frames = []
    for label, result in runs[1:]:
        loss = pd.Series(result.step_loss, dtype=float)
        steps = min(len(loss), len(reference))
        gap = (loss[:steps] - reference[:steps]).abs()
        frame = pd.DataFrame({"run": label, "step": range(1, steps + 1), "gap": gap.to_numpy()})
        frames.append(frame[frame["gap"].map(math.isfinite)])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def loss_gap_seeds(seeds: Sequence[Mapping[str, RunResult]]) -> pd.DataFrame:
    """`loss_gaps` of each seed's twins, each against run 1 of its own seed, stacked:
    run, seed, step, gap."""
    frames = []
    for twins in seeds:
        gaps = loss_gaps(twins)
        frames.append(gaps.assign(seed=next(iter(twins.values())).config.seed))
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame(columns=["run", "seed", "step", "gap"])
    return pd.concat(frames, ignore_index=True)[["run", "seed", "step", "gap"]]


def seed_range_words(band: pd.DataFrame) -> str:
    """What the measured ratios do over the seeds, from `first_step_band` of the three twins."""
    second, third = band.iloc[1], band.iloc[2]
    return _(
        "Over the {count} seeds (each twin against run 1 of its own seed): run 2 / run 1 is "
        "{second}, run 3 / run 1 is {third}."
    ).format(
        count=int(band["seeds"].max()),
        second=_span(second["ratio_to_first_low"], second["ratio_to_first_high"]),
        third=_span(third["ratio_to_first_low"], third["ratio_to_first_high"]),
    )


def _span(low: float, high: float) -> str:
    """ "from 65,024.9 to 65,025.1", or "65,025 on every seed" where six digits cannot tell
    the seeds apart (a ratio's spread over seeds is that small)."""
    low_text, high_text = _digits(low), _digits(high)
    if low_text == high_text:
        return _("{value} on every seed").format(value=low_text)
    return _("from {low} to {high}").format(low=low_text, high=high_text)


def _digits(value: float) -> str:
    """Six significant digits, thousands separated: 65,024.9, 1.00002."""
    return f"{value:,.6g}" if math.isfinite(value) else _("n/a")


def derivation_numbers(
    factor: float, optimizer: str, results: Mapping[str, RunResult]
) -> dict[str, float]:
    """The numbers the page's derivation quotes, measured on this lab's three runs (in order).

    factor: c. expected_growth: c² or c (`relative_step_growth`). measured_growth and
    corrected_growth: the first-step update ratio of run 2 and of run 3 over run 1's.
    gradient_growth: ‖∇W₂‖/‖∇W₁‖ on the first step (expected c). max_corrected_gap: the
    largest |loss₃ − loss₁| over the `steps_compared` steps both ran. second_diverged_step: the
    step where run 2 diverged, NaN if it did not.
    """
    if len(results) != 3:
        raise ValueError(f"derivation_numbers needs the lab's three runs; got {len(results)}")
    ratios = first_step_ratios(results)
    gaps = loss_gaps(results)
    _first, second, third = results
    third_gaps = gaps.loc[gaps["run"] == third, "gap"] if len(gaps) else pd.Series(dtype=float)
    gradients = ratios["gradient_norm"]
    return {
        "factor": check_factor(factor),
        "expected_growth": relative_step_growth(optimizer, factor),
        "measured_growth": float(ratios["ratio_to_first"].iloc[1]),
        "corrected_growth": float(ratios["ratio_to_first"].iloc[2]),
        "gradient_growth": float(gradients.iloc[1] / gradients.iloc[0]),
        "max_corrected_gap": float(third_gaps.max()) if len(third_gaps) else math.nan,
        "steps_compared": float(len(third_gaps)),
        "second_diverged_step": float(results[second].diverged_step)
        if results[second].diverged
        else math.nan,
    }


def derivation_markdown(optimizer: str, numbers: Mapping[str, float]) -> str:
    """The derivation as Markdown with this lab's numbers filled in."""
    c = f"{numbers['factor']:g}"
    adaptive = optimizer in ADAPTIVE
    power = "c" if adaptive else "c²"
    lines = [
        _(
            "**Same forward pass.** z = (x/c)·W = x·(W/c) with c = {c}: runs 1 and 2 start with "
            "the same pre-activations, outputs and loss."
        ).format(c=c),
        _(
            "**Different gradient.** ∂L/∂W = xᵀ·∂L/∂z, and run 2's x is c times run 1's, so "
            "∂L/∂W₂ = c·∂L/∂W₁: measured ‖∇W₂‖/‖∇W₁‖ = {growth} (c = {c})."
        ).format(growth=_number(numbers["gradient_growth"]), c=c),
    ]
    if adaptive:
        lines.append(
            _(
                "**Same-size step on a smaller kernel.** {optimizer} divides the gradient by its "
                "running size, so ‖ΔW₂‖ ≈ ‖ΔW₁‖; but ‖W₂‖ = ‖W₁‖/c, so the relative change "
                "‖ΔW‖/‖W‖ is c times larger."
            ).format(optimizer=_(OPTIMIZER_NAMES[optimizer]))
        )
    else:
        lines.append(
            _(
                "**c times the step on a kernel c times smaller.** ΔW₂ = −η·c·∂L/∂W₁ against "
                "‖W₂‖ = ‖W₁‖/c: the relative change ‖ΔW‖/‖W‖ is c² times larger."
            )
        )
    lines.append(
        _(
            "**Measured on the first step:** run 2 / run 1 = {measured}, {power} = {expected}."
        ).format(
            measured=_number(numbers["measured_growth"]),
            power=power,
            expected=_number(numbers["expected_growth"]),
        )
    )
    if adaptive:
        inside = _(" (×c² inside RMSprop's square root)") if optimizer == "rmsprop" else ""
        correction = _(
            "first-layer learning rate ÷c and epsilon ×c{inside}; the engine scales the first "
            "kernel's epsilon with the weight scale by itself, so only the learning rate is set "
            "here"
        ).format(inside=inside)
    else:
        correction = _("first-layer learning rate ÷c²")
    lines.append(
        _(
            "**The correction.** Run 3 is run 2 with {correction}: run 3 / run 1 = {corrected} on "
            "the first step, and the largest |loss₃ − loss₁| over {steps} steps is {gap}."
        ).format(
            correction=correction,
            corrected=_number(numbers["corrected_growth"]),
            steps=f"{int(numbers['steps_compared']):,}",
            gap=_number(numbers["max_corrected_gap"]),
        )
    )
    if math.isfinite(numbers["second_diverged_step"]):
        lines.append(
            _("Run 2 diverged at step {step}: its loss stopped being a finite number.").format(
                step=f"{int(numbers['second_diverged_step']):,}"
            )
        )
    return "\n".join(f"{index}. {line}" for index, line in enumerate(lines, start=1))


def _number(value: float) -> str:
    """Four significant digits; thousands written out (65,025 rather than 6.502e+04)."""
    if not math.isfinite(value):
        return _("n/a")
    if 1e3 <= abs(value) < 1e9:
        return f"{value:,.0f}"
    return f"{value:.4g}"
