"""Predict, then reveal: a learner commits to each run's fate before seeing it.

    fate        diverges     the loss stopped being finite
                learns       final validation accuracy >= diagnosis.LEARNING_ACCURACY
                stalls       otherwise (slow, or stuck near chance)
    accuracy    the band of final validation accuracy, 20 points wide

A diverged run's accuracy is its last checkpoint's, as the Summary shows it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import pandas as pd

from explorer.diagnosis import LEARNING_ACCURACY
from explorer.train import RunResult

FATES = ("learns", "stalls", "diverges")
FATE_WORDS = {
    "learns": f"learns (≥ {LEARNING_ACCURACY:.0%} validation accuracy)",
    "stalls": "learns slowly or stalls",
    "diverges": "diverges (the loss blows up)",
}
BAND_WIDTH = 20  # percentage points
BANDS = tuple(f"{low}–{low + BAND_WIDTH}%" for low in range(0, 100, BAND_WIDTH))


@dataclasses.dataclass(frozen=True)
class Prediction:
    fate: str  # one of FATES
    band: str  # one of BANDS

    def __post_init__(self):
        if self.fate not in FATES:
            raise ValueError(f"fate must be one of {', '.join(FATES)}; got {self.fate!r}")
        if self.band not in BANDS:
            raise ValueError(f"band must be one of {', '.join(BANDS)}; got {self.band!r}")


def fate(result: RunResult) -> str:
    if result.diverged:
        return "diverges"
    accuracy = float(result.final.val_accuracy)
    return "learns" if math.isfinite(accuracy) and accuracy >= LEARNING_ACCURACY else "stalls"


def band(accuracy: float) -> str:
    """The band holding `accuracy` (a share in [0, 1]; NaN counts as the lowest band)."""
    if not math.isfinite(accuracy):
        return BANDS[0]
    index = min(int(accuracy * 100 // BAND_WIDTH), len(BANDS) - 1)
    return BANDS[max(index, 0)]


def reveal(predictions: Mapping[str, Prediction], results: Mapping[str, RunResult]) -> pd.DataFrame:
    """One row per run: what the learner predicted beside what happened, and whether it hit."""
    rows = []
    for label, result in results.items():
        guess = predictions[label]
        accuracy = float(result.final.val_accuracy)
        rows.append(
            {
                "run": label,
                "predicted fate": guess.fate,
                "fate": fate(result),
                "fate right": guess.fate == fate(result),
                "predicted accuracy": guess.band,
                "accuracy": f"{accuracy:.1%}" if math.isfinite(accuracy) else "n/a",
                "accuracy right": guess.band == band(accuracy),
            }
        )
    return pd.DataFrame(rows)


def score_words(table: pd.DataFrame) -> str:
    """ "4 of 6 predictions right" over fates and bands."""
    right = int(table["fate right"].sum() + table["accuracy right"].sum())
    return f"{right} of {2 * len(table)} predictions right"
