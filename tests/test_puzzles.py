"""The two puzzle cards: answers written from the session's runs, buttons that train and open."""

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import puzzles
from explorer.presets import PRESETS
from explorer.ui import sidebar

APP = str(Path(__file__).resolve().parents[1] / "app.py")
pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_answers_without_runs_give_no_number_they_did_not_measure():
    a = " ".join(puzzles.answer("A", {}))
    b = " ".join(puzzles.answer("B", {}))
    assert "measured" not in a and "%" not in a and "the button trains" in a
    assert "%" not in b and "the button trains" in b
    glorot = math.sqrt(2 / (784 + 64))
    assert f"{glorot:.3f}" in b and "0.05" in b  # the init line is arithmetic, not a result
    assert all(len(puzzles.answer(key, {})) == 3 for key in puzzles.PUZZLES)


def test_each_puzzle_names_a_comparison_set_and_a_view():
    from explorer.ui.link import VIEWS

    for puzzle in puzzles.PUZZLES.values():
        assert puzzle.view in VIEWS
        assert all(key in PRESETS for key in puzzle.presets)


def test_the_cards_are_on_the_first_screen(fashion, train_calls):
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception
    assert app.expander[0].label == "The two puzzles, answered"
    texts = " ".join(markdown.value for markdown in app.markdown)
    for puzzle in puzzles.PUZZLES.values():
        assert puzzle.question in texts
    assert {"puzzle_A", "puzzle_B"} <= {button.key for button in app.button}
    assert not train_calls


@pytest.mark.slow
def test_puzzle_a_button_trains_the_twins_and_opens_the_twin_lab(
    fashion, train_calls, tiny_quick_look
):
    app = AppTest.from_file(APP, default_timeout=300).run()
    app.query_params["quick"] = "false"  # the button turns quick look on by itself
    app = next(b for b in app.button if b.key == "puzzle_A").click().run()
    assert not app.exception, app.exception
    quick = {key: sidebar.quick_look(PRESETS[key].config, True) for key in ("A1", "A2", "A3")}
    assert train_calls == list(quick.values())
    assert app.session_state["view"] == "Twin lab"
    assert app.selectbox(key="preset").value == "A1" and app.toggle(key="quick").value
    texts = " ".join(markdown.value for markdown in app.markdown)
    assert "Why runs 1 and 2 part" in texts  # the Twin lab shows the three runs
    assert "(measured: 65,025×)" in texts and "validation accuracy" in texts  # the card's numbers


@pytest.mark.slow
def test_puzzle_b_button_trains_the_b_set_and_opens_its_curves(
    generated_mnist, train_calls, tiny_quick_look
):
    app = AppTest.from_file(APP, default_timeout=300).run()
    app = next(b for b in app.button if b.key == "puzzle_B").click().run()
    assert not app.exception, app.exception
    assert train_calls == [
        sidebar.quick_look(PRESETS[key].config, True) for key in ("B2", "B3", "B4", "B5")
    ]
    assert app.session_state["view"] == "Curves"
    assert len(app.multiselect[0].value) == 4
    texts = " ".join(markdown.value for markdown in app.markdown)
    assert (
        "Cross-entropy (B5) reaches" in texts and "of B2's sigmoid outputs are saturated" in texts
    )
