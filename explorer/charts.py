"""Altair chart builders: each takes a small long-format DataFrame and returns a chart.

Pure functions, no Streamlit: the app passes the result to `st.altair_chart`. Colour is always
the run label, with the same colours in every chart of one comparison (the colour domain keeps
the frame's order of runs even where a diverged run has nothing left to draw). Non-finite values
(diverged runs) are dropped before plotting; a frame with nothing left gives a "no data" chart.
Every view asks for width="container" with a fixed height, so `st.altair_chart(chart,
use_container_width=True)` (or width="stretch") fills the column; multi-panel charts are vertical
stacks, which Streamlit stretches, rather than facets or side-by-side panels, which it cannot.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

HEIGHT = 300  # single-panel charts
PANEL_HEIGHT = 240  # each panel of a stacked chart
BAR_STEP = 26  # pixels per run in horizontal bar charts
OPACITY = 0.5  # overlaid histograms
POINTS = alt.OverlayMarkDef(size=14, filled=False)  # hollow, so dash legends draw strokes
BAND_COLOR = "#c8c8c8"
TRAINED_COLOR = "#4c78a8"
DIVERGED_COLOR = "#d62728"
X_SHAPE = "M-1,-1L1,1M1,-1L-1,1"  # an "x" as an SVG path; Vega scales it to the mark's size
RUN_LEGEND = alt.Legend(orient="bottom", direction="vertical", labelLimit=600, title=None)
BOTTOM_LEGEND = alt.Legend(orient="bottom", labelLimit=300)
# Losses on a log scale, not widened to whole decades: an MSE loss that moves from 0.09 to 0.07
# would otherwise sit in a thin strip of a 0.01–0.1 axis.
LOSS_SCALE = alt.Scale(type="log", nice=False)
DASH_LEGEND = alt.Legend(
    orient="bottom", symbolType="stroke", symbolStrokeColor="#555", symbolStrokeWidth=2
)
RUN_SCHEME = "tableau10"  # distinct hues; Streamlit's theme would otherwise start with two blues
PREACTIVATION_TITLE = "first-layer pre-activation z = x·W + b"
SATURATION_MEASURES = {
    "saturated_share": "saturated (sigmoid/tanh)",
    "dead_share": "dead units (ReLU-like)",
}
SWEEP_METRICS = {
    "val_accuracy": "validation accuracy",
    "val_loss": "validation loss",
    "saturation_at_init": "saturated share at init",
    "dead_at_init": "dead units at init",
}
SHARE_WORDS = ("accuracy", "saturat", "share", "dead")  # metrics shown as percentages on 0–1
STATUS = ["trained", "diverged"]
BIN_TIPS = (("bin_start", "from"), ("bin_end", "to"))  # histogram tooltip fields and titles
LABEL_COLOR = "#444"
GAP_FLOOR = 1e-9  # a gap of exactly 0 (bit-identical twins) is drawn here on the log axis
HISTOGRAM_X = alt.Scale(zero=False, padding=0)  # bars otherwise pad the axis by a bar's width
# Size to the container's width only: a stack of layered panels is otherwise as wide as the
# container plus its axes (it overflows), and a single view shrinks its plot to fit the legend
# into `height`.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")


# Keeps the named columns and drops rows whose `finite`/`positive` columns cannot be plotted.
def _clean(
    df: pd.DataFrame,
    columns: Sequence[str],
    finite: Sequence[str] = (),
    positive: Sequence[str] = (),
) -> pd.DataFrame:
    """Needs `columns` unless `df` is empty; `positive` columns must also be > 0 (log scales)."""
    missing = [column for column in columns if column not in df.columns]
    if missing:
        if len(df):
            raise ValueError(f"chart data lacks columns {missing}; it has {list(df.columns)}")
        return pd.DataFrame(columns=list(columns))
    out = df.loc[:, list(columns)].copy()
    keep = np.ones(len(out), dtype=bool)
    for column in dict.fromkeys([*finite, *positive]):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
        keep &= np.isfinite(out[column].to_numpy())
    for column in positive:
        keep &= out[column].to_numpy() > 0
    return out[keep].reset_index(drop=True)


# The run labels in order of appearance, for a colour domain shared by every chart.
def _runs(df: pd.DataFrame) -> list[str]:
    """Reads `run` if present."""
    return list(dict.fromkeys(df["run"].astype(str))) if "run" in df.columns else []


# Colour by run with a bottom legend that fits long labels.
def _run_color(runs: Sequence[str], legend: bool = True) -> alt.Color:
    """Encodes the `run` column."""
    legend_spec = RUN_LEGEND if legend else None
    scale = alt.Scale(domain=list(runs), scheme=RUN_SCHEME)
    return alt.Color("run:N", title="run", scale=scale, legend=legend_spec)


# True for metric names best shown as a percentage on a 0–1 axis.
def _is_share(name: object) -> bool:
    """Takes a metric name, not a frame."""
    return any(word in str(name) for word in SHARE_WORDS)


# A placeholder that still serializes, for frames with nothing plottable.
def _no_data(message: str = "no data") -> alt.Chart:
    """Takes no frame: one text mark."""
    return (
        alt.Chart(pd.DataFrame({"message": [message]}))
        .mark_text(size=14, color="gray")
        .encode(text="message:N", tooltip=alt.Tooltip("message:N", title="note"))
        .properties(width="container", height=60)
    )


# Line-with-points panel against epochs, coloured by run, optionally dashed by another column.
def _epoch_lines(
    frame: pd.DataFrame,
    runs: Sequence[str],
    y: alt.Y,
    tooltip: list,
    dash: alt.StrokeDash | None = None,
) -> alt.Chart:
    """Needs run, epoch, the `y` field and the tooltip/dash fields."""
    encoding = {"strokeDash": dash} if dash is not None else {}
    return (
        alt.Chart(frame)
        .mark_line(point=POINTS, strokeWidth=1.5)
        .encode(x=alt.X("epoch:Q", title="epoch"), y=y, color=_run_color(runs), **encoding)
        .encode(tooltip=tooltip)
        .properties(width="container", height=PANEL_HEIGHT)
    )


# Common tooltip fields: run, step, epoch, then the given extras.
def _tooltip(*extra: alt.Tooltip | str) -> list:
    """Needs run, step, epoch."""
    step, epoch = alt.Tooltip("step:Q", format=","), alt.Tooltip("epoch:Q", format=".2f")
    return ["run:N", step, epoch, *extra]


# Light-grey rectangles over the saturated tails x < low and x > high, full panel height.
def _band_layer(low: float, high: float, x_min: float, x_max: float) -> alt.Chart:
    """Takes no frame: builds its own two rows (start, end, tail)."""
    band = pd.DataFrame(
        {"start": [min(x_min, low), high], "end": [low, max(x_max, high)], "tail": ["low", "high"]}
    )
    tooltip = [alt.Tooltip("tail:N", title="saturated tail"), "start:Q", "end:Q"]
    return (
        alt.Chart(band)
        .mark_rect(color=BAND_COLOR, opacity=0.5)
        .encode(x="start:Q", x2="end:Q", tooltip=tooltip)
    )


# Histogram bars from bin_start to bin_end, one overlaid colour per run.
def _histogram_bars(
    data: pd.DataFrame, runs: Sequence[str], x_title: str, y_field: str, y_title: str
) -> alt.Chart:
    """Needs run, bin_start, bin_end and `y_field`; the run colours overlay, unstacked."""
    fields = [*BIN_TIPS, (y_field, y_title)]
    tooltip = ["run:N", *(alt.Tooltip(f"{f}:Q", title=t, format=".3g") for f, t in fields)]
    return (
        alt.Chart(data)
        .mark_bar(opacity=OPACITY, orient="vertical")  # x/x2 alone would make it horizontal
        .encode(
            x=alt.X("bin_start:Q", title=x_title, scale=HISTOGRAM_X),
            x2="bin_end:Q",
            y=alt.Y(f"{y_field}:Q", title=y_title, stack=None),
            color=_run_color(runs),
            tooltip=tooltip,
        )
    )


# Loss (log) and accuracy against epochs, train solid and validation dashed.
def curves_chart(df: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Columns: run, step, epoch, split ("train"|"validation"), metric ("loss"|"accuracy"),
    value."""
    columns = ["run", "step", "epoch", "split", "metric", "value"]
    data = _clean(df, columns, finite=["epoch", "value"])
    if data.empty:
        return _no_data()
    runs, split = _runs(df), alt.Scale(domain=["train", "validation"])
    dash = alt.StrokeDash("split:N", title="split", scale=split, legend=DASH_LEGEND)
    tooltip = _tooltip("split:N", alt.Tooltip("value:Q", format=".4g"))
    loss = data[(data["metric"] == "loss") & (data["value"] > 0)]
    accuracy = data[data["metric"] == "accuracy"]
    log_y = alt.Y("value:Q", title="loss (log scale)", scale=LOSS_SCALE)
    share_y = alt.Y("value:Q", title="accuracy", scale=alt.Scale(domain=[0, 1]))
    return alt.vconcat(
        _epoch_lines(loss, runs, log_y, tooltip, dash),
        _epoch_lines(accuracy, runs, share_y.axis(format="%"), tooltip, dash),
    )


# Training loss of each step (log y), to show the first hundred steps.
def step_loss_chart(df: pd.DataFrame, max_step: int | None = None) -> alt.Chart:
    """Columns: run, step, loss. `max_step` keeps steps <= max_step."""
    data = _clean(df, ["run", "step", "loss"], finite=["step"], positive=["loss"])
    if max_step is not None:
        data = data[data["step"] <= max_step]
    if data.empty:
        return _no_data()
    tooltip = ["run:N", alt.Tooltip("step:Q", format=","), alt.Tooltip("loss:Q", format=".4g")]
    return (
        alt.Chart(data)
        .mark_line(strokeWidth=1.5)
        .encode(
            x=alt.X("step:Q", title="training step"),
            y=alt.Y("loss:Q", title="training loss (log scale)", scale=LOSS_SCALE),
            color=_run_color(_runs(df)),
            tooltip=tooltip,
        )
        .properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)
    )


# First-layer pre-activation histograms with an in-chart slider over checkpoints.
def preactivation_chart(df: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """Columns: run, checkpoint (0..n-1), step, epoch, bin_start, bin_end, density."""
    columns = ["run", "checkpoint", "step", "epoch", "bin_start", "bin_end", "density"]
    data = _clean(df, columns, finite=["checkpoint", "bin_start", "bin_end", "density"])
    if data.empty:
        return _no_data()
    data["checkpoint"] = data["checkpoint"].astype(int)
    last = int(data["checkpoint"].max())
    slider = alt.binding_range(min=0, max=last, step=1, name="checkpoint ")
    checkpoint = alt.param(name="checkpoint", value=0, bind=slider)
    selected = alt.datum.checkpoint == checkpoint
    # A fixed x domain, so the axis stays put while the slider moves.
    x_domain = [float(data["bin_start"].min()), float(data["bin_end"].max())]
    x_scale = alt.Scale(domain=x_domain, zero=False, padding=0)
    runs = _runs(df)
    bins = [alt.Tooltip(f"{field}:Q", title=title, format=".3g") for field, title in BIN_TIPS]
    bars = _histogram_bars(data, runs, PREACTIVATION_TITLE, "density", "density").encode(
        x=alt.X("bin_start:Q", title=PREACTIVATION_TITLE, scale=x_scale),
        tooltip=_tooltip(*bins),
    )
    # The selected checkpoint's step and epoch: one grey line when every run is at the same
    # step, else one line per run in its colour.
    shared = "datum.steps == 1"
    text = "'step ' + format(datum.step, ',') + ' · epoch ' + format(datum.epoch, '.2f')"
    label = (
        alt.Chart(data)
        .mark_text(align="left", baseline="top", fontSize=12)
        .transform_filter(selected)
        .transform_aggregate(step="max(step)", epoch="max(epoch)", groupby=["run"])
        .transform_joinaggregate(steps="distinct(step)")
        .transform_window(line="row_number()")
        .transform_filter(f"!({shared}) || datum.line == 1")
        .transform_calculate(
            text=f"({shared} ? '' : datum.run + ': ') + {text}",
            y_pixel="4 + 16 * (datum.line - 1)",
        )
        .encode(
            x=alt.value(6),
            y=alt.Y("y_pixel:Q", scale=None, axis=None),
            text="text:N",
            color=_run_color(runs).condition(test=shared, value=LABEL_COLOR),
            tooltip=alt.Tooltip("text:N", title="checkpoint"),
        )
    )
    layered = alt.layer(bars.transform_filter(selected), label).add_params(checkpoint)
    return layered.properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)


# Mean and standard deviation (log) of the first-layer pre-activations against epochs.
def preactivation_stats_chart(df: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Columns: run, epoch, z_mean, z_std."""
    means = _clean(df, ["run", "epoch", "z_mean"], finite=["epoch", "z_mean"])
    stds = _clean(df, ["run", "epoch", "z_std"], finite=["epoch"], positive=["z_std"])
    if means.empty and stds.empty:
        return _no_data()
    runs, epoch = _runs(df), alt.Tooltip("epoch:Q", format=".2f")
    mean_tooltip = ["run:N", epoch, alt.Tooltip("z_mean:Q", title="mean of z", format=".4g")]
    std_tooltip = ["run:N", epoch, alt.Tooltip("z_std:Q", title="std of z", format=".4g")]
    std_y = alt.Y("z_std:Q", title="std of z (log scale)", scale=alt.Scale(type="log"))
    return alt.vconcat(
        _epoch_lines(means, runs, alt.Y("z_mean:Q", title="mean of z"), mean_tooltip),
        _epoch_lines(stds, runs, std_y, std_tooltip),
    )


# Share of saturated (sigmoid/tanh) or dead (ReLU-like) units per layer against epochs.
def saturation_chart(df: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Columns: run, epoch, step, layer, saturated_share, dead_share (either may be all NaN or
    absent)."""
    keys = ["run", "epoch", "step", "layer"]
    absent = {measure: np.nan for measure in SATURATION_MEASURES if measure not in df.columns}
    data = _clean(df.assign(**absent), [*keys, *SATURATION_MEASURES], finite=["epoch"])
    long = data.melt(keys, var_name="measure", value_name="share")
    long = _clean(long, [*keys, "measure", "share"], finite=["share"])
    long["measure"] = long["measure"].map(SATURATION_MEASURES)
    runs = _runs(df)
    dash = alt.StrokeDash("layer:N", title="layer", legend=DASH_LEGEND)
    tooltip = _tooltip("layer:N", alt.Tooltip("share:Q", format=".1%"))
    panels = []
    for measure in SATURATION_MEASURES.values():
        frame = long[long["measure"] == measure]
        y = alt.Y("share:Q", title=measure, scale=alt.Scale(domain=[0, 1])).axis(format="%")
        if len(frame):
            panels.append(_epoch_lines(frame, runs, y, tooltip, dash))
    return alt.vconcat(*panels) if panels else _no_data()


# Gradient norm and update ratio of each layer's kernel against epochs, both log scale.
def gradients_chart(df: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Columns: run, epoch, step, layer, gradient_norm, update_ratio."""
    titles = {
        "gradient_norm": "gradient norm ‖∇W‖ (log scale)",
        "update_ratio": "update ratio ‖ΔW‖/‖W‖ (log scale)",
    }
    runs = _runs(df)
    dash = alt.StrokeDash("layer:N", title="layer", legend=DASH_LEGEND)
    panels = []
    for field, title in titles.items():
        frame = _clean(df, ["run", "epoch", "step", "layer", field], ["epoch"], [field])
        y = alt.Y(f"{field}:Q", title=title, scale=alt.Scale(type="log"))
        tooltip = _tooltip("layer:N", alt.Tooltip(f"{field}:Q", format=".3g"))
        if len(frame):
            panels.append(_epoch_lines(frame, runs, y, tooltip, dash))
    return alt.vconcat(*panels) if panels else _no_data()


# Hidden-layer activations at initialization, one panel per layer (the puzzle-B picture).
def activation_histogram_chart(
    df: pd.DataFrame,
    title: str = "hidden-layer activations at initialization",
    saturation_band: tuple[float, float] | None = None,
) -> alt.VConcatChart | alt.Chart:
    """Columns: run, layer, bin_start, bin_end, density. `saturation_band` (low, high) shades
    x < low and x > high, e.g. (0.05, 0.95) for sigmoid outputs."""
    columns = ["run", "layer", "bin_start", "bin_end", "density"]
    data = _clean(df, columns, finite=["bin_start", "bin_end", "density"])
    if data.empty:
        return _no_data()
    runs, panels = _runs(df), []
    for layer in dict.fromkeys(data["layer"]):
        frame = data[data["layer"] == layer]
        chart = _histogram_bars(frame, runs, f"{layer} activation", "density", "density")
        if saturation_band is not None:
            edges = frame["bin_start"].min(), frame["bin_end"].max()
            chart = alt.layer(_band_layer(*saturation_band, *edges), chart)
        panels.append(chart.properties(width="container", height=PANEL_HEIGHT))
    return alt.vconcat(*panels, title=title).properties(autosize=FIT_WIDTH)


# Histogram of raw values, e.g. the B1 sigmoid outputs piling up at 0 and 1.
def values_histogram_chart(
    values_df: pd.DataFrame,
    x_title: str,
    saturation_band: tuple[float, float] | None = None,
) -> alt.LayerChart | alt.Chart:
    """Column: value, optionally run. `saturation_band` (low, high) shades the tails."""
    has_run = "run" in values_df.columns
    data = _clean(values_df, ["run", "value"] if has_run else ["value"], finite=["value"])
    if data.empty:
        return _no_data()
    bins = alt.Bin(maxbins=40)
    tooltip = [alt.Tooltip("value:Q", bin=bins, title=x_title), alt.Tooltip("count():Q")]
    chart = (
        alt.Chart(data)
        .mark_bar(opacity=OPACITY if has_run else 0.9, color=TRAINED_COLOR)
        .encode(
            x=alt.X("value:Q", bin=bins, title=x_title),
            y=alt.Y("count():Q", title="count", stack=None),
            tooltip=["run:N", *tooltip] if has_run else tooltip,
        )
    )
    if has_run:
        chart = chart.encode(color=_run_color(_runs(values_df)))
    if saturation_band is not None:
        edges = data["value"].min(), data["value"].max()
        chart = alt.layer(_band_layer(*saturation_band, *edges), chart)
    return chart.properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)


# Pixel values after input scaling: do the inputs reach the network as 0–1 or 0–255?
def pixel_histogram_chart(df: pd.DataFrame) -> alt.Chart:
    """Columns: bin_start, bin_end, count, optionally run."""
    columns = ["bin_start", "bin_end", "count"]
    has_run = "run" in df.columns
    data = _clean(df, ["run", *columns] if has_run else columns, finite=columns)
    if data.empty:
        return _no_data()
    if not has_run:
        data["run"] = "pixels"
    chart = _histogram_bars(data, _runs(data), "pixel value after scaling", "count", "pixels")
    if not has_run:
        chart = chart.encode(color=alt.value(TRAINED_COLOR))
    return chart.properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)


# Horizontal bars comparing runs on final metrics, one panel per metric.
def final_metrics_chart(df: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Columns: run, metric (e.g. "val_accuracy"), value."""
    data = _clean(df, ["run", "metric", "value"], finite=["value"])
    if data.empty:
        return _no_data()
    runs, panels = _runs(df), []
    # The run axis keeps every run, so a diverged run shows as an empty row.
    y = alt.Y("run:N", title=None, scale=alt.Scale(domain=runs)).axis(labelLimit=400)
    tooltip = ["run:N", "metric:N", alt.Tooltip("value:Q", format=".4g")]
    for metric in dict.fromkeys(data["metric"]):
        share = _is_share(metric)
        x = alt.X("value:Q", title=str(metric), scale=alt.Scale(domain=[0, 1]) if share else {})
        panels.append(
            alt.Chart(data[data["metric"] == metric])
            .mark_bar()
            .encode(x=x.axis(format="%") if share else x, y=y, tooltip=tooltip)
            .encode(color=_run_color(runs, legend=False))
            .properties(width="container", height=alt.Step(BAR_STEP))
        )
    return alt.vconcat(*panels)


# Sweep results against the knob's value, one panel per metric; diverged runs as red crosses.
def sweep_chart(df: pd.DataFrame, knob: str, log_x: bool = False) -> alt.VConcatChart | alt.Chart:
    """Columns: value (the knob's value), metric, result, diverged (bool). A diverged run is
    drawn at its result when finite, else along the panel's bottom edge."""
    columns = ["value", "metric", "result", "diverged"]
    data = _clean(df, columns, finite=["value"], positive=["value"] if log_x else [])
    if data.empty:
        return _no_data()
    data["result"] = pd.to_numeric(data["result"], errors="coerce").astype(float)
    data["diverged"] = [False if pd.isna(flag) else bool(flag) for flag in data["diverged"]]
    data["status"] = np.where(data["diverged"], "diverged", "trained")
    metrics = [metric for metric in SWEEP_METRICS if metric in set(data["metric"])]
    metrics += [metric for metric in dict.fromkeys(data["metric"]) if metric not in SWEEP_METRICS]
    x = alt.X("value:Q", title=knob, scale=alt.Scale(type="log" if log_x else "linear"))
    colors = alt.Scale(domain=STATUS, range=[TRAINED_COLOR, DIVERGED_COLOR])
    shapes = alt.Scale(domain=STATUS, range=["circle", X_SHAPE])
    status = {
        "color": alt.Color("status:N", title=None, scale=colors, legend=BOTTOM_LEGEND),
        "shape": alt.Shape("status:N", title=None, scale=shapes, legend=BOTTOM_LEGEND),
        "tooltip": [
            alt.Tooltip("value:Q", title=knob, format=".4g"),
            alt.Tooltip("result:Q", format=".4g"),
            alt.Tooltip("diverged:N"),
        ],
    }
    panels = []
    for metric in metrics:
        rows = data[data["metric"] == metric]
        log_y = "loss" in str(metric)
        drawable = np.isfinite(rows["result"]) & ((rows["result"] > 0) | (not log_y))
        title = SWEEP_METRICS.get(metric, str(metric)) + (" (log scale)" if log_y else "")
        y = alt.Y("result:Q", title=title)
        if log_y:
            y = y.scale(type="log")
        elif _is_share(metric):
            y = y.scale(domain=[0, 1]).axis(format="%")
        line = alt.Chart(rows[drawable & ~rows["diverged"]]).mark_line(color=TRAINED_COLOR)
        points = alt.Chart(rows[drawable]).mark_point(filled=False, size=60, strokeWidth=2)
        edge = alt.Chart(rows[~drawable]).mark_point(filled=False, size=60, strokeWidth=2)
        layers = [
            line.encode(x=x, y=y),
            points.encode(x=x, y=y, **status),
            edge.encode(x=x, y=alt.value(PANEL_HEIGHT - 6), **status),
        ]
        layers = [layer for layer in layers if len(layer.data)]  # empty ones upset Vega's extents
        panels.append(alt.layer(*layers).properties(width="container", height=PANEL_HEIGHT))
    return alt.vconcat(*panels).properties(autosize=FIT_WIDTH)


# Each run's first-step update ratio ‖ΔW‖/‖W‖ of the first kernel, as bars on a log axis.
def first_step_ratio_chart(df: pd.DataFrame) -> alt.Chart:
    """Columns: run, update_ratio; optionally ratio_to_first (shown in the tooltip). Bars start
    a decade below the smallest ratio (a log axis has no zero to start from)."""
    has_ratio = "ratio_to_first" in df.columns
    columns = ["run", "update_ratio", *(["ratio_to_first"] if has_ratio else [])]
    data = _clean(df, columns, positive=["update_ratio"])
    if data.empty:
        return _no_data()
    runs = _runs(df)
    base = 10 ** np.floor(np.log10(data["update_ratio"].min()) - 1)
    tooltip = ["run:N", alt.Tooltip("update_ratio:Q", title="‖ΔW‖/‖W‖", format=".3g")]
    if has_ratio:
        tooltip.append(alt.Tooltip("ratio_to_first:Q", title="× run 1", format=",.4g"))
    x = alt.X("update_ratio:Q", title="‖ΔW‖/‖W‖ at step 1 (log)", scale=alt.Scale(type="log"))
    y = alt.Y("run:N", title=None, scale=alt.Scale(domain=runs)).axis(labelLimit=400)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(x=x, x2=alt.datum(base), y=y, color=_run_color(runs, legend=False))
        .encode(tooltip=tooltip)
        .properties(width="container", height=alt.Step(BAR_STEP), autosize=FIT_WIDTH)
    )


# |loss − reference loss| per training step on a log axis: where twin runs part.
def loss_gap_chart(df: pd.DataFrame, runs: Sequence[str] | None = None) -> alt.Chart:
    """Columns: run, step, gap. `runs` fixes the colour domain (say, with the reference run
    first, so colours match the other charts); the legend lists only the runs drawn. Gaps of 0
    are drawn at GAP_FLOOR."""
    data = _clean(df, ["run", "step", "gap"], finite=["step", "gap"])
    if data.empty:
        return _no_data()
    data["shown"] = np.maximum(data["gap"].to_numpy(), GAP_FLOOR)
    tooltip = [
        "run:N",
        alt.Tooltip("step:Q", format=","),
        alt.Tooltip("gap:Q", title="|loss − reference|", format=".3g"),
    ]
    # A short title: Vega shrinks the plot until a rotated axis title fits its height.
    y = alt.Y("shown:Q", title="|loss − reference| (log)", scale=alt.Scale(type="log"))
    y = y.axis(format=".0e")  # 1e+10 and 1e-8 rather than 10000000000
    domain = list(runs) if runs is not None else _runs(df)
    legend = alt.Legend(
        orient="bottom", direction="vertical", labelLimit=600, title=None, values=_runs(data)
    )
    color = alt.Color("run:N", scale=alt.Scale(domain=domain, scheme=RUN_SCHEME), legend=legend)
    return (
        alt.Chart(data)
        .mark_line(strokeWidth=1.5)
        .encode(x=alt.X("step:Q", title="training step"), y=y, color=color, tooltip=tooltip)
        .properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)
    )
