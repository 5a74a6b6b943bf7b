"""The two puzzles on the first screen: each question in one sentence, its answer in three lines.

The answers are written from the runs this app trained (the comparison set in quick look, or
at full size): numbers the session has are filled in, and a line whose runs are missing says
what the button measures instead. Nothing here is a stored result.

    A   z = (x/255)·W = x·(W/255) at init, yet ∂L/∂W = xᵀ·∂L/∂z is 255× larger on a kernel 255×
        smaller: SGD's first relative step is 255² = 65,025× larger. First-layer lr ÷255² fixes it.
    B   RandomNormal()'s stddev is 0.05 ≈ Glorot's √(2/(784+64)) = 0.049: B2 is not saturated.
        MSE on softmax with SGD 0.01 is what is slow; cross-entropy (B5) fixes it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from explorer.config import FIRST_LAYER, IMAGE_PIXELS
from explorer.presets import PRESETS

if TYPE_CHECKING:  # the page draws the cards before TensorFlow loads
    from explorer.train import RunResult

PIXEL_SCALE = 255  # the factor of puzzle A: pixels ÷255, or first-layer weights ÷255


@dataclasses.dataclass(frozen=True)
class Puzzle:
    key: str
    title: str
    question: str
    presets: tuple[str, ...]  # the comparison set its button trains
    view: str  # the view that answers it, opened by the button
    button: str


PUZZLES = {
    "A": Puzzle(
        "A",
        "Puzzle A: ÷255 on the pixels or on the weights?",
        "Dividing the pixels by 255 trains, but dividing the first layer's weights by 255 "
        "(the same pre-activations at init) does not: why?",
        ("A1", "A2", "A3"),
        "Twin lab",
        "Train A1, A2, A3 and open the Twin lab",
    ),
    "B": Puzzle(
        "B",
        "Puzzle B: is N(0, 1) initialization why the tutorial's run stalls at 42%?",
        "The tutorial blames its weight initialization for a sigmoid MLP that learns slowly: "
        "is that what slows it?",
        ("B2", "B3", "B4", "B5"),
        "Curves",
        "Train B2–B5 and open their curves",
    ),
}


def glorot_stddev(fan_in: int, fan_out: int) -> float:
    """Glorot's std for a layer: √(2 / (fan_in + fan_out)) (normal and uniform alike)."""
    return math.sqrt(2.0 / (fan_in + fan_out))


def answer(key: str, results: Mapping[str, RunResult]) -> list[str]:
    """Puzzle `key`'s answer in three markdown lines, from `results` by preset key (any subset
    of the puzzle's comparison set; missing runs leave their numbers out)."""
    return answer_a(results) if key == "A" else answer_b(results)


def answer_a(results: Mapping[str, RunResult]) -> list[str]:
    a1, a2, a3 = (results.get(key) for key in PUZZLES["A"].presets)
    same_z = (
        f"At init A2's z = x·(W/255) equals A1's (x/255)·W: the same pre-activations"
        f"{_z_spread(a1, a2)}."
    )
    growth = PIXEL_SCALE**2
    measured = ""
    if a1 is not None and a2 is not None:
        ratio = _first_update_ratio(a2) / _first_update_ratio(a1)
        if math.isfinite(ratio):
            measured = f" (measured: {ratio:,.0f}×)"
    first_step = (
        "But the gradient ∂L/∂W = xᵀ·∂L/∂z is 255× larger with raw pixels and lands on a kernel "
        f"255× smaller: SGD's first step changes A2's first layer 255² = {growth:,}× more, "
        f"relative to its size{measured}."
    )
    if a1 is None or a2 is None or a3 is None:
        outcome = (
            "So A2 overshoots while A1 learns, and dividing A2's first-layer learning rate by "
            "255² (A3) retraces A1: the button trains the three and shows it."
        )
    else:
        outcome = (
            f"So A2 {_fate(a2)} while A1 reaches {_accuracy(a1)}; dividing A2's first-layer "
            f"learning rate by 255² (A3) retraces A1: {_accuracy(a3)}."
        )
    return [same_z, first_step, outcome]


def answer_b(results: Mapping[str, RunResult]) -> list[str]:
    b2, b3, b4, b5 = (results.get(key) for key in PUZZLES["B"].presets)
    config = PRESETS["B2"].config
    glorot = glorot_stddev(IMAGE_PIXELS, config.hidden_units[0])
    saturation = ""
    if b2 is not None and b4 is not None:
        saturation = (
            f" At init {_saturated(b2)} of B2's sigmoid outputs are saturated, against "
            f"{_saturated(b4)} with a true N(0, 1) (B4)."
        )
    init_line = (
        f"The tutorial's `RandomNormal()` has stddev {config.init_param:g}, about Glorot's "
        f"√(2/({IMAGE_PIXELS}+{config.hidden_units[0]})) = {glorot:.3f}: its run is not the "
        f"N(0, 1) of its picture (B1).{saturation}"
    )
    step = ""
    if b2 is not None and math.isfinite(_first_update_ratio(b2)):
        step = f" (B2's first step: ‖ΔW‖/‖W‖ = {_first_update_ratio(b2):.1g})"
    slow_line = (
        "What slows it is MSE on softmax outputs with SGD 0.01, whose gradients are small"
        f"{step}; Glorot's kernel (B3) is nearly B2's own."
    )
    if None in (b2, b3, b4, b5):
        outcome = (
            "Cross-entropy (B5) learns far faster than B2, B3 or B4: the button trains the four "
            "and shows it."
        )
    else:
        outcome = (
            f"Cross-entropy (B5) reaches {_accuracy(b5)}, against B2 {_accuracy(b2)}, B3 "
            f"{_accuracy(b3)} and B4 {_accuracy(b4)} (one seed: a few points between B2 and B3 "
            "are seed noise)."
        )
    return [init_line, slow_line, outcome]


def _z_spread(a1: RunResult | None, a2: RunResult | None) -> str:
    if a1 is None or a2 is None:
        return ""
    z1, z2 = a1.history.iloc[0], a2.history.iloc[0]
    return f" (measured std of z: {z1.z_std:.3g} and {z2.z_std:.3g})"


def _first_update_ratio(result: RunResult) -> float:
    """‖ΔW‖/‖W‖ of the first kernel on the first step (NaN if not recorded)."""
    layers = result.layers
    first = layers[(layers["step"] == 1) & (layers["layer"] == FIRST_LAYER)]
    return float(first.iloc[0].update_ratio) if not first.empty else math.nan


def _saturated(result: RunResult) -> str:
    layers = result.layers
    at_init = layers[(layers["step"] == 0) & (layers["layer"] == FIRST_LAYER)]
    return _percent(float(at_init.iloc[0].saturated_share)) if not at_init.empty else "n/a"


def _accuracy(result: RunResult) -> str:
    return f"{_percent(float(result.final.val_accuracy))} validation accuracy"


def _fate(result: RunResult) -> str:
    if result.diverged:
        return f"diverges at step {result.diverged_step:,}"
    return f"reaches only {_accuracy(result)}"


def _percent(share: float) -> str:
    return f"{share:.0%}" if math.isfinite(share) else "n/a"
