"""The two puzzle cards on the first screen: the question, the answer in three lines, one button.

A card's button sets the sidebar to the puzzle's first preset with quick look on, opens the view
that answers it (a callback: before the widgets are drawn) and asks `start_action` to train the
puzzle's comparison set. The answers fill in the numbers of whatever runs the session has.
"""

from __future__ import annotations

import streamlit as st

from explorer.i18n import N_, _
from explorer.presets import PRESETS
from explorer.puzzles import PUZZLES, answer
from explorer.setups import TwinSetup
from explorer.ui import link, quiz, runs, setup_widgets, sidebar

PRESSED = "puzzle_pressed"  # the session-state key a card's button sets for this script run
COMPARISON_SET = N_("this comparison set")  # what a budget refusal names (`_()` there)


# A card's button: the sidebar, quick look and the open view as the puzzle needs them.
def _press(key: str) -> None:
    puzzle = PUZZLES[key]
    st.session_state["preset"] = puzzle.presets[0]
    sidebar.apply_preset()
    st.session_state["quick"] = True
    link.open_view(puzzle.view)
    if key == "A":
        setup_widgets.keep(TwinSetup())  # c = 255 with SGD: the twins are A1, A2 and A3
    st.session_state[PRESSED] = key


def start_action() -> None:
    """Train the comparison set of the card pressed in this script run, if any."""
    key = st.session_state.pop(PRESSED, None)
    if key is None:
        return
    if key == "A":
        from explorer.ui import twin_lab  # TensorFlow: only once a card is pressed

        configs, then = twin_lab.plan(_quick(PUZZLES["A"].presets[0]), TwinSetup())
        runs.start(
            configs,
            TwinSetup.NAME,
            then={**then, "selected_keys": list(configs.values())},
            labels_name_new_runs=True,
        )
    else:
        configs = {PRESETS[preset].title: _quick(preset) for preset in PUZZLES[key].presets}
        runs.start(configs, COMPARISON_SET, then={"selected_keys": list(configs.values())})


def _quick(preset: str):
    return sidebar.quick_look(PRESETS[preset].config, True)


def _results(key: str) -> dict:
    """The session's runs of the puzzle's presets, by preset key: quick look or full size,
    whichever was trained last."""
    kept = runs.session_runs()
    found = {}
    for preset in PUZZLES[key].presets:
        for config in (PRESETS[preset].config, _quick(preset)):
            if config in kept and not quiz.hidden([config]):  # a quiz hides it until predicted
                found[preset] = kept[config]
    return found


# The two cards side by side, open until the session has trained something.
def puzzle_cards() -> None:
    with st.expander(_("The two puzzles, answered"), expanded=not runs.session_runs()):
        for column, puzzle in zip(st.columns(2), PUZZLES.values(), strict=True):
            card = column.container(border=True)
            card.markdown(f"**{_(puzzle.title)}**")
            card.markdown(_(puzzle.question))
            lines = answer(puzzle.key, _results(puzzle.key))
            card.markdown("\n".join(f"{number}. {line}" for number, line in enumerate(lines, 1)))
            card.button(
                _(puzzle.button),
                key=f"puzzle_{puzzle.key}",
                on_click=_press,
                args=(puzzle.key,),
                width="stretch",
            )
