"""Chart builders: the Vega-Lite specs carry the fields, scales, params and clean data they need."""

import math

import numpy as np
import pandas as pd
import pytest

from explorer import charts

RUNS = ("A1 scaled inputs", "input_divisor=1, weight_scale=255")
LAYERS = ("dense", "dense_1")


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def curves_frame() -> pd.DataFrame:
    rng, rows = _rng(), []
    for run in RUNS:
        for step in range(0, 50, 10):
            for split in ("train", "validation"):
                for metric in ("loss", "accuracy"):
                    value = rng.uniform(0.1, 0.9)
                    rows.append((run, step, step / 25, split, metric, value))
    frame = pd.DataFrame(rows, columns=["run", "step", "epoch", "split", "metric", "value"])
    frame.loc[frame.index[-1], "value"] = np.nan  # a diverged run's last checkpoint
    frame.loc[frame.index[-2], "value"] = np.inf
    return frame


def step_loss_frame() -> pd.DataFrame:
    steps = np.arange(1, 201)
    loss = np.exp(-steps / 50) + _rng().uniform(0, 0.1, steps.size)
    frame = pd.DataFrame({"run": RUNS[0], "step": steps, "loss": loss})
    diverged = pd.DataFrame({"run": RUNS[1], "step": [1, 2, 3], "loss": [2.3, np.inf, np.nan]})
    return pd.concat([frame, diverged], ignore_index=True)


def histogram_rows(edges: np.ndarray, counts, below: int = 0, above: int = 0, nan: int = 0):
    """One histogram as `probes.histogram_rows` gives it (without importing TensorFlow)."""
    counts = np.asarray(counts, dtype=float)
    total = counts.sum() + below + above + nan
    every = np.concatenate([[below], counts, [above]])
    widths = np.concatenate([[np.nan], np.diff(edges), [np.nan]])
    return pd.DataFrame(
        {
            "side": ["below", *["inside"] * counts.size, "above"],
            "bin_start": [-np.inf, *edges[:-1], edges[-1]],
            "bin_end": [edges[0], *edges[1:], np.inf],
            "count": every,
            "share": every / total,
            "density": every / total / widths,
            "off_scale": (below + above + nan) / total,
        }
    )


BELL = [1, 4, 10, 20, 30, 30, 20, 10, 4, 1]  # 130 values in ten bins


def preactivation_frame(checkpoints: int = 4, leave: int = 0, scale: int = 1) -> pd.DataFrame:
    """Two runs on ten bins over [-3, 3] holding BELL × `scale` values; from checkpoint 1 on,
    run 2 has `leave` more values below the bins, so its off-scale share grows."""
    edges, frames = np.linspace(-3, 3, 11), []
    for index, run in enumerate(RUNS):
        for checkpoint in range(checkpoints):
            below = leave if index == 1 and checkpoint > 0 else 0
            rows = histogram_rows(edges, np.multiply(BELL, scale), below=below)
            frames.append(
                rows.assign(
                    run=run, checkpoint=checkpoint, step=checkpoint * 10, epoch=checkpoint / 4
                )
            )
    frame = pd.concat(frames, ignore_index=True)
    frame.loc[1, "density"] = np.nan
    return frame


def layers_frame(activation: str = "sigmoid") -> pd.DataFrame:
    rng, rows = _rng(), []
    for run in RUNS:
        for step in (0, 10, 20, 40):
            for layer in LAYERS:
                saturated = rng.uniform() if activation == "sigmoid" else np.nan
                dead = rng.uniform() if activation == "relu" else np.nan
                gradient = np.nan if step == 0 else rng.uniform(0.01, 10)
                ratio = np.nan if step == 0 else rng.uniform(1e-4, 1e-2)
                rows.append((run, step / 20, step, layer, saturated, dead, gradient, ratio))
    columns = ["run", "epoch", "step", "layer", "saturated_share", "dead_share"]
    return pd.DataFrame(rows, columns=[*columns, "gradient_norm", "update_ratio"])


def histogram_frame(nan: int = 0) -> pd.DataFrame:
    """Activations on [0, 1] in 20 bins, two runs × two layers; run 2 has `nan` NaN values."""
    edges, frames = np.linspace(0, 1, 21), []
    for index, run in enumerate(RUNS):
        for layer in LAYERS:
            counts = _rng().integers(0, 50, edges.size - 1)
            rows = histogram_rows(edges, counts, nan=nan if index == 1 else 0)
            frames.append(rows.assign(run=run, layer=layer))
    return pd.concat(frames, ignore_index=True)


def sweep_frame() -> pd.DataFrame:
    rows = []
    for value in (1.0, 10.0, 100.0, 255.0):
        diverged = value == 255.0
        rows.append((value, "val_accuracy", np.nan if diverged else 0.8, diverged))
        rows.append((value, "val_loss", np.nan if diverged else 0.5, diverged))
        rows.append((value, "saturation_at_init", value / 255, diverged))
    return pd.DataFrame(rows, columns=["value", "metric", "result", "diverged"])


def walk(node, key):
    """Every value stored under `key` anywhere in a nested spec."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                yield value
            yield from walk(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, key)


def fields(spec: dict) -> set[str]:
    return {value for value in walk(spec, "field") if isinstance(value, str)}


def rows(spec: dict) -> list[dict]:
    return [row for dataset in spec.get("datasets", {}).values() for row in dataset]


def numbers(spec: dict, column: str) -> list:
    return [row[column] for row in rows(spec) if column in row]


def has_log_scale(spec: dict) -> bool:
    return any(scale.get("type") == "log" for scale in walk(spec, "scale") if scale)


def color_fields(spec: dict) -> set[str]:
    return {color.get("field") for color in walk(spec, "color") if isinstance(color, dict)}


def assert_clean(spec: dict, *columns: str) -> None:
    for column in columns:
        values = numbers(spec, column)
        assert values, f"no {column} values in the inline data"
        assert all(v is not None and math.isfinite(v) for v in values), column


def assert_tooltips(spec: dict) -> None:
    assert list(walk(spec, "tooltip")), "no tooltips"


def layers(spec: dict) -> list[dict]:
    """Every single-mark chart inside a (layered, stacked) spec."""
    found = [spec] if "mark" in spec else []
    for key in ("layer", "vconcat", "hconcat"):
        for child in spec.get(key, []):
            found += layers(child)
    return found


def layer_rows(spec: dict, layer: dict) -> list[dict]:
    """The inline rows `layer` draws (a lone layer's data is hoisted to the top)."""
    data = layer.get("data") or spec.get("data") or {}
    return spec["datasets"].get(data.get("name"), [])


def mark(layer: dict) -> dict:
    return layer["mark"] if isinstance(layer["mark"], dict) else {"type": layer["mark"]}


def end_bar_layers(spec: dict) -> list[dict]:
    return [layer for layer in layers(spec) if "strokeDash" in mark(layer)]


def strip_layers(spec: dict) -> list[dict]:
    return [layer for layer in layers(spec) if mark(layer).get("color") == charts.OFF_SCALE_FILL]


def notes(spec: dict, panel: dict | None = None) -> list[dict]:
    """The rows of text marks that write notes (off-scale shares, coinciding runs), in `panel`
    of `spec` or in all of it."""
    return [
        row
        for layer in layers(panel if panel is not None else spec)
        if mark(layer)["type"] == "text" and "tip" in str(layer["encoding"].get("tooltip"))
        for row in layer_rows(spec, layer)
    ]


def bin_rows(spec: dict) -> list[dict]:
    """The rows the bins (bar marks without a dashed outline) draw."""
    bars = [layer for layer in layers(spec) if mark(layer)["type"] == "bar"]
    return [
        row
        for layer in bars
        if "strokeDash" not in mark(layer)
        for row in layer_rows(spec, layer)
        if row.get("side") == "inside"
    ]


def end_rows(spec: dict) -> list[dict]:
    return [row for layer in end_bar_layers(spec) for row in layer_rows(spec, layer)]


def y_domains(spec: dict) -> list:
    return [
        y["scale"]["domain"]
        for y in walk(spec, "y")
        if isinstance(y, dict) and isinstance(y.get("scale"), dict) and "domain" in y["scale"]
    ]


def test_curves_two_panels_log_loss_run_colours_split_dashes():
    spec = charts.curves_chart(curves_frame()).to_dict()
    assert len(spec["vconcat"]) == 2
    assert {"epoch", "value", "run", "split"} <= fields(spec)
    assert has_log_scale(spec["vconcat"][0]) and not has_log_scale(spec["vconcat"][1])
    assert "run" in color_fields(spec)
    assert any(dash.get("field") == "split" for dash in walk(spec, "strokeDash"))
    assert_tooltips(spec)
    assert_clean(spec, "value")
    assert {row["run"] for row in rows(spec)} == set(RUNS)
    domains = [c["scale"]["domain"] for c in walk(spec, "color") if "scale" in c]
    assert domains and all(domain == list(RUNS) for domain in domains)
    assert spec["vconcat"][0]["width"] == "container"


def test_curves_drop_non_positive_loss_for_the_log_scale():
    frame = curves_frame()
    frame.loc[(frame["metric"] == "loss") & (frame["step"] == 0), "value"] = 0.0
    spec = charts.curves_chart(frame).to_dict()
    loss_data = spec["datasets"][spec["vconcat"][0]["data"]["name"]]
    assert loss_data and all(row["value"] > 0 for row in loss_data)


def test_step_loss_log_y_and_max_step():
    spec = charts.step_loss_chart(step_loss_frame(), max_step=100).to_dict()
    assert {"step", "loss", "run"} <= fields(spec)
    assert has_log_scale(spec) and "run" in color_fields(spec)
    assert_tooltips(spec)
    assert_clean(spec, "loss")
    assert max(numbers(spec, "step")) == 100
    assert len(rows(spec)) == 100 + 1  # the diverged run keeps its one finite step


def test_preactivation_slider_param_filter_and_step_label():
    spec = charts.preactivation_chart(preactivation_frame(checkpoints=4)).to_dict()
    params = {param["name"]: param for param in spec["params"]}
    binding = params["checkpoint"]["bind"]
    assert binding["input"] == "range" and binding["min"] == 0 and binding["max"] == 3
    assert binding["step"] == 1 and params["checkpoint"]["value"] == 0
    filters = [f for f in walk(spec, "filter") if "datum.checkpoint" in str(f)]
    assert filters == ["(datum.checkpoint === checkpoint)"] * 2  # the bars and the step label
    assert {"x_start", "x_end", "height", "run", "range"} <= fields(spec)
    titles = set(walk(spec, "title"))
    assert charts.PREACTIVATION_TITLE in titles and "density" in titles
    assert any("step" in str(calc) for calc in walk(spec, "calculate"))
    assert "run" in color_fields(spec)
    assert_tooltips(spec)
    assert_clean(spec, "height", "x_start", "x_end")
    assert spec["width"] == "container"
    # Nothing off scale: no end bars, no grey strips, no note.
    assert not end_bar_layers(spec) and not strip_layers(spec) and not notes(spec)


def test_preactivation_stats_mean_and_log_std():
    history = pd.DataFrame(
        {
            "run": [RUNS[0]] * 3 + [RUNS[1]] * 3,
            "epoch": [0, 0.5, 1] * 2,
            "z_mean": [0.1, 0.2, 0.3, 50.0, np.nan, np.nan],
            "z_std": [1.0, 1.1, 1.2, 300.0, np.inf, np.nan],
        }
    )
    spec = charts.preactivation_stats_chart(history).to_dict()
    mean_panel, std_panel = spec["vconcat"]
    assert {"z_mean", "z_std", "epoch", "run"} <= fields(spec)
    assert has_log_scale(std_panel) and not has_log_scale(mean_panel)
    assert_clean(spec, "z_mean", "z_std")
    assert_tooltips(spec)


@pytest.mark.parametrize(("activation", "measure"), [("sigmoid", "saturated"), ("relu", "dead")])
def test_saturation_keeps_only_the_measure_with_data(activation, measure):
    spec = charts.saturation_chart(layers_frame(activation)).to_dict()
    assert len(spec["vconcat"]) == 1
    assert measure in spec["vconcat"][0]["encoding"]["y"]["title"]
    assert {"share", "epoch", "layer", "run"} <= fields(spec)
    assert spec["vconcat"][0]["encoding"]["y"]["axis"]["format"] == "%"
    assert "run" in color_fields(spec)
    assert_clean(spec, "share")
    assert_tooltips(spec)


def test_saturation_without_a_dead_share_column():
    spec = charts.saturation_chart(layers_frame("sigmoid").drop(columns="dead_share")).to_dict()
    assert len(spec["vconcat"]) == 1


def test_saturation_all_nan_gives_no_data():
    frame = layers_frame("sigmoid").assign(saturated_share=np.nan)
    spec = charts.saturation_chart(frame).to_dict()
    assert "no data" in str(spec["datasets"])


def test_gradients_two_log_panels_without_step_zero_nan():
    spec = charts.gradients_chart(layers_frame()).to_dict()
    assert len(spec["vconcat"]) == 2
    assert all(has_log_scale(panel) for panel in spec["vconcat"])
    assert {"gradient_norm", "update_ratio", "layer", "epoch", "run"} <= fields(spec)
    assert any(dash.get("field") == "layer" for dash in walk(spec, "strokeDash"))
    assert_clean(spec, "gradient_norm", "update_ratio")
    assert 0 not in numbers(spec, "step")
    assert_tooltips(spec)


def test_activation_histogram_panels_per_layer_with_saturation_band():
    spec = charts.activation_histogram_chart(
        histogram_frame(), title="at init", saturation_band=(0.05, 0.95)
    ).to_dict()
    assert len(spec["vconcat"]) == len(LAYERS) and spec["title"] == "at init"
    assert {"x_start", "x_end", "height", "run"} <= fields(spec)
    bands = [row for row in rows(spec) if "tail" in row]
    assert {(row["start"], row["end"]) for row in bands} == {(0.0, 0.05), (0.95, 1.0)}
    assert "run" in color_fields(spec)
    assert_tooltips(spec)
    assert not notes(spec)


def test_activation_histogram_writes_the_nan_share_per_panel():
    """NaN activations are off scale: the bins keep their density over all values."""
    spec = charts.activation_histogram_chart(histogram_frame(nan=200)).to_dict()
    for panel in spec["vconcat"]:
        texts = [row["text"] for row in notes(spec, panel)]
        assert len(texts) == 1 and texts[0].startswith(RUNS[1] + ": ")
        assert texts[0].endswith("% off scale")


def test_values_histogram_bins_and_band():
    values = 1 / (1 + np.exp(-_rng().normal(0, 8, 256)))  # sigmoid outputs piling at 0 and 1
    frame = pd.DataFrame({"value": values})
    spec = charts.values_histogram_chart(
        frame, "sigmoid output", saturation_band=(0.05, 0.95), value_range=(0.0, 1.0)
    ).to_dict()
    bars = bin_rows(spec)
    assert len(bars) == charts.VALUE_BINS and sum(row["height"] for row in bars) == 256
    assert bars[0]["x_start"] == 0.0 and bars[-1]["x_end"] == 1.0
    assert bars[1]["x_start"] == pytest.approx(0.05)  # bins line up with the saturation band
    assert "sigmoid output" in set(walk(spec, "title"))
    assert len(numbers(spec, "tail")) == 2
    assert_clean(spec, "height")
    assert_tooltips(spec)
    assert not end_bar_layers(spec) and not notes(spec)
    with_runs = charts.values_histogram_chart(frame.assign(run=RUNS[0]), "z").to_dict()
    assert "run" in color_fields(with_runs)


def test_values_histogram_tallest_bar_fits_under_the_top():
    """B1's picture: the spike at 0 (or 1) is the tallest bar; the axis ends above it."""
    values = np.concatenate([np.full(110, 0.01), np.full(107, 0.99), np.linspace(0.1, 0.9, 39)])
    spec = charts.values_histogram_chart(
        pd.DataFrame({"value": values}), "output", value_range=(0.0, 1.0)
    ).to_dict()
    tallest = max(row["height"] for row in bin_rows(spec))
    assert tallest == 110
    (top,) = {tuple(d) for d in y_domains(spec)}
    assert top[0] == 0 and top[1] == pytest.approx(110 * charts.HEADROOM) and top[1] > tallest


def test_values_histogram_counts_infinities_at_the_ends_and_nan_in_the_share():
    values = np.concatenate([_rng().normal(0, 1, 1_000), [np.inf, -np.inf, np.nan] * 5])
    spec = charts.values_histogram_chart(pd.DataFrame({"value": values}), "z").to_dict()
    assert sum(row["height"] for row in bin_rows(spec)) == 1_000
    ends = end_rows(spec)
    assert {row["side"]: row["count"] for row in ends} == {"below": 5, "above": 5}
    assert [row["text"] for row in notes(spec)] == ["1.5% of values off scale"]
    labels = [axis["labelExpr"] for axis in walk(spec, "axis") if axis and "labelExpr" in axis]
    assert labels and "< −" in labels[0] and "> " in labels[0]


def test_pixel_histogram_with_and_without_run():
    edges = np.linspace(0, 255, 11)
    frame = pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "count": np.arange(10)})
    spec = charts.pixel_histogram_chart(frame).to_dict()
    assert {"x_start", "x_end", "height"} <= fields(spec)
    assert_tooltips(spec)
    assert [tuple(d) for d in y_domains(spec)] == [(0, pytest.approx(9 * charts.HEADROOM))]
    spec = charts.pixel_histogram_chart(frame.assign(run=RUNS[1])).to_dict()
    assert "run" in color_fields(spec)


def test_final_metrics_horizontal_bars_keep_every_run_on_the_axis():
    frame = pd.DataFrame(
        {
            "run": [*RUNS, *RUNS],
            "metric": ["val_accuracy"] * 2 + ["val_loss"] * 2,
            "value": [0.85, np.nan, 0.4, np.inf],
        }
    )
    spec = charts.final_metrics_chart(frame).to_dict()
    accuracy, loss = spec["vconcat"]
    assert loss["encoding"]["x"]["title"] == "val_loss"
    assert accuracy["encoding"]["y"]["field"] == "run"
    assert accuracy["encoding"]["x"]["field"] == "value"
    assert accuracy["encoding"]["y"]["scale"]["domain"] == list(RUNS)
    assert accuracy["encoding"]["x"]["axis"]["format"] == "%"
    assert_clean(spec, "value")
    assert_tooltips(spec)


@pytest.mark.parametrize("log_x", [True, False])
def test_sweep_panels_per_metric_with_diverged_marks(log_x):
    spec = charts.sweep_chart(sweep_frame(), "input_divisor", log_x=log_x).to_dict()
    assert len(spec["vconcat"]) == 3
    assert {"value", "result", "status"} <= fields(spec)
    x_scales = [x.get("scale", {}) for x in walk(spec, "x") if isinstance(x, dict)]
    assert any(scale.get("type") == ("log" if log_x else "linear") for scale in x_scales)
    assert "input_divisor" in set(walk(spec, "title"))
    assert has_log_scale(spec["vconcat"][1])  # val_loss
    assert any(charts.DIVERGED_COLOR in scale.get("range", []) for scale in walk(spec, "scale"))
    drawn = [row for row in rows(spec) if row.get("diverged")]
    assert len(drawn) == 3  # accuracy and loss at the edge, saturation at its value
    assert_tooltips(spec)


@pytest.mark.parametrize(
    ("builder", "columns"),
    [
        (charts.curves_chart, ["run", "step", "epoch", "split", "metric", "value"]),
        (charts.step_loss_chart, ["run", "step", "loss"]),
        (charts.preactivation_chart, ["run", "checkpoint", "step", "epoch", "bin_start"]),
        (charts.preactivation_stats_chart, ["run", "epoch", "z_mean", "z_std"]),
        (charts.saturation_chart, ["run", "epoch", "step", "layer", "saturated_share"]),
        (charts.gradients_chart, ["run", "epoch", "step", "layer", "gradient_norm"]),
        (charts.activation_histogram_chart, ["run", "layer", "bin_start", "bin_end"]),
        (lambda df: charts.values_histogram_chart(df, "x"), ["value"]),
        (charts.pixel_histogram_chart, ["bin_start", "bin_end", "count"]),
        (charts.final_metrics_chart, ["run", "metric", "value"]),
        (lambda df: charts.sweep_chart(df, "lr", log_x=True), ["value", "metric", "result"]),
    ],
)
@pytest.mark.parametrize("with_columns", [True, False])
def test_empty_frames_still_serialize(builder, columns, with_columns):
    frame = pd.DataFrame(columns=columns if with_columns else [])
    spec = builder(frame).to_dict()
    assert "no data" in str(spec)


def test_all_non_finite_frame_gives_no_data():
    frame = curves_frame().assign(value=np.nan)
    assert "no data" in str(charts.curves_chart(frame).to_dict())


def test_missing_columns_name_them():
    with pytest.raises(ValueError, match="loss"):
        charts.step_loss_chart(pd.DataFrame({"run": ["a"], "step": [1]}))


TWINS = ("1 · inputs ÷255", "2 · weights ÷255", "3 · weights ÷255, corrected")


def test_first_step_ratio_bars_on_a_log_axis():
    frame = pd.DataFrame(
        {
            "run": TWINS,
            "update_ratio": [0.013, 845.0, 0.013],
            "ratio_to_first": [1.0, 65025.0, 1.0],
        }
    )
    spec = charts.first_step_ratio_chart(frame).to_dict()
    assert {"run", "update_ratio"} <= fields(spec)
    assert has_log_scale(spec) and "run" in color_fields(spec)
    assert [row["run"] for row in rows(spec)] == list(TWINS)
    tooltips = [tip for tips in walk(spec, "tooltip") for tip in tips]
    assert any(tip.get("field") == "ratio_to_first" for tip in tooltips)
    empty = frame.assign(update_ratio=[np.nan, 0.0, -1.0])  # nothing plottable on a log axis
    assert "no data" in str(charts.first_step_ratio_chart(empty).to_dict())


def test_loss_gap_log_y_keeps_zero_gaps_and_the_colour_domain():
    frame = pd.DataFrame(
        {
            "run": [TWINS[1]] * 3 + [TWINS[2]] * 3,
            "step": [1, 2, 3] * 2,
            "gap": [0.0, 1.5, np.inf, 0.0, 2e-7, 0.0],
        }
    )
    spec = charts.loss_gap_chart(frame, runs=TWINS).to_dict()
    assert has_log_scale(spec) and {"step", "shown", "run"} <= fields(spec)
    shown = numbers(spec, "shown")
    assert len(shown) == 5 and min(shown) == charts.GAP_FLOOR  # inf dropped, zeros floored
    domains = [c["scale"]["domain"] for c in walk(spec, "color") if "scale" in c]
    assert domains == [list(TWINS)]
    assert_tooltips(spec)


def test_sweep_names_dead_units_at_init():
    frame = sweep_frame().replace({"metric": {"saturation_at_init": "dead_at_init"}})
    spec = charts.sweep_chart(frame, "learning rate").to_dict()
    assert "dead units at init" in set(walk(spec, "title"))


@pytest.mark.parametrize(
    ("builder", "columns"),
    [
        (charts.first_step_ratio_chart, ["run", "update_ratio"]),
        (charts.loss_gap_chart, ["run", "step", "gap"]),
    ],
)
@pytest.mark.parametrize("with_columns", [True, False])
def test_new_builders_serialize_empty_frames(builder, columns, with_columns):
    frame = pd.DataFrame(columns=columns if with_columns else [])
    assert "no data" in str(builder(frame).to_dict())


# --- Honest histograms: what leaves the bins is drawn and written, not dropped.


def test_preactivation_mass_off_scale_is_an_end_bar_and_a_note():
    """A2 at step 5: most of its z left the bins fixed at init. The bins it keeps shrink (density
    over all values), the end bar holds the rest, and the chart says how much."""
    frame = preactivation_frame(checkpoints=3, leave=130 * 142)  # 99.3% of run 2 below
    spec = charts.preactivation_chart(frame).to_dict()
    (end_layer,) = end_bar_layers(spec)
    assert "datum.checkpoint === checkpoint" in str(end_layer["transform"])  # follows the slider
    ends = end_rows(spec)
    assert {(row["run"], row["side"], row["checkpoint"]) for row in ends} == {
        (RUNS[1], "below", 1),
        (RUNS[1], "below", 2),
    }
    end = ends[0]
    assert (
        end["range"] == "< −3"
        and end["x_end"] < -3
        and end["share"] == pytest.approx(0.993, abs=1e-4)
    )
    width = 0.6  # a bin
    assert end["height"] * charts.OVERFLOW_BINS * width == pytest.approx(end["share"])  # area
    kept = [row for row in bin_rows(spec) if row["run"] == RUNS[1] and row["checkpoint"] == 1]
    assert sum(row["height"] * width for row in kept) == pytest.approx(1 - end["share"])
    assert len(strip_layers(spec)) == 1
    texts = {(row["checkpoint"], row["text"]) for row in notes(spec)}
    assert texts == {(1, f"{RUNS[1]}: 99.3% off scale"), (2, f"{RUNS[1]}: 99.3% off scale")}
    x_axis = next(x["axis"] for x in walk(spec, "x") if isinstance(x, dict) and "axis" in x)
    assert '"< −3"' in x_axis["labelExpr"]
    # The y axis spans every checkpoint's tallest bar, the end bar included.
    (domain,) = {tuple(d) for d in y_domains(spec) if d[0] == 0}
    assert domain[1] == pytest.approx(end["height"] * charts.HEADROOM)


@pytest.mark.parametrize(("leave", "written"), [(0, False), (1, False), (60, False), (70, True)])
def test_off_scale_share_is_written_from_the_threshold(leave, written):
    """13,000 values in the bins: 60 more below is 0.46%, 70 is 0.54% (OFF_SCALE_NOTE is 0.5%).
    Even one value off scale gets its end bar."""
    spec = charts.preactivation_chart(preactivation_frame(2, leave=leave, scale=100)).to_dict()
    assert bool(notes(spec)) == written
    assert bool(end_bar_layers(spec)) == (leave > 0)


# --- Charts a learner can read.


def blown_up_curves() -> pd.DataFrame:
    """Two runs that learn (losses 2.3 → 0.3) and one that reaches 1e35 before it diverged."""
    rows = []
    for run, end in (("A1", 0.3), ("A3", 0.31)):
        for step, loss in zip(range(0, 50, 10), np.geomspace(2.3, end, 5), strict=True):
            rows += [(run, step, step / 40, "train", "loss", loss, False)]
            rows += [(run, step, step / 40, "train", "accuracy", 1 - loss / 3, False)]
    for step, loss in ((0, 2.3), (1, 1e12), (2, 1e35)):
        rows += [("A2", step, step / 40, "train", "loss", loss, True)]
        rows += [("A2", step, step / 40, "train", "accuracy", 0.1, True)]
    columns = ["run", "step", "epoch", "split", "metric", "value", "diverged"]
    return pd.DataFrame(rows, columns=columns)


def test_a_blown_up_run_does_not_flatten_the_runs_that_learned():
    spec = charts.curves_chart(blown_up_curves()).to_dict()
    loss_panel = spec["vconcat"][0]
    low, high = loss_panel["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert 0.2 < low < 0.3 and 2.3 < high < 3.0  # the learners' range, not 0.3–1e35
    triangles = [layer for layer in layers(loss_panel) if mark(layer)["type"] == "point"]
    (off,) = [layer_rows(spec, layer) for layer in triangles]
    assert [(row["run"], row["value"]) for row in off] == [("A2", 1e12), ("A2", 1e35)]
    assert all(row["edge"] == high for row in off)  # drawn on the top edge
    assert triangles[0]["encoding"]["shape"]["scale"]["range"][0] == "triangle-up"
    assert [row["text"] for row in notes(spec)] == ["off scale: A2 reaches 1e+35"]
    assert mark(loss_panel["layer"][0])["clip"] is True  # its line stops at the edge


def test_a_run_flagged_diverged_sets_no_axis_even_with_modest_losses():
    frame = blown_up_curves()
    frame.loc[frame["run"] == "A2", "value"] = frame.loc[frame["run"] == "A2", "value"].clip(
        upper=9.0
    )
    spec = charts.curves_chart(frame).to_dict()
    _, high = spec["vconcat"][0]["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert high < 3.0 and [row["text"] for row in notes(spec)] == ["off scale: A2 reaches 9"]
    frame["diverged"] = False  # not diverged and below BLOWN_UP_LOSS: it sets the axis
    spec = charts.curves_chart(frame).to_dict()
    _, high = spec["vconcat"][0]["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert high > 9.0 and not notes(spec)


def test_step_loss_clips_to_the_runs_that_learned():
    frame = pd.DataFrame(
        {
            "run": ["A1"] * 3 + ["A2"] * 4,
            "step": [1, 2, 3, 1, 2, 3, 4],
            "loss": [2.3, 1.0, 0.5, 2.3, 1e20, 1e35, np.inf],
            "diverged": [False] * 3 + [True] * 4,
        }
    )
    spec = charts.step_loss_chart(frame).to_dict()
    _, high = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert high < 3.0
    assert [row["text"] for row in notes(spec)] == ["off scale: A2 reaches 1e+35"]


def test_accuracy_runs_from_0_to_100_percent_and_draws_nothing_outside():
    spec = charts.curves_chart(curves_frame()).to_dict()
    accuracy = spec["vconcat"][1]
    y = accuracy["encoding"]["y"]
    assert y["scale"]["domain"] == [0, 1] and y["scale"]["clamp"] is True
    assert y["axis"]["format"] == "%"
    assert mark(accuracy)["clip"] is True and mark(accuracy)["point"]["clip"] is True


def log_axes(spec: dict) -> list[dict]:
    """Every x or y encoding on a log scale."""
    return [
        channel
        for name in ("x", "y")
        for channel in walk(spec, name)
        if isinstance(channel, dict)
        and isinstance(channel.get("scale"), dict)
        and channel["scale"].get("type") == "log"
    ]


def narrow_loss_curves() -> pd.DataFrame:
    """B2 and B3: MSE losses between 0.0905 and 0.094, inside one decade and one 1-2-5 step."""
    frame = curves_frame()
    loss = frame["metric"] == "loss"
    frame.loc[loss, "value"] = np.linspace(0.0905, 0.094, loss.sum())
    return frame


LOG_CHARTS = {
    "curves": lambda: charts.curves_chart(narrow_loss_curves()),
    "curves blown up": lambda: charts.curves_chart(blown_up_curves()),
    "step loss": lambda: charts.step_loss_chart(step_loss_frame()),
    "std of z": lambda: charts.preactivation_stats_chart(
        pd.DataFrame(
            {"run": "A2", "epoch": [0.0, 0.1, 0.2], "z_mean": 0.0, "z_std": [1, 1e10, 1e22]}
        )
    ),
    "gradients": lambda: charts.gradients_chart(layers_frame()),
    "sweep": lambda: charts.sweep_chart(sweep_frame(), "input_divisor", log_x=True),
    "first step": lambda: charts.first_step_ratio_chart(
        pd.DataFrame({"run": TWINS, "update_ratio": [0.013, 845.0, 0.013]})
    ),
    "loss gap": lambda: charts.loss_gap_chart(
        pd.DataFrame({"run": TWINS[1], "step": [1, 2, 3], "gap": [0.0, 1.5, 3e35]})
    ),
}


@pytest.mark.parametrize("name", list(LOG_CHARTS))
def test_every_log_axis_has_labelled_ticks_inside_it_in_one_format(name):
    spec = LOG_CHARTS[name]().to_dict()
    axes = log_axes(spec)
    assert axes, "no log axis"
    for channel in axes:
        low, high = channel["scale"]["domain"]
        ticks = channel["axis"]["values"]
        assert ticks and all(low <= tick <= high for tick in ticks), (ticks, low, high)
        assert len(ticks) <= charts.LOG_TICKS + 1
        assert channel["axis"]["labelExpr"] == charts.LOG_LABELS


def test_a_narrow_loss_range_still_gets_several_ticks():
    spec = charts.curves_chart(narrow_loss_curves()).to_dict()
    (y,) = [axis for axis in log_axes(spec["vconcat"][0]) if "axis" in axis][:1]
    assert len(y["axis"]["values"]) >= 3  # Vega's own log ticks show none on 0.09–0.094


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1e-3, 1e35, [1e-3, 1e2, 1e7, 1e12, 1e17, 1e22, 1e27, 1e32]),
        (0.25, 2.5, [0.5, 1.0, 2.0]),
        (0.55, 2.5, [0.6, 0.7, 0.8, 0.9, 1.0, 2.0]),
        (0.0905, 0.094, [0.091, 0.092, 0.093, 0.094]),
    ],
)
def test_log_ticks(low, high, expected):
    assert charts._log_ticks(low, high) == pytest.approx(expected)


def test_one_log_label_format_for_every_magnitude():
    """No "10,000,000,000" beside "1e+35": plain numbers for 0.001 to 9,999, exponents beyond."""
    assert "'.3~e'" in charts.LOG_LABELS and "'.4~g'" in charts.LOG_LABELS
    assert "1e4" in charts.LOG_LABELS and "1e-3" in charts.LOG_LABELS
    assert charts.LOG_LABELS.startswith("datum.value != 0 &&")  # 0 stays "0", not "0e+0"
    # z's mean (linear) goes to −6e+20 in a blown-up run: labelled the same way.
    history = pd.DataFrame({"run": "A2", "epoch": [0.0, 0.1], "z_mean": [0.0, -6e20], "z_std": 1.0})
    mean_panel = charts.preactivation_stats_chart(history).to_dict()["vconcat"][0]
    assert mean_panel["encoding"]["y"]["axis"]["labelExpr"] == charts.LOG_LABELS


def coinciding_curves() -> pd.DataFrame:
    frame = blown_up_curves()
    a1 = frame[frame["run"] == "A1"]
    a3 = a1.assign(run="A3", value=a1["value"] + np.where(a1["metric"] == "loss", 2e-7, 0))
    return pd.concat([a1, frame[frame["run"] == "A2"], a3], ignore_index=True)


def test_a_run_hidden_under_another_is_named_with_the_gap():
    coincident = pd.DataFrame({"run": ["A3"], "reference": ["A1"], "loss_gap": [2e-7]})
    spec = charts.curves_chart(coinciding_curves(), coincident).to_dict()
    texts = [row["text"] for row in notes(spec)]
    assert texts == [
        "off scale: A2 reaches 1e+35",
        "A3 coincides with A1: largest gap 2e-7 in loss",
    ]
    assert {row["run"] for row in notes(spec)} == {"A2", "A3"}  # each in its run's colour
    assert not notes(charts.curves_chart(coinciding_curves().query("run != 'A2'")).to_dict())


# --- seed bands in the labs' charts ------------------------------------------------------------


def sweep_band_frame(seeds: int = 3) -> pd.DataFrame:
    """`sweep.band_table`'s columns: 255 diverged on every seed, 100 on one of them."""
    rows = []
    for value in (1.0, 10.0, 100.0, 255.0):
        every, some = value == 255.0, int(value == 100.0 and seeds > 1)
        for metric, mean in (("val_accuracy", 0.8), ("val_loss", 0.5), ("saturation_at_init", 0.3)):
            lost = every and metric != "saturation_at_init"
            low, high = (np.nan, np.nan) if lost else (mean * 0.9, mean * 1.1)
            if seeds == 1:
                low = high = mean
            result = np.nan if lost else mean
            diverged_seeds = seeds if every else some
            rows.append((value, metric, result, low, high, seeds, diverged_seeds, every))
    columns = ["value", "metric", "result", "low", "high", "seeds", "diverged_seeds", "diverged"]
    return pd.DataFrame(rows, columns=columns)


def error_bars(spec: dict) -> list[dict]:
    """The error-bar layers of a spec (a mark given as a name or as a dict with its type)."""
    return [
        layer
        for layer in layers(spec)
        if layer["mark"] == "errorbar"
        or (isinstance(layer["mark"], dict) and layer["mark"]["type"] == "errorbar")
    ]


def test_sweep_bands_draw_min_max_error_bars_and_count_diverged_seeds():
    spec = charts.sweep_chart(sweep_band_frame(), "input_divisor", log_x=True).to_dict()
    bars = error_bars(spec)
    assert len(bars) == 3  # one per panel
    assert {bar["encoding"]["y"]["field"] for bar in bars} == {"low"}
    assert {bar["encoding"]["y2"]["field"] for bar in bars} == {"high"}
    statuses = {row["status"] for row in rows(spec)}
    assert statuses == {"trained", "diverged", "some seeds diverged"}
    partly = [row for row in rows(spec) if row["status"] == "some seeds diverged"]
    assert {row["diverged_words"] for row in partly} == {"1 of 3 seeds"}
    tips = {tip.get("title") for tips in walk(spec, "tooltip") for tip in tips}
    assert {"mean over seeds", "min–max over seeds", "seeds"} <= tips
    assert any(charts.PARTLY_DIVERGED_COLOR in s.get("range", []) for s in walk(spec, "scale"))
    # The loss axis reaches the bars' ends, not only the means.
    loss_y = next(axis for axis in log_axes(spec["vconcat"][1]) if axis["field"] == "result")
    low, high = loss_y["scale"]["domain"]
    assert low < 0.45 and high > 0.55


def test_a_sweep_with_one_seed_is_the_plain_chart():
    banded = charts.sweep_chart(sweep_band_frame(seeds=1), "input_divisor").to_dict()
    plain = charts.sweep_chart(sweep_frame(), "input_divisor").to_dict()
    assert not error_bars(banded) and not error_bars(plain)
    for spec in (banded, plain):
        assert {row["status"] for row in rows(spec)} == {"trained", "diverged"}
        scales = [s for s in walk(spec, "scale") if charts.DIVERGED_COLOR in s.get("range", [])]
        assert all(charts.PARTLY_DIVERGED_COLOR not in s["range"] for s in scales)


def test_first_step_band_draws_error_bars_over_the_mean_bars():
    frame = pd.DataFrame(
        {
            "run": TWINS,
            "update_ratio": [0.013, 845.0, 0.013],
            "update_ratio_low": [0.011, 700.0, 0.011],
            "update_ratio_high": [0.015, 990.0, 0.015],
            "ratio_to_first": [1.0, 65025.0, 1.0],
            "seeds": [2, 2, 2],
        }
    )
    spec = charts.first_step_ratio_chart(frame).to_dict()
    (bar,) = error_bars(spec)
    assert (bar["encoding"]["x"]["field"], bar["encoding"]["x2"]["field"]) == (
        "update_ratio_low",
        "update_ratio_high",
    )
    x = next(axis for axis in log_axes(spec) if axis["field"] == "update_ratio")
    assert x["scale"]["domain"][1] >= 990  # the longest bar's end is on the axis
    one_seed = frame.assign(seeds=1)
    assert not error_bars(charts.first_step_ratio_chart(one_seed).to_dict())
    assert not error_bars(charts.first_step_ratio_chart(frame[["run", "update_ratio"]]).to_dict())
