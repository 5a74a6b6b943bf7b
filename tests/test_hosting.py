"""Safe to host: every crash and silent drop a hostile or careless link found, through AppTest."""

import gzip
import re

import pytest
import streamlit as st
from test_app import SMALL, charts, charts_in_every_view, open_app, press_train

from explorer import budget, data
from explorer.presets import PRESETS

pytestmark = pytest.mark.usefixtures("fresh_caches")

WHOLE_NUMBER_KEYS = (
    "epochs",
    "batch_size",
    "train_samples",
    "validation_samples",
    "seed",
    "checkpoints_per_epoch",
    "sweep_count",
)


def warnings(app) -> str:
    return " ".join(warning.value for warning in app.warning)


def outside_code_spans(markdown: str) -> str:
    """What markdown may render as markup: the text with its code spans removed (CommonMark: a
    run of n backticks opens a span that the next run of exactly n backticks closes)."""
    outside, position = [], 0
    runs = list(re.finditer(r"`+", markdown))
    index = 0
    while index < len(runs):
        opening = runs[index]
        closing = next(
            (run for run in runs[index + 1 :] if len(run.group()) == len(opening.group())), None
        )
        if closing is None:
            index += 1
            continue
        outside.append(markdown[position : opening.start()])
        position = closing.end()
        index = runs.index(closing) + 1
    outside.append(markdown[position:])
    return "".join(outside)


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "1e309"])
def test_infinity_in_any_whole_number_field_is_named_and_the_default_kept(fashion, text):
    app = open_app(**dict.fromkeys(WHOLE_NUMBER_KEYS, text))
    assert not app.exception, app.exception
    said = warnings(app)
    for key in WHOLE_NUMBER_KEYS:
        assert f"`{key}` was not used: it must be a whole number" in said, key
    assert said.count(f"got ` {text!r} `") == len(WHOLE_NUMBER_KEYS)  # the text as received
    assert app.number_input(key="epochs").value == 2


@pytest.mark.parametrize("text", ["5e-324", "1e-310"])
def test_subnormal_divisor_is_refused_and_the_data_view_draws(fashion, text):
    app = open_app(input_divisor=text, view="Data")
    assert not app.exception
    assert "`input_divisor` was not used: it must be a number from 0.001" in warnings(app)
    assert app.number_input(key="input_divisor").value == 255
    assert any("x_start" in chart.proto.spec for chart in charts(app))  # the pixel histogram


@pytest.mark.slow
def test_standardize_works_in_every_view(fashion, train_calls):
    app = open_app(input_scaling="standardize", **SMALL)
    assert not app.exception, app.exception
    assert app.selectbox(key="input_scaling").value == "standardize"
    app = press_train(app)
    assert not app.exception, app.exception
    assert len(train_calls) == 1 and train_calls[0].input_scaling == "standardize"
    assert len(charts_in_every_view(app)) >= 9  # every run view, the data view and the lab


@pytest.mark.slow
def test_fraction_spelling_reaches_the_widget_and_trains_a3(fashion, train_calls):
    app = open_app(preset="A3", first_layer_lr_multiplier="1/65025", **SMALL)
    assert not app.exception and not app.warning
    multiplier = app.number_input(key="first_layer_lr_multiplier").value
    assert multiplier == PRESETS["A3"].config.first_layer_lr_multiplier
    app = press_train(app)
    assert train_calls[0].first_layer_lr_multiplier == multiplier  # A3, not A2


@pytest.mark.parametrize(
    ("key", "text", "shown"),
    [
        ("activation", "tanh ", "tanh"),
        ("optimizer", "adam ", "adam"),  # "adam+" in a URL
        ("activation", "TANH", "tanh"),
        ("preset", "a2", "A2"),
    ],
)
def test_padded_or_cased_choices_are_read_not_dropped(fashion, key, text, shown):
    app = open_app(**{key: text})
    assert not app.exception and not app.warning
    assert app.selectbox(key=key).value == shown


@pytest.mark.parametrize(("text", "on"), [("1", True), ("yes", True), ("on", True), ("0", False)])
def test_quick_look_reads_every_usual_spelling(fashion, text, on):
    app = open_app(quick=text)
    assert not app.exception and not app.warning
    assert app.toggle(key="quick").value is on


def test_underscored_numbers_are_refused_with_the_text_received(fashion):
    app = open_app(train_samples="1_000")
    assert "`train_samples` was not used" in warnings(app) and "` '1_000' `" in warnings(app)


@pytest.mark.parametrize(
    "text",
    [
        "![x](http://host/p.png)",
        "[Session expired – log in](http://host)",
        "$x^2$ :red[red] :material/warning: <b>bold</b>",
        "`` ` ``![y](http://host/q.png)",
        "a\n\n![z](http://host/r.png)",
    ],
)
def test_link_text_never_renders_as_markup(fashion, text):
    app = open_app(preset=text, **{text[:20]: "1"})
    assert not app.exception
    for warning in app.warning:
        rendered = outside_code_spans(warning.value)
        for markup in ("![", "](", "$", ":red[", ":material", "<b>", "\n"):
            assert markup not in rendered, (markup, warning.value)


def test_a_long_value_is_cut_when_echoed(fashion):
    app = open_app(activation="x" * 10_000)
    said = warnings(app)
    assert "10,000 characters" in said and len(said) < 400


def test_a_link_over_the_budget_is_refused_with_the_estimate(fashion, train_calls):
    hours = {
        "hidden_units": "1024,1024,1024,1024",
        "batch_size": "15",
        "train_samples": "60000",
        "validation_samples": "10000",
        "validation_source": "test",
        "epochs": "50",
        "checkpoints_per_epoch": "100",
        "quick": "false",  # the 1.8 h link predates quick look by default
    }
    app = press_train(open_app(**hours))
    assert not app.exception and not train_calls
    errors = " ".join(error.value for error in app.error)
    assert "h of one CPU core" in errors and "this server allows 10 min" in errors


def test_a_sweep_over_the_budget_counts_every_value(fashion, train_calls, monkeypatch):
    one = PRESETS["A1"].config.replace(train_samples=1200, validation_samples=300, epochs=1)
    monkeypatch.setenv("EXPLORER_BUDGET_SECONDS", str(budget.estimate(one).seconds * 3))
    app = open_app(sweep_count="4", view="Sweep", **SMALL)
    app = next(b for b in app.button if b.label == "Run the sweep").click().run()
    assert not app.exception and not train_calls
    assert any("This sweep would take" in e.value and "4 runs" in e.value for e in app.error)


def corrupt_gzip(path):
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(raw))


def test_corrupt_data_dir_is_reported_once_and_nothing_crashes(
    fashion, tmp_path, monkeypatch, train_calls
):
    folder = tmp_path / "fashion_mnist"
    folder.mkdir()
    small = 2_000  # a valid dataset but for one corrupt block: size does not matter here
    for name, array in zip(
        data.IDX_FILE_NAMES,
        (fashion.train_images, fashion.train_labels, fashion.test_images, fashion.test_labels),
        strict=True,
    ):
        data.write_idx(folder / f"{name}.gz", array[:small])
    corrupt_gzip(folder / "train-images-idx3-ubyte.gz")
    with pytest.raises(OSError):  # the file is really broken
        gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes())
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    st.cache_resource.clear()
    try:
        app = press_train(open_app(**SMALL))
        assert not app.exception, app.exception
        errors = [error.value for error in app.error]
        assert len(errors) == 1, errors  # once, though three views need the data
        assert "train-images-idx3-ubyte.gz" in errors[0] and "corrupt" in errors[0]
        assert not train_calls  # no silent fallback to Debian's copy
    finally:
        st.cache_resource.clear()
