"""Predict, then reveal: bands and fates, and the page hiding results until the learner commits."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import quiz

APP = str(Path(__file__).resolve().parents[1] / "app.py")
pytestmark = pytest.mark.usefixtures("fresh_caches")


@pytest.mark.parametrize(
    ("accuracy", "expected"),
    [(0.0, "0–20%"), (0.199, "0–20%"), (0.2, "20–40%"), (0.62, "60–80%"), (1.0, "80–100%")],
)
def test_bands_hold_their_accuracy(accuracy, expected):
    assert quiz.band(accuracy) == expected
    assert quiz.band(float("nan")) == quiz.BANDS[0]


def test_a_prediction_names_what_it_allows():
    with pytest.raises(ValueError, match="fate must be one of learns, stalls, diverges; got 'x'"):
        quiz.Prediction("x", quiz.BANDS[0])


@pytest.mark.slow
def test_a_quiz_link_hides_the_runs_until_the_learner_predicts(
    fashion, train_calls, tiny_quick_look
):
    app = AppTest.from_file(APP, default_timeout=300)
    for key, value in {"runs": "A1,A2", "view": "Curves", "quiz": "true"}.items():
        app.query_params[key] = value
    app = app.run()
    assert not app.exception, app.exception
    assert len(train_calls) == 2
    assert not app.get("vega_lite_chart")  # nothing shown before the prediction
    assert "Predict first" in " ".join(markdown.value for markdown in app.markdown)
    card_text = " ".join(markdown.value for markdown in app.markdown)
    assert "diverges at step" not in card_text  # the cards keep the outcome hidden too
    app.button(key="FormSubmitter:quiz_form-Commit my predictions").click().run()
    assert "Pick a fate for" in " ".join(error.value for error in app.error)
    radios = [radio for radio in app.radio if radio.key.startswith("quiz_fate_")]
    radios[0].set_value("learns")
    radios[1].set_value("learns")
    app = app.button(key="FormSubmitter:quiz_form-Commit my predictions").click().run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert list(table["predicted fate"]) == ["learns", "learns"]
    assert list(table["fate"]) == ["learns", "diverges"]  # A2 blows up
    assert list(table["fate right"]) == [True, False]
    assert "predictions right" in " ".join(markdown.value for markdown in app.markdown)
    assert app.get("vega_lite_chart")  # now the curves show
