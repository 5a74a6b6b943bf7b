"""Predict, then reveal: a learner commits to each run's fate before seeing it.

    fate        diverges     the loss stopped being finite
                learns       final validation accuracy >= diagnosis.LEARNING_ACCURACY
                stalls       otherwise (slow, or stuck near chance)
    accuracy    the band of final validation accuracy, 20 points wide

A diverged run's accuracy is its last checkpoint's, as the Summary shows it. The words (the
fates, the reveal table's columns, the score) are in the reader's language; a prediction keeps
the fate's identifier.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping

import pandas as pd

from explorer.diagnosis import LEARNING_ACCURACY
from explorer.i18n import N_, LazyText, _, lazy_gettext
from explorer.train import RunResult


class TranslatedWords(Mapping[str, str]):
    """{key: words} whose words are translated each time one is read (`FATE_WORDS.get` is a
    widget's format_func: it must give text in the reader's language, made at import)."""

    def __init__(self, words: Mapping[str, LazyText]) -> None:
        self._words = dict(words)

    def __getitem__(self, key: str) -> str:
        return str(self._words[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)


FATES = ("learns", "stalls", "diverges")
FATE_NAMES = {"learns": N_("learns"), "stalls": N_("stalls"), "diverges": N_("diverges")}
FATE_WORDS = TranslatedWords(
    {
        "learns": lazy_gettext(
            "learns (≥ {accuracy} validation accuracy)", accuracy=f"{LEARNING_ACCURACY:.0%}"
        ),
        "stalls": lazy_gettext("learns slowly or stalls"),
        "diverges": lazy_gettext("diverges (the loss blows up)"),
    }
)
# The reveal table's columns (English names, `_()` at use): run, prediction and outcome.
REVEAL_COLUMNS = {
    "run": N_("run"),
    "predicted_fate": N_("predicted fate"),
    "fate": N_("fate"),
    "fate_right": N_("fate right"),
    "predicted_accuracy": N_("predicted accuracy"),
    "accuracy": N_("accuracy"),
    "accuracy_right": N_("accuracy right"),
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
    """One row per run: what the learner predicted beside what happened, and whether it hit
    (columns REVEAL_COLUMNS and fates FATE_NAMES in the reader's language)."""
    rows = []
    for label, result in results.items():
        guess = predictions[label]
        accuracy = float(result.final.val_accuracy)
        rows.append(
            {
                "run": label,
                "predicted_fate": _(FATE_NAMES[guess.fate]),
                "fate": _(FATE_NAMES[fate(result)]),
                "fate_right": guess.fate == fate(result),
                "predicted_accuracy": guess.band,
                "accuracy": f"{accuracy:.1%}" if math.isfinite(accuracy) else _("n/a"),
                "accuracy_right": guess.band == band(accuracy),
            }
        )
    columns = {key: _(name) for key, name in REVEAL_COLUMNS.items()}
    return pd.DataFrame(rows, columns=list(columns)).rename(columns=columns)


def score_words(table: pd.DataFrame) -> str:
    """ "4 of 6 predictions right" over fates and bands (of a `reveal` table)."""
    fate_right, accuracy_right = (
        _(REVEAL_COLUMNS[key]) for key in ("fate_right", "accuracy_right")
    )
    right = int(table[fate_right].sum() + table[accuracy_right].sum())
    return _("{right} of {count} predictions right").format(right=right, count=2 * len(table))
