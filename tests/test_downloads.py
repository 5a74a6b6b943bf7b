"""Slide-ready figures and the tables behind the views."""

import io
import zipfile

import altair as alt
import pandas as pd
import pytest

from explorer import downloads
from explorer.presets import PRESETS

A1, A2 = PRESETS["A1"].config, PRESETS["A2"].config


def test_setup_words_name_what_a_slide_needs():
    words = downloads.setup_words(A2)
    for part in ("A2", "Fashion-MNIST", "55,000 images", "÷1", "300-100 relu", "÷255 (first)"):
        assert part in words
    assert "lr 0.1" in words and "batch 32" in words and "2 epochs" in words and "seed 0" in words
    lines = downloads.caption_lines({"A2 raw inputs, weights ÷255": A2, "mine": A1.replace(seed=3)})
    assert lines[0].startswith("A2 raw inputs, weights ÷255: Fashion-MNIST")  # no "A2 ·" twice
    assert lines[1].startswith("mine: Fashion-MNIST") and "seed 3" in lines[1]


def _chart():
    table = pd.DataFrame({"run": "A1", "step": [1, 2, 3], "loss": [2.0, 1.0, 0.5]})
    chart = alt.Chart(table).mark_line().encode(x="step", y="loss")
    return chart.properties(width="container", height=200)


def test_a_figure_carries_its_title_and_set_ups():
    spec = downloads.figure(_chart(), "Loss", {"A1": A1, "A2": A2}).to_dict()
    assert spec["title"]["text"] == "Loss"
    assert len(spec["title"]["subtitle"]) == 2 and "300-100 relu" in spec["title"]["subtitle"][0]


@pytest.mark.slow
def test_figures_zip_holds_svg_png_and_the_set_ups():
    chart = downloads.figure(_chart(), "Loss of every step", {"A1": A1})
    archive = zipfile.ZipFile(io.BytesIO(downloads.figures_zip([("loss", chart, {"A1": A1})])))
    assert sorted(archive.namelist()) == ["figures.txt", "loss.png", "loss.svg"]
    svg = archive.read("loss.svg").decode()
    assert "Loss of every step" in svg and "300-100 relu" in svg
    assert f'width="{downloads.EXPORT_WIDTH}' in svg or "<svg" in svg
    assert archive.read("loss.png").startswith(b"\x89PNG")
    assert "loss.svg, loss.png" in archive.read("figures.txt").decode()


def test_tables_carry_the_configuration():
    table = pd.DataFrame({"run": ["A1", "A2"], "step": [1, 1], "loss": [2.3, 2.4]})
    wide = downloads.with_config(table, {"A1": A1, "A2": A2})
    assert list(wide["preset"]) == ["A1", "A2"]
    assert list(wide["weight_scale"]) == ["1.0", "255.0"]
    assert {"learning_rate", "hidden_units", "seed"} <= set(wide.columns)


@pytest.mark.slow
@pytest.mark.usefixtures("fresh_caches")
def test_every_run_view_titles_its_figures_and_offers_its_downloads(fashion, tiny_quick_look):
    import json
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=300
    )
    app.query_params["runs"] = "A1,A2"
    app = app.run()
    assert not app.exception, app.exception
    labels = {button.proto.label for button in app.get("download_button")}
    assert {"Download as Keras script", "Download history (CSV)"} <= labels
    for view, least in {
        "Curves": 2,
        "Pre-activations": 2,
        "Saturation": 3,
        "Gradients and updates": 1,
    }.items():
        app.session_state["view"] = view
        app.query_params["view"] = view
        app = app.run()
        assert not app.exception, (view, app.exception)
        specs = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
        titled = [spec for spec in specs if "subtitle" in spec.get("title", {})]
        assert len(titled) >= least, view
        assert all(
            any("A2" in line for line in spec["title"]["subtitle"])
            for spec in titled[:least]
            if view != "Saturation"
        )
        labels = {button.proto.label for button in app.get("download_button")}
        assert "Download figures (SVG + PNG)" in labels, view
