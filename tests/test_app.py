"""The Streamlit page through AppTest: presets, links, caching, comparison."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer import data
from explorer.presets import PRESETS
from explorer.ui.link import VIEWS

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SMALL = {"train_samples": "1200", "validation_samples": "300", "epochs": "1"}


pytestmark = pytest.mark.usefixtures("fresh_caches")


def open_app(**params) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180)
    for name, value in params.items():
        app.query_params[name] = value
    return app.run()


def press_train(app: AppTest) -> AppTest:
    next(button for button in app.button if button.label == "Train").click()
    return app.run()


def charts(app: AppTest) -> list:
    return app.get("vega_lite_chart")


def show(app: AppTest, view: str) -> AppTest:
    """Open `view` (only the open view is drawn) as a click on its tab would: the tab's state and
    the URL it is bound to."""
    app.session_state["view"] = view
    app.query_params["view"] = view
    return app.run()


def charts_in_every_view(app: AppTest) -> list:
    found = []
    for view in VIEWS:
        app = show(app, view)
        assert not app.exception, (view, app.exception)
        found.extend(charts(app))
    return found


def chart_fields(app: AppTest) -> str:
    return " ".join(chart.proto.spec for chart in charts(app))


def test_opens_without_training(fashion, train_calls):
    app = open_app()
    assert not app.exception
    assert app.title[0].value == "Initialization & Scaling Explorer"
    assert not train_calls
    assert any("Nothing trained yet" in info.value for info in app.info)


@pytest.mark.slow
@pytest.mark.parametrize("key", [key for key, preset in PRESETS.items() if preset.trains])
def test_every_trainable_preset_runs_from_a_link(fashion, train_calls, key):
    dataset = "fashion_mnist"  # MNIST cannot be had on the build machines
    app = open_app(preset=key, dataset=dataset, **SMALL)
    assert not app.exception
    assert app.selectbox(key="preset").value == key
    assert not train_calls
    app = press_train(app)
    assert not app.exception, app.exception
    assert len(train_calls) == 1
    expected = PRESETS[key].config.replace(
        dataset=dataset, train_samples=1200, validation_samples=300, epochs=1
    )
    assert train_calls[0] == expected
    text = " ".join(markdown.value for markdown in app.markdown)
    assert "Validation accuracy is" in text  # the Summary, open by default
    if key == "A2":
        app = show(app, "Curves")
        assert any("diverged at step" in warning.value for warning in app.warning)
    # curves, steps, z, z stats, saturation, init, gradients, data, the saturation lab
    assert len(charts_in_every_view(app)) >= 9


def test_b1_shows_saturation_without_training(fashion, train_calls):
    app = open_app(preset="B1")
    app = press_train(app)
    assert not app.exception
    assert not train_calls
    text = " ".join(markdown.value for markdown in app.markdown)
    infos = " ".join(info.value for info in app.info)
    assert "nothing to train" in infos and "Nothing trained yet" not in infos
    assert "At init, no training" in text and "saturated" in text
    share = re.search(r"\*\*(\d+)%\*\* of outputs saturated", text)
    assert share and int(share.group(1)) > 60
    assert charts(app)
    for view in ("Curves", "Pre-activations", "Gradients and updates"):
        infos = " ".join(info.value for info in show(app, view).info)
        assert "nothing to train" in infos and "Nothing trained yet" not in infos, view


@pytest.mark.slow
def test_bad_link_shows_messages_and_the_app_still_works(fashion, train_calls):
    app = open_app(epochs="lots", learning_rate="-1", activation="swish", preset="Z9")
    assert not app.exception
    warnings = " ".join(warning.value for warning in app.warning)
    assert "`epochs` was not used: it must be a whole number from 1 to 50; got ` 'lots' `" in (
        warnings
    )
    assert "`learning_rate`" in warnings and "` '-1' `" in warnings
    assert "`activation` was not used: it must be one of" in warnings and "swish" in warnings
    assert "`preset` was not used: it must be one of" in warnings
    assert app.number_input(key="epochs").value == 2  # the default is kept
    app.number_input(key="train_samples").set_value(1200)
    app.number_input(key="validation_samples").set_value(300)
    app.number_input(key="epochs").set_value(1)
    app = press_train(app)
    assert not app.exception and len(train_calls) == 1


def test_out_of_range_control_gives_message_not_exception(fashion, train_calls):
    app = open_app(**SMALL)
    app.text_input(key="hidden_units").set_value("300,2000")
    app = press_train(app)
    assert not app.exception
    assert any(
        "`hidden_units` must be 1 to 4 comma-separated layer widths, each a "
        "whole number from 1 to 1024"
        in error.value
        and "` '300,2000' `" in error.value
        for error in app.error
    )
    assert not train_calls


@pytest.mark.slow
def test_rerun_of_a_finished_configuration_does_not_train_again(fashion, train_calls):
    app = press_train(open_app(preset="A1", **SMALL))
    assert len(train_calls) == 1
    app = press_train(app)
    assert len(train_calls) == 1
    other_session = press_train(open_app(preset="A1", **SMALL))  # cache is shared
    assert len(train_calls) == 1
    assert not other_session.exception


@pytest.mark.slow
def test_compare_overlays_two_runs(fashion, train_calls):
    app = press_train(open_app(preset="A1", **SMALL))
    app.number_input(key="weight_scale").set_value(255.0)  # inputs stay ÷255: not a preset
    app = press_train(app)
    assert len(train_calls) == 2
    runs = app.multiselect[0]
    assert len(runs.options) == 2
    app = runs.set_value(list(runs.options)).run()
    assert not app.exception
    app = show(app, "Curves")
    labels = list(runs.options)
    assert any("weight_scale=255" in label for label in labels)
    curves = charts(app)[0].proto  # the overlaid curves carry both runs in their data
    data = b"".join(dataset.data.data for dataset in curves.datasets)
    for label in labels:
        assert label.encode() in data
    downloads = app.get("download_button")
    assert downloads


@pytest.mark.slow
def test_comparison_set_button_trains_the_set(generated_mnist, train_calls):
    app = open_app(preset="B2", quick="true")
    button = next(b for b in app.button if b.label.startswith("Train B2, B3"))
    app = button.click().run()
    assert not app.exception
    assert train_calls == [
        PRESETS[key].config.replace(train_samples=10_000, validation_samples=2_000)
        for key in ("B2", "B3", "B4", "B5")
    ]  # quick look: 10,000 training images
    assert len(app.multiselect[0].value) == 4  # all selected for comparison


def test_share_link_carries_the_controls_not_quick_looks_clipped_sizes(train_calls):
    app = open_app(preset="A3", train_samples="20000")
    assert app.toggle(key="quick").value  # quick look is on by default
    link = parse_qs(urlsplit(app.code[0].value).query)
    assert "quick" not in link  # the default needs no words
    assert link["train_samples"] == ["20000"]  # the control's, not quick look's 10000
    assert link["preset"] == ["A3"] and len(link) == 2  # only what differs from A3
    assert not train_calls


@pytest.mark.parametrize("key", list(PRESETS))
def test_a_presets_link_is_short_and_holds_only_the_preset(train_calls, key):
    app = open_app(preset=key)
    url = app.code[0].value
    assert parse_qs(urlsplit(url).query) == {"preset": [key]}
    assert not train_calls


def test_every_views_link_is_short(train_calls):
    app = open_app(preset="A3")  # the preset whose controls differ most from the defaults
    for view in VIEWS:
        app = show(app, view)
        query = urlsplit(app.code[0].value).query
        assert len(query) + len("https://example.streamlit.app/?") < 120, (view, query)
    assert not train_calls


def test_quick_false_in_a_link_trains_the_sources_size_and_travels(train_calls):
    app = open_app(preset="A3", quick="false")
    assert app.toggle(key="quick").value is False
    link = parse_qs(urlsplit(app.code[0].value).query)
    assert link["quick"] == ["false"]


def test_default_set_up_shows_as_preset_a1_and_a_custom_link_as_custom(train_calls):
    app = open_app()
    assert app.selectbox(key="preset").value == "A1"
    assert "A1 scaled inputs" in " ".join(caption.value for caption in app.sidebar.caption)
    app = open_app(learning_rate="0.5")  # no preset in the link, controls that are not A1's
    assert app.selectbox(key="preset").value == "Custom"
    assert app.number_input(key="learning_rate").value == 0.5
    link = parse_qs(urlsplit(app.code[0].value).query)
    assert link["preset"] == ["Custom"]  # a link without a preset means the default one
    app = open_app(learning_rate="0.1")  # A1's own value: still A1
    assert app.selectbox(key="preset").value == "A1"


def test_missing_dataset_gives_the_places_tried(tmp_path, monkeypatch, train_calls):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(data, "_download_with_keras", _no_network)
    st.cache_resource.clear()
    app = press_train(open_app(preset="B2"))
    assert not app.exception and not train_calls
    message = " ".join(error.value for error in app.error)
    assert "mnist" in message and "EXPLORER_DATA_DIR" in message and str(tmp_path) in message
    assert not any("Nothing trained yet" in info.value for info in app.info)  # the data says why
    # The B set fails on its first run: no bar or Cancel button is left behind.
    button = next(b for b in app.button if b.label.startswith("Train B2, B3"))
    app = button.click().run()
    assert not app.exception and len(app.error) == 1
    assert not app.get("progress") and not [b for b in app.button if "Cancel" in b.label]


def _no_network(name):
    raise ConnectionError(f"no network in tests ({name})")


# --- the labs: twin, sweep, saturation -----------------------------------------------------------


def press(app: AppTest, label: str) -> AppTest:
    next(button for button in app.button if button.label == label).click()
    return app.run()


def page_text(app: AppTest) -> str:
    return " ".join(markdown.value for markdown in app.markdown)


@pytest.mark.slow
def test_twin_lab_trains_three_runs_and_explains_them(fashion, train_calls):
    app = open_app(twin_factor="256", twin_optimizer="sgd", view="Twin lab", **SMALL)
    assert not app.exception, app.exception
    assert app.number_input(key="twin_factor").value == 256
    assert len(train_calls) == 3  # a lab's link trains its runs by itself
    app = press(app, "Train the three twins")
    assert not app.exception, app.exception
    assert len(train_calls) == 3  # cached
    assert [c.input_divisor for c in train_calls] == [256.0, 1.0, 1.0]
    assert [c.weight_scale for c in train_calls] == [1.0, 256.0, 256.0]
    assert train_calls[2].first_layer_lr_multiplier == 1 / 256**2
    assert all(c.train_samples == 1200 and c.epochs == 1 for c in train_calls)
    text = page_text(app)
    assert "z = (x/c)·W = x·(W/c)" in text and "c² = 65,536" in text
    assert "run 2 / run 1 = 65,536" in text  # c = 256 is exact in float32
    ratios = next(frame.value for frame in app.dataframe if "ratio_to_first" in frame.value)
    assert len(ratios) == 3 and (ratios.update_ratio > 0).all()
    assert ratios.ratio_to_first.iloc[2] == 1.0
    assert "at step 1 (log)" in chart_fields(app)  # the ratio bars' axis title
    app = app.run()  # the lab stays on the page without training again
    assert len(train_calls) == 3 and "c² = 65,536" in page_text(app)


@pytest.mark.slow
def test_twin_lab_with_adam_names_the_epsilon(fashion, train_calls):
    app = open_app(
        twin_factor="255", twin_optimizer="adam", learning_rate="0.001", view="Twin lab", **SMALL
    )
    app = press(app, "Train the three twins")
    assert not app.exception and len(train_calls) == 3
    assert train_calls[2].first_layer_lr_multiplier == 1 / 255
    assert "epsilon ×c" in page_text(app)
    assert any("inside the square root" in caption.value for caption in app.caption)


@pytest.mark.slow
def test_sweep_trains_every_value_and_draws_its_chart(fashion, train_calls):
    params = {"sweep_knob": "learning_rate", "sweep_from": "0.01", "sweep_to": "1"}
    app = open_app(sweep_scale="log", sweep_count="3", view="Sweep", **params, **SMALL)
    assert not app.exception, app.exception
    # A sweep's link trains its values by itself, as one group of three.
    assert [config.learning_rate for config in train_calls] == [0.01, 0.1, 1.0]
    app = press(app, "Run the sweep")
    assert not app.exception, app.exception
    assert len(train_calls) == 3
    spec = chart_fields(app)
    assert "validation accuracy" in spec and "dead units at init" in spec
    assert '"learning rate"' in spec
    app = press(app, "Run the sweep")  # every value is cached
    assert len(train_calls) == 3 and not app.exception


def test_saturation_lab_shows_share_and_both_stds(fashion, train_calls):
    app = open_app(
        sat_initializer="random_normal",
        sat_activation="sigmoid",
        sat_stddev="1",
        view="Saturation lab",
    )
    assert not app.exception and not train_calls
    metrics = {metric.label: metric.value for metric in app.metric}
    assert float(metrics["Share saturated"].rstrip("%")) > 60
    expected, measured = float(metrics["Expected std(z)"]), float(metrics["Measured std(z)"])
    assert measured == pytest.approx(expected, rel=0.1)
    app.selectbox(key="sat_initializer").set_value("glorot_uniform")
    app.selectbox(key="sat_input").set_value("scaled")  # real images ÷255
    app = app.run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert float(metrics["Share saturated"].rstrip("%")) < 5
    link = app.code[0].value  # the share link carries the lab's controls
    assert "sat_initializer=glorot_uniform" in link and "sat_input=scaled" in link
    assert not train_calls


def test_bad_lab_links_give_messages(fashion, train_calls):
    bad = {
        "twin_factor": "0",
        "twin_optimizer": "lbfgs",
        "sweep_knob": "momentum",
        "sweep_count": "50",
        "sweep_from": "soon",
        "sat_input": "noise",
        "sat_stddev": "-1",
    }
    app = open_app(**bad)
    assert not app.exception
    warnings = " ".join(warning.value for warning in app.warning)
    for key, value in bad.items():
        assert key in warnings and repr(value) in warnings, key
    assert show(app, "Twin lab").number_input(key="twin_factor").value == 255  # the default
    app = open_app(sweep_from="0", sweep_scale="log", view="Sweep")  # fine alone, not together
    assert any("a log sweep needs a positive sweep_from" in e.value for e in app.error)
    app = open_app(train_samples="100", batch_size="200", view="Twin lab")  # no valid sidebar
    assert not app.exception
    assert any("twin lab builds on the sidebar" in info.value for info in app.info)
    app = show(app, "Sweep")
    assert any("sweep builds on the sidebar" in info.value for info in app.info)
    assert not train_calls
