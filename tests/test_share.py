"""Short links that reopen a result: what they hold, and what opening one trains and shows."""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from explorer import reopen
from explorer.presets import PRESETS
from explorer.ui import sidebar

APP = str(Path(__file__).resolve().parents[1] / "app.py")
pytestmark = pytest.mark.usefixtures("fresh_caches")


def open_link(**params) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=300)
    for name, value in params.items():
        app.query_params[name] = value
    return app.run()


def quick(key: str):
    return sidebar.quick_look(PRESETS[key].config, True)


def test_run_tokens_read_back_and_name_what_a_link_cannot_carry():
    controls = PRESETS["A1"].config.replace(learning_rate=0.5)
    configs = [quick("A2"), sidebar.quick_look(controls, True), quick("A1").replace(seed=7)]
    tokens, left_out = reopen.run_tokens(configs, controls, True, sidebar.quick_look)
    assert tokens == ["A2", "setup"] and left_out == [configs[2]]
    assert (
        list(reopen.run_configs(tokens, controls, True, sidebar.quick_look).values())
        == (configs[:2])
    )
    assert reopen.RUNS_RULE.canonical(" a1, SETUP ") == "A1,setup"
    for bad in ("", "A1,A1", "B1", "Z9", ",".join(["A1"] * 9)):
        with pytest.raises(ValueError):
            reopen.RUNS_RULE.canonical(bad)


def test_a_bad_runs_value_is_reported_and_nothing_trains(train_calls):
    app = open_link(runs="A1,Z9")
    assert not app.exception and not train_calls
    warnings = " ".join(warning.value for warning in app.warning)
    assert "`runs` was not used" in warnings and "A1, A2, A3, B2" in warnings


@pytest.mark.slow
def test_a_link_naming_runs_trains_them_and_shows_them_in_its_view(
    fashion, train_calls, tiny_quick_look
):
    app = open_link(preset="A1", runs="A1,A3", view="Curves")
    assert not app.exception, app.exception
    assert train_calls == [quick("A1"), quick("A3")]
    assert app.session_state["view"] == "Curves"
    assert len(app.multiselect[0].value) == 2 and app.get("vega_lite_chart")
    # The view's share box names the same runs and view: opening it trains nothing more.
    link = parse_qs(urlsplit(app.code[0].value).query)
    assert link == {"preset": ["A1"], "runs": ["A1,A3"], "view": ["Curves"]}
    again = open_link(**{key: values[0] for key, values in link.items()})
    assert not again.exception and len(train_calls) == 2  # cached: shown at once
    assert len(again.multiselect[0].value) == 2


@pytest.mark.slow
def test_a_twin_lab_link_trains_the_three_twins(fashion, train_calls, tiny_quick_look):
    app = open_link(view="Twin lab", twin_factor="256")
    assert not app.exception, app.exception
    assert len(train_calls) == 3
    assert {config.weight_scale for config in train_calls} == {1.0, 256.0}
    texts = " ".join(markdown.value for markdown in app.markdown)
    assert "Why runs 1 and 2 part" in texts
    link = parse_qs(urlsplit(app.code[0].value).query)
    assert link == {"preset": ["A1"], "view": ["Twin lab"], "twin_factor": ["256.0"]}


def test_names_read_back_aligned_with_runs():
    assert reopen.NAMES_RULE.canonical(" | my run ") == "|my run"
    assert reopen.link_names({"names": "|my run"}, ["A1", "A3"]) == {"A3": "my run"}
    for bad in ("|", "a|a", "x" * 41, "|".join("abcdefghi")):
        with pytest.raises(ValueError):
            reopen.NAMES_RULE.canonical(bad)


@pytest.mark.slow
def test_names_are_stable_renamed_and_travel_in_the_link(fashion, train_calls, tiny_quick_look):
    app = open_link(preset="A1", runs="A1,A3", view="Curves")
    a1, a3 = PRESETS["A1"].title, PRESETS["A3"].title
    assert app.multiselect[0].options == [a1, a3]
    app.text_input[0].input("corrected")  # the rename popover's only text input
    rename = next(s for s in app.selectbox if s.label == "Run")
    rename.set_value(a3)
    app = next(b for b in app.button if b.label == "Rename").click().run()
    assert not app.exception, app.exception
    assert app.multiselect[0].options == [a1, "corrected"]
    link = parse_qs(urlsplit(app.code[0].value).query)
    assert link["names"] == ["|corrected"] and link["runs"] == ["A1,A3"]
    # A later run leaves the earlier names as they were.
    app.selectbox(key="preset").set_value("A2").run()
    app = next(b for b in app.button if b.label == "Train").click().run()
    assert app.multiselect[0].options == [a1, "corrected", PRESETS["A2"].title]
    # The link gives its runs their names in a fresh session (cached: nothing trains).
    again = open_link(**{key: values[0] for key, values in link.items()})
    assert again.multiselect[0].options == [a1, "corrected"]
    assert len(train_calls) == 3
