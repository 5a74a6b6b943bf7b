"""Seed bands: a set-up trained with several seeds at once, read as a band in every view."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from test_share import open_link

from explorer import bands
from explorer.presets import PRESETS
from explorer.ui import sidebar

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_a_seeds_value_outside_1_to_8_is_reported(train_calls):
    app = open_link(seeds="9")
    assert not app.exception and not train_calls
    warnings = " ".join(warning.value for warning in app.warning)
    assert "`seeds` was not used" in warnings
    assert app.number_input(key="seeds").value == 1


@pytest.mark.slow
def test_a_band_trains_together_and_every_view_reads_it(fashion, train_calls, tiny_quick_look):
    app = open_link(runs="A1,A3", seeds="2", view="Curves")
    assert not app.exception, app.exception
    quick = [sidebar.quick_look(PRESETS[key].config, True) for key in ("A1", "A3")]
    assert train_calls == [quick[0], quick[0].replace(seed=1), quick[1], quick[1].replace(seed=1)]
    names = app.multiselect[0].options
    assert names == [f"{PRESETS['A1'].title} · 2 seeds", f"{PRESETS['A3'].title} · 2 seeds"]
    spec = json.loads(app.get("vega_lite_chart")[0].proto.spec)
    assert '"high"' in json.dumps(spec) and "min–max band" in spec["title"]["text"]
    link = parse_qs(urlsplit(app.code[0].value).query)
    assert link["seeds"] == ["2"] and link["runs"] == ["A1,A3"]

    app.session_state["view"] = "Summary"
    app.query_params["view"] = "Summary"
    app = app.run()
    assert not app.exception, app.exception
    tables = [frame.value for frame in app.dataframe]
    band_rows = [table for table in tables if "seeds" in set(table["measure"])]
    assert len(band_rows) == 2 and band_rows[0].set_index("measure").loc["seeds", "value"] == "0, 1"
    texts = " ".join(markdown.value for markdown in app.markdown)
    assert "Differences against the seed spread" in texts
    assert "pp of final validation accuracy" in texts

    # One seed of each band, picked above the view.
    app.session_state["view"] = "Pre-activations"
    app.query_params["view"] = "Pre-activations"
    app = app.run()
    assert not app.exception, app.exception
    assert any("first seed is drawn" in caption.value for caption in app.caption)


@pytest.mark.slow
def test_band_words_say_whether_a_difference_exceeds_the_spread(fashion):
    from explorer import group

    config = PRESETS["A1"].config.replace(train_samples=640, validation_samples=200, epochs=1)
    slow = config.replace(learning_rate=0.001)
    configs = group.seed_configs(config, 3) + group.seed_configs(slow, 3)
    results = group.train_group(configs, fashion)
    fast, crawl = results[:3], results[3:]
    words = bands.difference_words("lr 0.1", fast, "lr 0.001", crawl)
    assert words.startswith("lr 0.1 − lr 0.001: +") and "beyond the seed spread" in words
    same = bands.difference_words("A", fast, "B", fast)
    assert "+0.0 pp" in same and "inside the seed spread" in same
    table = bands.band_curves_table({"fast": fast})
    assert (table["low"] <= table["value"]).all() and (table["value"] <= table["high"]).all()
    assert set(table["seeds"]) == {3}


@pytest.mark.slow
def test_the_twin_lab_trains_every_twin_with_the_sidebars_seeds(
    fashion, train_calls, tiny_quick_look
):
    app = open_link(view="Twin lab", seeds="2")
    assert not app.exception, app.exception
    assert len(train_calls) == 6 and {config.seed for config in train_calls} == {0, 1}
    texts = " ".join(caption.value for caption in app.caption)
    assert "Each twin trained 2 seeds" in texts
    specs = [chart.proto.spec for chart in app.get("vega_lite_chart")]
    assert any('"high"' in spec for spec in specs)  # the twins' curves as bands
    names = app.session_state["run_names"]
    assert sorted(names.values())[:2] == ["1 · inputs ÷255", "1 · inputs ÷255 · seed 1"]


def test_an_action_over_the_sessions_run_limit_is_refused(train_calls):
    app = open_link(runs="A1,A2,A3,B2", seeds="8")  # 32 runs: a session keeps 24
    assert not app.exception and not train_calls
    errors = " ".join(error.value for error in app.error)
    assert "would keep 32 runs; a session keeps at most 24" in errors
