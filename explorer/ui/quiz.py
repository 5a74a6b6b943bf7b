"""Predict, then reveal, on the page: with `quiz=true` in the link, results stay hidden until the
learner has committed to each run's fate and accuracy; then both show side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from explorer.i18n import _

if TYPE_CHECKING:  # the page reads the link before TensorFlow loads; results come after it
    from explorer import train as training

ON = "quiz"  # session flag, set from the link
PREDICTIONS = "quiz_predictions"  # {RunConfig: quiz.Prediction}


def active() -> bool:
    return bool(st.session_state.get(ON))


def start_from_link() -> None:
    """Read the link's `quiz` once per session."""
    if "quiz_read" not in st.session_state:
        st.session_state["quiz_read"] = True
        st.session_state[ON] = st.query_params.get("quiz") == "true"


def hidden(configs) -> bool:
    """Whether results of `configs` must stay hidden (quiz on, some prediction missing)."""
    predictions = st.session_state.get(PREDICTIONS, {})
    return active() and any(config not in predictions for config in configs)


# Before the results: a form asking for each run's fate and accuracy. After: the reveal table.
def gate(results: dict[str, training.RunResult]) -> bool:
    """True when `results` may be shown (quiz off, or committed: the reveal is drawn first)."""
    if not active() or not results:
        return True
    predictions = st.session_state.setdefault(PREDICTIONS, {})
    if hidden(result.config for result in results.values()):
        _ask(results, predictions)
        return False
    from explorer import quiz

    by_label = {label: predictions[result.config] for label, result in results.items()}
    table = quiz.reveal(by_label, results)
    heading = _("Your predictions beside the outcome: {score}").format(
        score=quiz.score_words(table)
    )
    st.markdown(f"#### {heading}")
    st.dataframe(table, hide_index=True, width="stretch")
    return True


def _ask(results: dict[str, training.RunResult], predictions: dict) -> None:
    from explorer import quiz

    ask = _(
        "The runs are trained. Before you see them, say what you expect of each: does it learn, "
        "stall or diverge, and where does its validation accuracy end?"
    )
    st.markdown("#### " + _("Predict first") + "\n" + ask)
    with st.form("quiz_form"):
        guesses = {}
        for label, result in results.items():
            st.markdown(f"**{label}**")
            left, right = st.columns(2)
            fate = left.radio(
                _("Fate"),
                quiz.FATES,
                format_func=quiz.FATE_WORDS.get,
                key=f"quiz_fate_{label}",
                index=None,
            )
            band = right.select_slider(
                _("Final validation accuracy"), quiz.BANDS, key=f"quiz_band_{label}"
            )
            guesses[result.config] = (fate, band)
        committed = st.form_submit_button(_("Commit my predictions"), type="primary")
    if not committed:
        return
    missing = [
        label for label, (fate, _band) in zip(results, guesses.values(), strict=True) if not fate
    ]
    if missing:
        st.error(_("Pick a fate for {runs} first.").format(runs=_(", ").join(missing)))
        return
    for config, (fate, band) in guesses.items():
        predictions[config] = quiz.Prediction(fate, band)
    st.rerun()  # the whole page: the cards reveal their numbers too
