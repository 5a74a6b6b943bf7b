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


def preactivation_frame(checkpoints: int = 4) -> pd.DataFrame:
    edges = np.linspace(-3, 3, 11)
    rows = []
    for run in RUNS:
        for checkpoint in range(checkpoints):
            density = _rng().uniform(0, 1, edges.size - 1)
            for start, end, value in zip(edges[:-1], edges[1:], density, strict=True):
                rows.append((run, checkpoint, checkpoint * 10, checkpoint / 4, start, end, value))
    columns = ["run", "checkpoint", "step", "epoch", "bin_start", "bin_end", "density"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.loc[0, "density"] = np.nan
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


def histogram_frame() -> pd.DataFrame:
    edges, rows = np.linspace(0, 1, 21), []
    for run in RUNS:
        for layer in LAYERS:
            density = _rng().uniform(0, 5, edges.size - 1)
            bins = zip(edges[:-1], edges[1:], density, strict=True)
            rows += [(run, layer, start, end, value) for start, end, value in bins]
    return pd.DataFrame(rows, columns=["run", "layer", "bin_start", "bin_end", "density"])


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
    assert {"bin_start", "bin_end", "density", "run"} <= fields(spec)
    titles = set(walk(spec, "title"))
    assert charts.PREACTIVATION_TITLE in titles and "density" in titles
    assert any("step" in str(calc) for calc in walk(spec, "calculate"))
    assert "run" in color_fields(spec)
    assert_tooltips(spec)
    assert_clean(spec, "density")
    assert spec["width"] == "container"


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
    assert {"bin_start", "bin_end", "density", "run"} <= fields(spec)
    bands = [row for row in rows(spec) if "tail" in row]
    assert {(row["start"], row["end"]) for row in bands} == {(0.0, 0.05), (0.95, 1.0)}
    assert "run" in color_fields(spec)
    assert_tooltips(spec)


def test_values_histogram_bins_and_band():
    values = 1 / (1 + np.exp(-_rng().normal(0, 8, 256)))  # sigmoid outputs piling at 0 and 1
    frame = pd.DataFrame({"value": np.append(values, np.nan)})
    spec = charts.values_histogram_chart(frame, "sigmoid output", saturation_band=(0.05, 0.95))
    spec = spec.to_dict()
    bins = [b for b in walk(spec, "bin") if isinstance(b, dict)]
    assert bins and all(b["maxbins"] == 40 for b in bins)
    assert "sigmoid output" in set(walk(spec, "title"))
    assert len(numbers(spec, "value")) == 256 and len(numbers(spec, "tail")) == 2
    assert_clean(spec, "value")
    assert_tooltips(spec)
    with_runs = charts.values_histogram_chart(frame.assign(run=RUNS[0]), "z").to_dict()
    assert "run" in color_fields(with_runs)


def test_pixel_histogram_with_and_without_run():
    edges = np.linspace(0, 255, 11)
    frame = pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "count": np.arange(10)})
    spec = charts.pixel_histogram_chart(frame).to_dict()
    assert {"bin_start", "bin_end", "count"} <= fields(spec)
    assert_tooltips(spec)
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
