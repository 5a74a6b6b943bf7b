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
from explorer.i18n import N_, _
from explorer.presets import PRESETS

if TYPE_CHECKING:  # the page draws the cards before TensorFlow loads
    from explorer.train import RunResult

PIXEL_SCALE = 255  # the factor of puzzle A: pixels ÷255, or first-layer weights ÷255


@dataclasses.dataclass(frozen=True)
class Puzzle:
    """A puzzle card's words are in English (marked for the catalog): `_()` them where shown."""

    key: str
    title: str
    question: str
    presets: tuple[str, ...]  # the comparison set its button trains
    view: str  # the view that answers it, opened by the button (its name in the link)
    button: str


PUZZLES = {
    "A": Puzzle(
        "A",
        N_("Puzzle A: ÷255 on the pixels or on the weights?"),
        N_(
            "Dividing the pixels by 255 trains, but dividing the first layer's weights by 255 "
            "(the same pre-activations at init) does not: why?"
        ),
        ("A1", "A2", "A3"),
        "Twin lab",
        N_("Train A1, A2, A3 and open the Twin lab"),
    ),
    "B": Puzzle(
        "B",
        N_("Puzzle B: is N(0, 1) initialization why the tutorial's run stalls at 42%?"),
        N_(
            "The tutorial blames its weight initialization for a sigmoid MLP that learns slowly: "
            "is that what slows it?"
        ),
        ("B2", "B3", "B4", "B5"),
        "Curves",
        N_("Train B2–B5 and open their curves"),
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
    same_z = _(
        "At init A2's z = x·(W/255) equals A1's (x/255)·W: the same pre-activations{measured}."
    ).format(measured=_z_spread(a1, a2))
    growth = PIXEL_SCALE**2
    measured = ""
    if a1 is not None and a2 is not None:
        ratio = _first_update_ratio(a2) / _first_update_ratio(a1)
        if math.isfinite(ratio):
            measured = _(" (measured: {ratio}×)").format(ratio=f"{ratio:,.0f}")
    first_step = _(
        "But the gradient ∂L/∂W = xᵀ·∂L/∂z is 255× larger with raw pixels and lands on a kernel "
        "255× smaller: SGD's first step changes A2's first layer 255² = {growth}× more, "
        "relative to its size{measured}."
    ).format(growth=f"{growth:,}", measured=measured)
    if a1 is None or a2 is None or a3 is None:
        outcome = _(
            "So A2 overshoots while A1 learns, and dividing A2's first-layer learning rate by "
            "255² (A3) retraces A1: the button trains the three and shows it."
        )
    else:
        outcome = _(
            "So A2 {fate} while A1 reaches {a1_accuracy}; dividing A2's first-layer learning "
            "rate by 255² (A3) retraces A1: {a3_accuracy}."
        ).format(fate=_fate(a2), a1_accuracy=_accuracy(a1), a3_accuracy=_accuracy(a3))
    return [same_z, first_step, outcome]


def answer_b(results: Mapping[str, RunResult]) -> list[str]:
    b2, b3, b4, b5 = (results.get(key) for key in PUZZLES["B"].presets)
    config = PRESETS["B2"].config
    glorot = glorot_stddev(IMAGE_PIXELS, config.hidden_units[0])
    saturation = ""
    if b2 is not None and b4 is not None:
        saturation = _(
            " At init {b2_share} of B2's sigmoid outputs are saturated, against {b4_share} with "
            "a true N(0, 1) (B4)."
        ).format(b2_share=_saturated(b2), b4_share=_saturated(b4))
    init_line = _(
        "The tutorial's `RandomNormal()` has stddev {stddev}, about Glorot's "
        "√(2/({fan_in}+{fan_out})) = {glorot}: its run is not the N(0, 1) of its picture "
        "(B1).{saturation}"
    ).format(
        stddev=f"{config.init_param:g}",
        fan_in=IMAGE_PIXELS,
        fan_out=config.hidden_units[0],
        glorot=f"{glorot:.3f}",
        saturation=saturation,
    )
    step = ""
    if b2 is not None and math.isfinite(_first_update_ratio(b2)):
        step = _(" (B2's first step: ‖ΔW‖/‖W‖ = {ratio})").format(
            ratio=f"{_first_update_ratio(b2):.1g}"
        )
    slow_line = _(
        "What slows it is MSE on softmax outputs with SGD 0.01, whose gradients are "
        "small{step}; Glorot's kernel (B3) is nearly B2's own."
    ).format(step=step)
    if None in (b2, b3, b4, b5):
        outcome = _(
            "Cross-entropy (B5) learns far faster than B2, B3 or B4: the button trains the four "
            "and shows it."
        )
    else:
        outcome = _(
            "Cross-entropy (B5) reaches {b5}, against B2 {b2}, B3 {b3} and B4 {b4} (one seed: "
            "a few points between B2 and B3 are seed noise)."
        ).format(b5=_accuracy(b5), b2=_accuracy(b2), b3=_accuracy(b3), b4=_accuracy(b4))
    return [init_line, slow_line, outcome]


def _z_spread(a1: RunResult | None, a2: RunResult | None) -> str:
    if a1 is None or a2 is None:
        return ""
    z1, z2 = a1.history.iloc[0], a2.history.iloc[0]
    return _(" (measured std of z: {a1_std} and {a2_std})").format(
        a1_std=f"{z1.z_std:.3g}", a2_std=f"{z2.z_std:.3g}"
    )


def _first_update_ratio(result: RunResult) -> float:
    """‖ΔW‖/‖W‖ of the first kernel on the first step (NaN if not recorded)."""
    layers = result.layers
    first = layers[(layers["step"] == 1) & (layers["layer"] == FIRST_LAYER)]
    return float(first.iloc[0].update_ratio) if not first.empty else math.nan


def _saturated(result: RunResult) -> str:
    layers = result.layers
    at_init = layers[(layers["step"] == 0) & (layers["layer"] == FIRST_LAYER)]
    return _percent(float(at_init.iloc[0].saturated_share)) if not at_init.empty else _("n/a")


def _accuracy(result: RunResult) -> str:
    return _("{percent} validation accuracy").format(
        percent=_percent(float(result.final.val_accuracy))
    )


def _fate(result: RunResult) -> str:
    if result.diverged:
        return _("diverges at step {step}").format(step=f"{result.diverged_step:,}")
    return _("reaches only {accuracy}").format(accuracy=_accuracy(result))


def _percent(share: float) -> str:
    return f"{share:.0%}" if math.isfinite(share) else _("n/a")
