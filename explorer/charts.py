"""Altair chart builders: each takes a small long-format DataFrame and returns a chart.

Pure functions, no Streamlit: the app passes the result to `st.altair_chart`. Colour is always
the run label, with the same colours in every chart of one comparison (the colour domain keeps
the frame's order of runs even where a diverged run has nothing left to draw). Non-finite values
(diverged runs) are dropped before plotting; a frame with nothing left gives a "no data" chart.
Nothing is hidden by a scale: histograms draw what lies beyond their bins as end bars and write
the off-scale share on the chart; a loss axis spans the runs that learned and marks where a
blown-up run leaves it; every log axis has explicit, labelled ticks in one format.
Every view asks for width="container" with a fixed height, so `st.altair_chart(chart,
use_container_width=True)` (or width="stretch") fills the column; multi-panel charts are vertical
stacks, which Streamlit stretches, rather than facets or side-by-side panels, which it cannot.
Every word a chart shows (titles, axes, legends, tooltips, notes) is in the reader's language,
translated when the chart is built (`_()`; constants are marked with `N_`); the data keep their
identifiers, except the few values a legend or a tooltip shows as words (train, validation,
trained, diverged). In English a spec is what it was before translation: a field titled by its
own name gets no title (`_title`, `_tip`).
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from explorer.i18n import N_, _

HEIGHT = 300  # single-panel charts
PANEL_HEIGHT = 240  # each panel of a stacked chart
BAR_STEP = 26  # pixels per run in horizontal bar charts
OPACITY = 0.5  # overlaid histograms
POINTS = alt.OverlayMarkDef(size=14, filled=False, clip=True)  # hollow: dash legends draw strokes
BAND_COLOR = "#c8c8c8"
TRAINED_COLOR = "#4c78a8"
DIVERGED_COLOR = "#d62728"
X_SHAPE = "M-1,-1L1,1M1,-1L-1,1"  # an "x" as an SVG path; Vega scales it to the mark's size
RUN_LEGEND = alt.Legend(orient="bottom", direction="vertical", labelLimit=600, title=None)
BOTTOM_LEGEND = alt.Legend(orient="bottom", labelLimit=300)
# Log axes are not widened to whole decades (an MSE loss that moves from 0.09 to 0.07 would sit in
# a thin strip of a 0.01–0.1 axis); their ticks are computed from the data (`_log_ticks`), so a
# narrow range still has labels, and every log axis labels them the same way: plain numbers
# from 0.001 to below 10,000, powers of ten as 1e+35 or 1e-7 beyond (so does the linear axis
# of z's mean, which a blown-up run takes to −6e+20).
LOG_PAD = 0.04  # a log domain reaches this share of its span beyond the data (at least 2%)
LOG_TICKS = 8  # at most this many ticks on a log axis
LOG_LABELS = (
    "datum.value != 0 && (abs(datum.value) >= 1e4 || abs(datum.value) < 1e-3)"
    " ? format(datum.value, '.3~e') : format(datum.value, '.4~g')"
)
# Cross-entropy (probabilities clipped to 1e-7 by Keras) stays below 16.2 and MSE on one-hot
# below 2: a loss past this has blown up, and its run is drawn off scale.
BLOWN_UP_LOSS = 1e3
OFF_SCALE_SHAPES = {"above": "triangle-up", "below": "triangle-down"}
DASH_LEGEND = alt.Legend(
    orient="bottom", symbolType="stroke", symbolStrokeColor="#555", symbolStrokeWidth=2
)
RUN_SCHEME = "tableau10"  # distinct hues; Streamlit's theme would otherwise start with two blues
# Words below are English messages of the catalog: `_()` them where a chart shows them.
PREACTIVATION_TITLE = N_("first-layer pre-activation z = x·W + b")
SATURATION_MEASURES = {
    "saturated_share": N_("saturated (sigmoid/tanh)"),
    "dead_share": N_("dead units (ReLU-like)"),
}
SWEEP_METRICS = {
    "val_accuracy": N_("validation accuracy"),
    "val_loss": N_("validation loss"),
    "saturation_at_init": N_("saturated share at init"),
    "dead_at_init": N_("dead units at init"),
}
SHARE_WORDS = ("accuracy", "saturat", "share", "dead")  # metrics shown as percentages on 0–1
STATUS = [N_("trained"), N_("diverged")]  # a sweep's legend: the status column's words
PARTLY_DIVERGED = N_("some seeds diverged")  # a sweep's third status, with seed bands
PARTLY_DIVERGED_COLOR = "#ff7f0e"
STATUS_COLORS = [TRAINED_COLOR, DIVERGED_COLOR, PARTLY_DIVERGED_COLOR]  # STATUS, PARTLY_DIVERGED
STATUS_SHAPES = ["circle", X_SHAPE, "diamond"]
BAND_COLUMNS = ["low", "high", "seeds", "diverged_seeds"]  # a sweep's seed band (sweep.band_table)
SPLITS = {"train": N_("train"), "validation": N_("validation")}  # the curves' dash legend
BIN_TIPS = (("bin_start", "from"), ("bin_end", "to"))  # histogram tooltip fields and titles
LABEL_COLOR = "#444"
GAP_FLOOR = 1e-9  # a gap of exactly 0 (bit-identical twins) is drawn here on the log axis
# Histograms: values beyond the bins are drawn as an end bar OVERFLOW_BINS bins wide, OVERFLOW_GAP
# bins beyond each edge, on a grey strip; a density end bar's area is its share, like a bin's.
OVERFLOW_BINS, OVERFLOW_GAP = 2.0, 0.5
OFF_SCALE_NOTE = 0.005  # an off-scale share from 0.5% is written on the chart
OFF_SCALE_FILL = "#eeeeee"  # the strip behind the end bars
OFF_SCALE_STROKE = "#555"  # end bars have a dashed dark outline; bins have none
OFF_SCALE_TIP = N_("beyond the bins (±inf included); NaN values count as off scale too")
HEADROOM = 1.08  # a histogram's y axis ends 8% above its tallest bar, so that bar's top shows
VALUE_BINS = 20  # values_histogram_chart: 0.05 wide on [0, 1], aligned with sigmoid's band
LINE_HEIGHT = 16  # pixels between the lines of a chart's text notes
# Size to the container's width only: a stack of layered panels is otherwise as wide as the
# container plus its axes (it overflows), and a single view shrinks its plot to fit the legend
# into `height`.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")


# A field's title in the reader's language, where the language changes it.
def _title(message: str) -> dict[str, str]:
    """{"title": _(message)}, or {} where the translation is `message` itself: in English the
    field keeps its own name as its title, and the spec stays as it was."""
    shown = _(message)
    return {"title": shown} if shown != message else {}


# A tooltip field titled in the reader's language (see `_title`).
def _tip(shorthand: str, message: str, **options) -> alt.Tooltip | str:
    """`shorthand` itself when there is nothing to add."""
    titled = {**_title(message), **options}
    return alt.Tooltip(shorthand, **titled) if titled else shorthand


# A message with {fields} as a Vega expression: its text quoted, its fields the given expressions.
def _vega_text(message: str, **fields: str) -> str:
    """_vega_text("step {step}", step="datum.step") == "'step ' + datum.step"."""
    parts = []
    for text, name, _spec, _conversion in string.Formatter().parse(message):
        if text:
            parts.append("'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'")
        if name is not None:
            parts.append(fields[name])
    return " + ".join(parts)


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
    return alt.Color("run:N", title=_("run"), scale=scale, legend=legend_spec)


# True for metric names best shown as a percentage on a 0–1 axis.
def _is_share(name: object) -> bool:
    """Takes a metric name, not a frame."""
    return any(word in str(name) for word in SHARE_WORDS)


# A placeholder that still serializes, for frames with nothing plottable.
def _no_data(message: str | None = None) -> alt.Chart:
    """Takes no frame: one text mark ("no data" unless `message` says otherwise)."""
    return (
        alt.Chart(pd.DataFrame({"message": [_("no data") if message is None else message]}))
        .mark_text(size=14, color="gray")
        .encode(text="message:N", tooltip=alt.Tooltip("message:N", title=_("note")))
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
        .mark_line(point=POINTS, strokeWidth=1.5, clip=True)  # nothing drawn past an axis
        .encode(x=alt.X("epoch:Q", title=_("epoch")), y=y, color=_run_color(runs), **encoding)
        .encode(tooltip=tooltip)
        .properties(width="container", height=PANEL_HEIGHT)
    )


# Common tooltip fields: run, step, epoch, then the given extras.
def _tooltip(*extra: alt.Tooltip | str) -> list:
    """Needs run, step, epoch."""
    step = alt.Tooltip("step:Q", format=",", **_title(N_("step")))
    epoch = alt.Tooltip("epoch:Q", format=".2f", **_title(N_("epoch")))
    return [_tip("run:N", N_("run")), step, epoch, *extra]


# Light-grey rectangles over the saturated tails x < low and x > high, full panel height.
def _band_layer(low: float, high: float, x_min: float, x_max: float) -> alt.Chart:
    """Takes no frame: builds its own two rows (start, end, tail)."""
    band = pd.DataFrame(
        {
            "start": [min(x_min, low), high],
            "end": [low, max(x_max, high)],
            "tail": [_("low"), _("high")],
        }
    )
    tooltip = [
        alt.Tooltip("tail:N", title=_("saturated tail")),
        _tip("start:Q", N_("start")),
        _tip("end:Q", N_("end")),
    ]
    return (
        alt.Chart(band)
        .mark_rect(color=BAND_COLOR, opacity=0.5)
        .encode(x="start:Q", x2="end:Q", tooltip=tooltip)
    )


# Evenly spaced round ticks from `low` to `high` (steps of 1, 2, 2.5 or 5 times a power of ten).
def _nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """About `count` ticks inside [low, high]; [low] when the range is a single value."""
    if not high > low:
        return [float(low)]
    raw = (high - low) / count
    magnitude = 10.0 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = np.ceil(low / step - 1e-9), np.floor(high / step + 1e-9)
    return [float(f"{k * step:.12g}") for k in np.arange(first, last + 1)]


# Tick values for a log axis on [low, high]: powers of ten, else their multiples, else round steps.
def _log_ticks(low: float, high: float) -> list[float]:
    """Always at least one tick inside the range, so the axis has labels: the first of

    10^k                      when three or more fit (every j-th, at most LOG_TICKS)
    {1, 2, 5} · 10^k          when three or more fit
    {1, 2, …, 9} · 10^k       when three to LOG_TICKS fit
    `_nice_ticks`             evenly spaced, for a range narrower than that
    """
    lowest, highest = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    decades = range(lowest, highest + 1)
    powers = [10.0**e for e in decades if low <= 10.0**e <= high]
    if len(powers) >= 3:
        return powers[:: int(np.ceil(len(powers) / LOG_TICKS))]
    for multiples in ((1, 2, 5), range(1, 10)):
        ticks = [float(f"{m * 10.0**e:.12g}") for e in decades for m in multiples]
        ticks = [tick for tick in ticks if low <= tick <= high]
        if 3 <= len(ticks) <= LOG_TICKS:
            return ticks
    return _nice_ticks(low, high, count=4)


# A log scale over `values` (positive, finite) with computed ticks in the LOG_LABELS format.
def _log_encoding(
    channel: type[alt.X] | type[alt.Y], field: str, title: str, values, domain=None
) -> alt.X | alt.Y:
    """`domain` (low, high) overrides the data's range, padded by LOG_PAD of its span."""
    values = np.asarray(values, dtype=float)
    low, high = domain if domain is not None else (values.min(), values.max())
    pad = max((high / low) ** LOG_PAD, 1.02)
    low, high = float(low / pad), float(high * pad)
    ticks = _log_ticks(low, high)
    scale = alt.Scale(type="log", domain=[low, high], nice=False)
    axis = alt.Axis(values=ticks, labelExpr=LOG_LABELS)
    return channel(field, title=title, scale=scale, axis=axis)


# A share as text: "99.3%", "0.6%", "<0.1%".
def _percent(share: float) -> str:
    """Takes a share in [0, 1]."""
    return "<0.1%" if 0 < share < 0.0005 else f"{share:.1%}"


# A number for an axis label or a note: three significant digits, "2.49e-7" not "2.49e-07",
# and a leading "−" as Vega's own tick labels have it.
def _number(value: float) -> str:
    """Takes a float."""
    text = f"{abs(value):.3g}".replace("e-0", "e-").replace("e+0", "e+")
    return f"−{text}" if value < 0 else text


# What a histogram row covers, as text: "−1.2 to −0.96", "< −12.5", "> 12.5".
def _bin_text(side: str, start: float, end: float) -> str:
    """Takes the row's side and its bin (an end bar's edge as both start and end)."""
    if side == "below":
        return f"< {_number(end)}"
    if side == "above":
        return f"> {_number(start)}"
    return _("{start} to {end}").format(start=_number(start), end=_number(end))


# Histogram rows placed for drawing: bins where they are, off-scale counts as end bars.
def _histogram_geometry(df: pd.DataFrame, keys: Sequence[str], y_field: str) -> pd.DataFrame:
    """Rows of `keys` (run, layer, checkpoint… with "run" first), bin_start, bin_end,
    `y_field` ("density" or "count") and optionally side, count, share, off_scale (see
    `probes.histogram_rows`; without side every row is a bin inside). Adds x_start, x_end,
    height (the y drawn), range (the bin as text) and edge (the edge an end bar lies beyond).

    Per run (and layer): low, high = the bins' outer edges, width = a bin's width; an end bar
    spans low − (OVERFLOW_GAP + OVERFLOW_BINS)·width … low − OVERFLOW_GAP·width (above: the
    mirror image) and its height is its count, or share / (OVERFLOW_BINS · width) for
    density. End bars with nothing in them are dropped.
    """
    optional = {"side": "inside", "count": np.nan, "share": np.nan, "off_scale": 0.0}
    data = df.assign(**{name: value for name, value in optional.items() if name not in df})
    columns = [*keys, "bin_start", "bin_end", y_field, *(c for c in optional if c != y_field)]
    data = _clean(data, columns, finite=["off_scale"])
    for column in ("bin_start", "bin_end", y_field, "count", "share"):
        data[column] = pd.to_numeric(data[column], errors="coerce").astype(float)
    data["side"] = data["side"].astype(str)
    inside = data["side"] == "inside"
    bins = data[inside & np.isfinite(data["bin_start"]) & np.isfinite(data["bin_end"])]
    group = [key for key in ("run", "layer") if key in keys]
    if bins.empty:
        return data.iloc[:0].assign(x_start=[], x_end=[], height=[], range=[], edge=[])
    edges = (
        bins.assign(width=bins["bin_end"] - bins["bin_start"])
        .groupby(group, sort=False)
        .agg(low=("bin_start", "min"), high=("bin_end", "max"), width=("width", "median"))
    )
    data = data.merge(edges, left_on=group, right_index=True, how="inner")
    inside, below, above = (data["side"] == side for side in ("inside", "below", "above"))
    near, far = OVERFLOW_GAP * data["width"], (OVERFLOW_GAP + OVERFLOW_BINS) * data["width"]
    data["x_start"] = np.select(
        [below, above], [data["low"] - far, data["high"] + near], data["bin_start"]
    )
    data["x_end"] = np.select(
        [below, above], [data["low"] - near, data["high"] + far], data["bin_end"]
    )
    data["edge"] = np.select([below, above], [data["low"], data["high"]], np.nan)
    if y_field == "density":
        end_height = data["share"] / (OVERFLOW_BINS * data["width"])
    else:
        end_height = data["count"]
    data["height"] = np.where(inside, data[y_field], end_height)
    # Inline data must be finite JSON: end bars keep their edge, not ±inf, as bin_start/bin_end.
    data["bin_start"] = np.where(inside, data["bin_start"], data["edge"])
    data["bin_end"] = np.where(inside, data["bin_end"], data["edge"])
    data["range"] = list(map(_bin_text, data["side"], data["bin_start"], data["bin_end"]))
    keep = np.isfinite(data["height"]) & np.isfinite(data["x_start"]) & np.isfinite(data["x_end"])
    keep &= inside | (data["count"].fillna(0) > 0)
    return data[keep].drop(columns=["low", "high", "width"]).reset_index(drop=True)


# x for a histogram panel: a fixed domain over every bar; end bars get their own tick labels.
def _histogram_x(data: pd.DataFrame, title: str) -> alt.X:
    """Needs `_histogram_geometry`'s columns. With end bars drawn, the ticks are round numbers
    inside the bins and one under each end bar, labelled "< low" or "> high"."""
    domain = [float(data["x_start"].min()), float(data["x_end"].max())]
    scale = alt.Scale(domain=domain, zero=False, padding=0, nice=False)
    ends = _end_strips(data)
    if ends.empty:
        return alt.X("x_start:Q", title=title, scale=scale, axis=alt.Axis(format="~g"))
    inside = data[data["side"] == "inside"]
    ticks = _nice_ticks(float(inside["bin_start"].min()), float(inside["bin_end"].max()))
    labels = " : ".join(
        f"datum.value === {center!r} ? {json.dumps(label, ensure_ascii=False)}"
        for center, label in zip(ends["center"], ends["range"], strict=True)
    )
    axis = alt.Axis(
        values=[*ticks, *ends["center"]], format="~g", labelExpr=f"{labels} : datum.label"
    )
    return alt.X("x_start:Q", title=title, scale=scale, axis=axis)


# One row per end bar position: where its grey strip lies and what its label says.
def _end_strips(data: pd.DataFrame) -> pd.DataFrame:
    """Needs `_histogram_geometry`'s columns; the strip runs from the domain's edge to the
    bins' edge."""
    ends = data[data["side"] != "inside"].drop_duplicates(["side", "x_start", "x_end"]).copy()
    low, high = data["x_start"].min(), data["x_end"].max()
    below = ends["side"] == "below"
    ends["center"] = (ends["x_start"] + ends["x_end"]) / 2
    ends["start"] = np.where(below, low, ends["edge"])
    ends["end"] = np.where(below, ends["edge"], high)
    ends["off_scale"] = _(OFF_SCALE_TIP)
    return ends[["side", "center", "start", "end", "range", "off_scale"]].reset_index(drop=True)


# The layers of a histogram panel: the off-scale strips behind, then the bins and the end bars.
def _histogram_layers(
    data: pd.DataFrame, runs: Sequence[str], x_title: str, y_title: str
) -> tuple[list[alt.Chart], list[alt.Chart]]:
    """Needs `_histogram_geometry`'s columns; returns (background, bars), without the strip and
    end-bar layers when nothing is off scale. The y axis ends HEADROOM above the tallest bar
    of `data` (of every checkpoint, so it stays put under a slider); end bars have a dashed
    outline and say "< low" / "> high" under them."""
    x = _histogram_x(data, x_title)
    top = float(data["height"].max()) * HEADROOM
    y_scale = alt.Scale(domain=[0, top if top > 0 else 1.0], nice=False)
    y = alt.Y("height:Q", title=y_title, scale=y_scale, stack=None)
    shown = alt.Tooltip("height:Q", title=y_title, format=".3g")
    inside, ends = data[data["side"] == "inside"], data[data["side"] != "inside"]
    bars = [
        alt.Chart(inside)
        .mark_bar(opacity=OPACITY, orient="vertical")  # x/x2 alone would make it horizontal
        .encode(x=x, x2="x_end:Q", y=y, color=_run_color(runs))
        .encode(tooltip=[_tip("run:N", N_("run")), alt.Tooltip("range:N", title=_("bin")), shown])
    ]
    if ends.empty:
        return [], bars
    strip = (
        alt.Chart(_end_strips(data))
        .mark_rect(color=OFF_SCALE_FILL)
        .encode(
            x="start:Q",
            x2="end:Q",
            tooltip=[_tip("range:N", N_("range")), _tip("off_scale:N", N_("off scale"))],
        )
    )
    share, off = alt.Tooltip("share:Q", title=_("share of values"), format=".2%"), _("off scale")
    count = alt.Tooltip("count:Q", format=",", **_title(N_("count")))
    end_style = {"stroke": OFF_SCALE_STROKE, "strokeDash": [4, 2], "strokeWidth": 1.2}
    bars.append(
        alt.Chart(ends)
        .mark_bar(opacity=OPACITY, orient="vertical", **end_style)
        .encode(x=x, x2="x_end:Q", y=y, color=_run_color(runs))
        .encode(tooltip=[_tip("run:N", N_("run")), alt.Tooltip("range:N", title=off), count, share])
    )
    return [strip], bars


# Text lines at the top right: each run's off-scale share where it is not negligible.
def _off_scale_notes(data: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """One row per `keys` group (run first; a checkpoint column lays each checkpoint out on its
    own) whose off_scale >= OFF_SCALE_NOTE: run, text, line (0 at the top), *keys."""
    shares = data.groupby(list(keys), sort=False)["off_scale"].max().reset_index()
    shares = shares[shares["off_scale"] >= OFF_SCALE_NOTE]
    several = data["run"].nunique() > 1
    shares["text"] = [
        _("{run}: {share} off scale").format(run=run, share=_percent(share))
        if several
        else _("{share} of values off scale").format(share=_percent(share))
        for run, share in zip(shares["run"], shares["off_scale"], strict=True)
    ]
    by = [key for key in keys if key not in ("run", "layer")]
    shares["line"] = shares.groupby(by).cumcount() if by else np.arange(len(shares))
    return shares.reset_index(drop=True)


# Text lines in the runs' colours: from the top right corner, or up from the bottom left one.
def _note_layer(
    notes: pd.DataFrame, runs: Sequence[str], tooltip: str, bottom: int | None = None
) -> alt.Chart:
    """Needs run, text, line (0 first). `bottom` (the panel's height in pixels) stacks the lines
    up from the bottom left corner, where a falling loss curve leaves room; else they hang
    from the top right corner, right-aligned."""
    if bottom is None:
        y_pixel, align, baseline, x = 4 + LINE_HEIGHT * notes["line"], "right", "top", "width"
    else:
        lines = len(notes)
        y_pixel = bottom - 4 - LINE_HEIGHT * (lines - 1 - notes["line"])
        align, baseline, x = "left", "bottom", 6
    return (
        alt.Chart(notes.assign(y_pixel=y_pixel, tip=tooltip))
        .mark_text(align=align, baseline=baseline, dx=-6 if bottom is None else 0, fontSize=12)
        .encode(
            x=alt.value(x),
            y=alt.Y("y_pixel:Q", scale=None, axis=None),
            text="text:N",
            color=_run_color(runs, legend=False),
            tooltip=[
                alt.Tooltip("text:N", title=_("note")),
                alt.Tooltip("tip:N", title=_("why")),
            ],
        )
    )


# The runs whose losses set a loss axis: not diverged and never past BLOWN_UP_LOSS.
def _learned(data: pd.DataFrame, field: str) -> pd.Series:
    """Needs run and `field`; a `diverged` column, when present, flags runs that diverged (their
    last recorded losses may still be finite). True for every row of a run that learned."""
    flagged = data["diverged"].fillna(False).astype(bool) if "diverged" in data else False
    blown_up = data.groupby("run")[field].transform("max") > BLOWN_UP_LOSS
    return ~(flagged | blown_up)


# A log y for losses, spanning the runs that learned (every run's when none did).
def _loss_y(data: pd.DataFrame, field: str, title: str) -> alt.Y:
    """Needs run and a positive, finite `field`; see `_learned`."""
    learned = data[_learned(data, field)]
    values = (learned if len(learned) else data)[field]
    return _log_encoding(alt.Y, f"{field}:Q", title, values)


# Triangles on the edge a loss leaves the axis by, and a note per run saying how far it goes.
def _off_scale_marks(
    data: pd.DataFrame,
    field: str,
    x: alt.X,
    y: alt.Y,
    runs: Sequence[str],
    height: int,
    notes: Sequence[tuple[str, str]] = (),
) -> list[alt.Chart]:
    """Needs run, `field` and x's field; `y` is `_loss_y`'s; `height` is the panel's. `notes`
    are more (run, text) lines under the off-scale ones, at the bottom left."""
    low, high = y.to_dict()["scale"]["domain"]
    values = data[field]
    lines = [
        (run, _("off scale: {run} reaches {value}").format(run=run, value=_number(top)))
        for run, top in data[values > high].groupby("run", sort=False)[field].max().items()
    ]
    lines += [
        (run, _("off scale: {run} falls to {value}").format(run=run, value=_number(bottom)))
        for run, bottom in data[values < low].groupby("run", sort=False)[field].min().items()
    ]
    lines += list(notes)
    layers = []
    off = data[(values > high) | (values < low)].assign(
        side=lambda f: np.where(f[field] > high, "above", "below")
    )
    if len(off):
        off["edge"] = np.where(off["side"] == "above", high, low)
        shapes = alt.Scale(domain=list(OFF_SCALE_SHAPES), range=list(OFF_SCALE_SHAPES.values()))
        tip = alt.Tooltip(f"{field}:Q", title=_("loss (off scale)"), format=".3g")
        layers.append(
            alt.Chart(off)
            .mark_point(filled=True, size=50, opacity=0.8)
            .encode(
                x=x,
                y=alt.Y("edge:Q", scale=y["scale"], axis=y["axis"], title=y["title"]),
                color=_run_color(runs, legend=False),
            )
            .encode(shape=alt.Shape("side:N", scale=shapes, legend=None))
            .encode(tooltip=[_tip("run:N", N_("run")), tip])
        )
    if lines:
        frame = pd.DataFrame(lines, columns=["run", "text"]).assign(line=range(len(lines)))
        tip = _("the loss axis spans the runs that learned")
        layers.append(_note_layer(frame, runs, tip, bottom=height))
    return layers


# Loss (log) and accuracy against epochs, train solid and validation dashed.
def curves_chart(
    df: pd.DataFrame, coincident: pd.DataFrame | None = None
) -> alt.VConcatChart | alt.Chart:
    """Columns: run, step, epoch, split ("train"|"validation"), metric ("loss"|"accuracy"),
    value, optionally diverged (the run's flag). `coincident` (run, reference, loss_gap; see
    `compare.coinciding_runs`) names runs drawn under another run's line: the loss panel says
    so with the measured gap. The loss axis spans the runs that learned (`_loss_y`);
    accuracy runs 0–100%, clipped there."""
    columns = ["run", "step", "epoch", "split", "metric", "value"]
    has_flag = "diverged" in df.columns
    data = _clean(df, [*columns, "diverged"] if has_flag else columns, finite=["epoch", "value"])
    if data.empty:
        return _no_data()
    splits = {value: _(words) for value, words in SPLITS.items()}
    data["split"] = data["split"].replace(splits)  # the legend and tooltips show the words
    runs, split = _runs(df), alt.Scale(domain=list(splits.values()))
    dash = alt.StrokeDash("split:N", title=_("split"), scale=split, legend=DASH_LEGEND)
    value = alt.Tooltip("value:Q", format=".4g", **_title(N_("value")))
    tooltip = _tooltip(_tip("split:N", N_("split")), value)
    loss = data[(data["metric"] == "loss") & (data["value"] > 0)]
    accuracy = data[data["metric"] == "accuracy"]
    share_y = alt.Y("value:Q", title=_("accuracy"), scale=alt.Scale(domain=[0, 1], clamp=True))
    accuracy_panel = _epoch_lines(accuracy, runs, share_y.axis(format="%"), tooltip, dash)
    if loss.empty:
        return alt.vconcat(accuracy_panel)
    log_y = _loss_y(loss, "value", _("loss (log scale)"))
    coincident = coincident if coincident is not None else pd.DataFrame(columns=["run"])
    coincides = _("{run} coincides with {reference}: largest gap {gap} in loss")
    notes = [
        (row.run, coincides.format(run=row.run, reference=row.reference, gap=gap))
        for row in coincident[coincident["run"].isin(loss["run"])].itertuples()
        for gap in [_number(row.loss_gap)]
    ]
    marks = _off_scale_marks(loss, "value", alt.X("epoch:Q"), log_y, runs, PANEL_HEIGHT, notes)
    loss_panel = alt.layer(_epoch_lines(loss, runs, log_y, tooltip, dash), *marks)
    return alt.vconcat(
        loss_panel.properties(width="container", height=PANEL_HEIGHT), accuracy_panel
    )


# Training loss of each step (log y), to show the first hundred steps.
def step_loss_chart(df: pd.DataFrame, max_step: int | None = None) -> alt.LayerChart | alt.Chart:
    """Columns: run, step, loss, optionally diverged. `max_step` keeps steps <= max_step. The
    loss axis spans the runs that learned, as in `curves_chart`."""
    columns = ["run", "step", "loss", *(["diverged"] if "diverged" in df.columns else [])]
    data = _clean(df, columns, finite=["step"], positive=["loss"])
    if max_step is not None:
        data = data[data["step"] <= max_step]
    if data.empty:
        return _no_data()
    runs = _runs(df)
    tooltip = [
        _tip("run:N", N_("run")),
        alt.Tooltip("step:Q", format=",", **_title(N_("step"))),
        alt.Tooltip("loss:Q", format=".4g", **_title(N_("loss"))),
    ]
    x = alt.X("step:Q", title=_("training step"))
    y = _loss_y(data, "loss", _("training loss (log scale)"))
    line = (
        alt.Chart(data)
        .mark_line(strokeWidth=1.5, clip=True)
        .encode(x=x, y=y, color=_run_color(runs), tooltip=tooltip)
    )
    marks = _off_scale_marks(data, "loss", x, y, runs, HEIGHT)
    return alt.layer(line, *marks).properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)


# First-layer pre-activation histograms with an in-chart slider over checkpoints.
def preactivation_chart(df: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """Columns: run, checkpoint (0, 1, … per run), step, epoch, bin_start, bin_end, density,
    optionally side, count, share, off_scale (see `probes.histogram_rows`). The slider picks
    the checkpoint index. Values beyond the bins fixed at step 0 are end bars; a run's
    off-scale share is written at the top right when it reaches OFF_SCALE_NOTE."""
    keys = ["run", "checkpoint", "step", "epoch"]
    data = _histogram_geometry(df, keys, "density")
    if data.empty:
        return _no_data()
    last = int(data["checkpoint"].max())
    slider = alt.binding_range(min=0, max=last, step=1, name=_("checkpoint") + " ")
    checkpoint = alt.param(name="checkpoint", value=0, bind=slider)
    selected = alt.datum.checkpoint == checkpoint
    runs = _runs(df)
    background, bars = _histogram_layers(data, runs, _(PREACTIVATION_TITLE), _("density"))
    density = alt.Tooltip("height:Q", title=_("density"), format=".3g")
    bars[0] = bars[0].encode(tooltip=_tooltip(alt.Tooltip("range:N", title=_("bin")), density))
    # The selected checkpoint's step and epoch: one grey line when every run is at the same
    # step, else one line per run in its colour.
    shared = "datum.steps == 1"
    text = _vega_text(
        _("step {step} · epoch {epoch}"),
        step="format(datum.step, ',')",
        epoch="format(datum.epoch, '.2f')",
    )
    run_prefix = _vega_text(_("{run}: "), run="datum.run")
    label = (
        alt.Chart(data)
        .mark_text(align="left", baseline="top", fontSize=12)
        .transform_filter(selected)
        .transform_aggregate(step="max(step)", epoch="max(epoch)", groupby=["run"])
        .transform_joinaggregate(steps="distinct(step)")
        .transform_window(line="row_number()")
        .transform_filter(f"!({shared}) || datum.line == 1")
        .transform_calculate(
            text=f"({shared} ? '' : {run_prefix}) + {text}",
            y_pixel=f"4 + {LINE_HEIGHT} * (datum.line - 1)",
        )
        .encode(
            x=alt.value(6),
            y=alt.Y("y_pixel:Q", scale=None, axis=None),
            text="text:N",
            color=_run_color(runs).condition(test=shared, value=LABEL_COLOR),
            tooltip=alt.Tooltip("text:N", title=_("checkpoint")),
        )
    )
    layers = [*background, *(bar.transform_filter(selected) for bar in bars), label]
    notes = _off_scale_notes(data, ["run", "checkpoint"])
    if len(notes):
        tip = _("outside the bins fixed at step 0, infinite or NaN")
        layers.append(_note_layer(notes, runs, tip).transform_filter(selected))
    layered = alt.layer(*layers).add_params(checkpoint)
    return layered.properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)


# Mean and standard deviation (log) of the first-layer pre-activations against epochs.
def preactivation_stats_chart(df: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Columns: run, epoch, z_mean, z_std."""
    means = _clean(df, ["run", "epoch", "z_mean"], finite=["epoch", "z_mean"])
    stds = _clean(df, ["run", "epoch", "z_std"], finite=["epoch"], positive=["z_std"])
    if means.empty and stds.empty:
        return _no_data()
    runs = _runs(df)
    epoch = alt.Tooltip("epoch:Q", format=".2f", **_title(N_("epoch")))
    run, mean_title, std_title = _tip("run:N", N_("run")), _("mean of z"), _("std of z")
    mean_tooltip = [run, epoch, alt.Tooltip("z_mean:Q", title=mean_title, format=".4g")]
    std_tooltip = [run, epoch, alt.Tooltip("z_std:Q", title=std_title, format=".4g")]
    panels = []
    if len(means):
        mean_y = alt.Y("z_mean:Q", title=mean_title, axis=alt.Axis(labelExpr=LOG_LABELS))
        panels.append(_epoch_lines(means, runs, mean_y, mean_tooltip))
    if len(stds):
        std_y = _log_encoding(alt.Y, "z_std:Q", _("std of z (log scale)"), stds["z_std"])
        panels.append(_epoch_lines(stds, runs, std_y, std_tooltip))
    return alt.vconcat(*panels)


# Share of saturated (sigmoid/tanh) or dead (ReLU-like) units per layer against epochs.
def saturation_chart(df: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Columns: run, epoch, step, layer, saturated_share, dead_share (either may be all NaN or
    absent)."""
    keys = ["run", "epoch", "step", "layer"]
    absent = {measure: np.nan for measure in SATURATION_MEASURES if measure not in df.columns}
    data = _clean(df.assign(**absent), [*keys, *SATURATION_MEASURES], finite=["epoch"])
    long = data.melt(keys, var_name="measure", value_name="share")
    long = _clean(long, [*keys, "measure", "share"], finite=["share"])
    measures = {name: _(words) for name, words in SATURATION_MEASURES.items()}
    long["measure"] = long["measure"].map(measures)
    runs = _runs(df)
    dash = alt.StrokeDash("layer:N", title=_("layer"), legend=DASH_LEGEND)
    share = alt.Tooltip("share:Q", format=".1%", **_title(N_("share")))
    tooltip = _tooltip(_tip("layer:N", N_("layer")), share)
    panels = []
    for measure in measures.values():
        frame = long[long["measure"] == measure]
        y = alt.Y("share:Q", title=measure, scale=alt.Scale(domain=[0, 1])).axis(format="%")
        if len(frame):
            panels.append(_epoch_lines(frame, runs, y, tooltip, dash))
    return alt.vconcat(*panels) if panels else _no_data()


# Gradient norm and update ratio of each layer's kernel against epochs, both log scale.
def gradients_chart(df: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Columns: run, epoch, step, layer, gradient_norm, update_ratio."""
    titles = {
        "gradient_norm": _("gradient norm ‖∇W‖ (log scale)"),
        "update_ratio": _("update ratio ‖ΔW‖/‖W‖ (log scale)"),
    }
    tips = {"gradient_norm": N_("gradient norm"), "update_ratio": N_("update ratio")}
    runs = _runs(df)
    dash = alt.StrokeDash("layer:N", title=_("layer"), legend=DASH_LEGEND)
    panels = []
    for field, title in titles.items():
        frame = _clean(df, ["run", "epoch", "step", "layer", field], ["epoch"], [field])
        shown = alt.Tooltip(f"{field}:Q", format=".3g", **_title(tips[field]))
        tooltip = _tooltip(_tip("layer:N", N_("layer")), shown)
        if len(frame):
            y = _log_encoding(alt.Y, f"{field}:Q", title, frame[field])
            panels.append(_epoch_lines(frame, runs, y, tooltip, dash))
    return alt.vconcat(*panels) if panels else _no_data()


# Hidden-layer activations at initialization, one panel per layer (the puzzle-B picture).
def activation_histogram_chart(
    df: pd.DataFrame,
    title: str | None = None,
    saturation_band: tuple[float, float] | None = None,
) -> alt.VConcatChart | alt.Chart:
    """Columns: run, layer, bin_start, bin_end, density, optionally side, count, share,
    off_scale (see `probes.histogram_rows`): values beyond the bins are end bars, and a
    run's off-scale share is written on its panel when it reaches OFF_SCALE_NOTE.
    `saturation_band` (low, high) shades x < low and x > high, e.g. (0.05, 0.95) for sigmoid
    outputs. `title` is "hidden-layer activations at initialization" unless given."""
    data = _histogram_geometry(df, ["run", "layer"], "density")
    if data.empty:
        return _no_data()
    if title is None:
        title = _("hidden-layer activations at initialization")
    runs, panels = _runs(df), []
    for layer in dict.fromkeys(data["layer"]):
        frame = data[data["layer"] == layer]
        x_title = _("{layer} activation").format(layer=layer)
        background, bars = _histogram_layers(frame, runs, x_title, _("density"))
        if saturation_band is not None:
            inside = frame[frame["side"] == "inside"]
            edges = inside["bin_start"].min(), inside["bin_end"].max()
            background.append(_band_layer(*saturation_band, *edges))
        notes = _off_scale_notes(frame, ["run", "layer"])
        if len(notes):
            bars.append(_note_layer(notes, runs, _("outside the bins, infinite or NaN")))
        chart = alt.layer(*background, *bars)
        panels.append(chart.properties(width="container", height=PANEL_HEIGHT))
    return alt.vconcat(*panels, title=title).properties(autosize=FIT_WIDTH)


# Counts of raw values on VALUE_BINS even bins, with what lies beyond them, as histogram rows.
def _bin_values(values: np.ndarray, value_range: tuple[float, float] | None) -> pd.DataFrame:
    """side, bin_start, bin_end, count, share, off_scale: bins over `value_range`, else over the
    finite values' range; below/above count values beyond the bins (±inf included); NaN values
    count in off_scale only. share = count / all values."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if value_range is None:
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        value_range = (low, high) if high > low else (low - 0.5, low + 0.5)
    edges = np.linspace(*value_range, VALUE_BINS + 1)
    counts, _edges = np.histogram(finite, bins=VALUE_BINS, range=value_range)
    below, above = np.count_nonzero(values < edges[0]), np.count_nonzero(values > edges[-1])
    total = max(values.size, 1)
    every = np.concatenate([[below], counts, [above]])
    return pd.DataFrame(
        {
            "side": ["below", *["inside"] * VALUE_BINS, "above"],
            "bin_start": [-np.inf, *edges[:-1], edges[-1]],
            "bin_end": [edges[0], *edges[1:], np.inf],
            "count": every,
            "share": every / total,
            "off_scale": 1 - counts.sum() / total,
        }
    )


# Histogram of raw values, e.g. the B1 sigmoid outputs piling up at 0 and 1.
def values_histogram_chart(
    values_df: pd.DataFrame,
    x_title: str,
    saturation_band: tuple[float, float] | None = None,
    value_range: tuple[float, float] | None = None,
) -> alt.LayerChart | alt.Chart:
    """Column: value, optionally run. Counts on VALUE_BINS bins over `value_range` (e.g. (0, 1)
    for sigmoid outputs), else over the values' range; values beyond the bins (±inf) are end
    bars, and the off-scale share (NaN values included) is written on the chart when it
    reaches OFF_SCALE_NOTE. `saturation_band` (low, high) shades the tails."""
    has_run = "run" in values_df.columns
    data = _clean(values_df, ["run", "value"] if has_run else ["value"])
    data["value"] = pd.to_numeric(data["value"], errors="coerce").astype(float)
    if not np.isfinite(data["value"]).any():
        return _no_data()
    if not has_run:
        data["run"] = _("values")
    frames = [
        _bin_values(group["value"].to_numpy(), value_range).assign(run=run)
        for run, group in data.groupby("run", sort=False)
    ]
    binned = _histogram_geometry(pd.concat(frames, ignore_index=True), ["run"], "count")
    runs = _runs(data)
    background, bars = _histogram_layers(binned, runs, x_title, _("count"))
    count = alt.Tooltip("height:Q", title=_("count"), format=",")
    run = [_tip("run:N", N_("run"))] if has_run else []
    bars[0] = bars[0].encode(tooltip=[*run, alt.Tooltip("range:N", title=x_title), count])
    if not has_run:
        bars = [bar.encode(color=alt.value(TRAINED_COLOR)) for bar in bars]
        bars[0] = bars[0].mark_bar(opacity=0.9, orient="vertical")
    if saturation_band is not None:
        inside = binned[binned["side"] == "inside"]
        background.append(
            _band_layer(*saturation_band, inside["bin_start"].min(), inside["bin_end"].max())
        )
    notes = _off_scale_notes(binned, ["run"])
    if len(notes):
        bars.append(_note_layer(notes, runs, _("beyond the bins (±inf) or NaN")))
    chart = alt.layer(*background, *bars)
    return chart.properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)


# Pixel values after input scaling: do the inputs reach the network as 0–1 or 0–255?
def pixel_histogram_chart(df: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """Columns: bin_start, bin_end, count, optionally run (and side, share for values beyond
    the bins, drawn as end bars)."""
    has_run = "run" in df.columns
    data = df if has_run else df.assign(run=_("pixels"))
    binned = _histogram_geometry(data, ["run"], "count")
    if binned.empty:
        return _no_data()
    x_title, y_title = _("pixel value after scaling"), _("pixels")
    background, bars = _histogram_layers(binned, _runs(data), x_title, y_title)
    if not has_run:
        bars = [bar.encode(color=alt.value(TRAINED_COLOR)) for bar in bars]
    return alt.layer(*background, *bars).properties(
        width="container", height=HEIGHT, autosize=FIT_WIDTH
    )


# Horizontal bars comparing runs on final metrics, one panel per metric.
def final_metrics_chart(df: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Columns: run, metric (e.g. "val_accuracy"), value."""
    data = _clean(df, ["run", "metric", "value"], finite=["value"])
    if data.empty:
        return _no_data()
    runs, panels = _runs(df), []
    # The run axis keeps every run, so a diverged run shows as an empty row.
    y = alt.Y("run:N", title=None, scale=alt.Scale(domain=runs)).axis(labelLimit=400)
    value = alt.Tooltip("value:Q", format=".4g", **_title(N_("value")))
    tooltip = [_tip("run:N", N_("run")), _tip("metric:N", N_("metric")), value]
    for metric in dict.fromkeys(data["metric"]):
        share = _is_share(metric)
        words = SWEEP_METRICS.get(metric)  # the name itself in English, as before
        title = _(words) if words is not None and _(words) != words else str(metric)
        x = alt.X("value:Q", title=title, scale=alt.Scale(domain=[0, 1]) if share else {})
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
    drawn at its result when finite, else along the panel's bottom edge.

    Seed bands (`sweep.band_table`) add low, high, seeds and diverged_seeds: result is then the
    mean over the seeds with a number there, drawn with a min–max error bar; diverged means
    every seed diverged (a red cross, as one diverged run), and a value where only some did is
    an orange diamond at the others' mean. With one seed everywhere the chart is the plain one.
    """
    columns = ["value", "metric", "result", "diverged"]
    banded = (
        set(BAND_COLUMNS) <= set(df.columns)
        and (pd.to_numeric(df["seeds"], errors="coerce") > 1).any()
    )
    data = _clean(
        df,
        columns + (BAND_COLUMNS if banded else []),
        finite=["value"],
        positive=["value"] if log_x else [],
    )
    if data.empty:
        return _no_data()
    numeric = ["result", *(BAND_COLUMNS if banded else [])]
    data[numeric] = data[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    data["diverged"] = [False if pd.isna(flag) else bool(flag) for flag in data["diverged"]]
    status_words = [_(status) for status in (*STATUS, *([PARTLY_DIVERGED] if banded else []))]
    data["status"] = np.where(data["diverged"], status_words[1], status_words[0])
    if banded:
        partly = ~data["diverged"] & (data["diverged_seeds"] > 0)
        data.loc[partly, "status"] = status_words[2]
    metrics = [metric for metric in SWEEP_METRICS if metric in set(data["metric"])]
    metrics += [metric for metric in dict.fromkeys(data["metric"]) if metric not in SWEEP_METRICS]
    if log_x:
        x = _log_encoding(alt.X, "value:Q", knob, data["value"])
    else:
        x = alt.X("value:Q", title=knob, scale=alt.Scale(type="linear"))
    colors = alt.Scale(domain=status_words, range=STATUS_COLORS[: len(status_words)])
    shapes = alt.Scale(domain=status_words, range=STATUS_SHAPES[: len(status_words)])
    status = {
        "color": alt.Color("status:N", title=None, scale=colors, legend=BOTTOM_LEGEND),
        "shape": alt.Shape("status:N", title=None, scale=shapes, legend=BOTTOM_LEGEND),
        "tooltip": _sweep_tooltip(knob, banded),
    }
    panels = []
    for metric in metrics:
        rows = data[data["metric"] == metric]
        if banded:
            rows = rows.assign(**_band_words(rows, _is_share(metric)))
        log_y = "loss" in str(metric)
        drawable = np.isfinite(rows["result"]) & ((rows["result"] > 0) | (not log_y))
        words = _(SWEEP_METRICS[metric]) if metric in SWEEP_METRICS else str(metric)
        title = words + (_(" (log scale)") if log_y else "")
        y = alt.Y("result:Q", title=title)
        spans = rows[drawable]
        bars = _error_bars(spans, log_y) if banded else spans[:0]
        if log_y and drawable.any():
            extent = pd.concat([spans["result"], *([bars["low"], bars["high"]] if banded else [])])
            y = _log_encoding(alt.Y, "result:Q", title, extent)
        elif log_y:
            y = y.scale(type="log")
        elif _is_share(metric):
            y = y.scale(domain=[0, 1]).axis(format="%")
        line = alt.Chart(rows[drawable & ~rows["diverged"]]).mark_line(color=TRAINED_COLOR)
        points = alt.Chart(spans).mark_point(filled=False, size=60, strokeWidth=2)
        edge = alt.Chart(rows[~drawable]).mark_point(filled=False, size=60, strokeWidth=2)
        error_bars = alt.Chart(bars).mark_errorbar(ticks=True, thickness=1.5)
        layers = [
            line.encode(x=x, y=y),
            error_bars.encode(
                x=x, y=alt.Y("low:Q", scale=y["scale"], title=title), y2="high:Q"
            ).encode(color=status["color"], tooltip=status["tooltip"]),
            points.encode(x=x, y=y, **status),
            edge.encode(x=x, y=alt.value(PANEL_HEIGHT - 6), **status),
        ]
        layers = [layer for layer in layers if len(layer.data)]  # empty ones upset Vega's extents
        panels.append(alt.layer(*layers).properties(width="container", height=PANEL_HEIGHT))
    return alt.vconcat(*panels).properties(autosize=FIT_WIDTH)


# The rows of a sweep panel that get an error bar: several seeds with a spread between them.
def _error_bars(rows: pd.DataFrame, log_y: bool) -> pd.DataFrame:
    """Needs low, high, seeds; on a log axis both ends must be positive."""
    spread = (rows["seeds"] > 1) & (rows["high"] > rows["low"])
    if log_y:
        spread &= rows["low"] > 0
    return rows[spread]


# The sweep's tooltip: the knob's value and the result, or a band's mean, range and seeds.
def _sweep_tooltip(knob: str, banded: bool) -> list:
    """Needs value, result, diverged; with `banded`, range and diverged_words (`_band_words`)
    and seeds."""
    value = alt.Tooltip("value:Q", title=knob, format=".4g")
    if not banded:
        return [
            value,
            alt.Tooltip("result:Q", format=".4g", **_title(N_("result"))),
            alt.Tooltip("diverged:N", **_title(N_("diverged"))),
        ]
    return [
        value,
        alt.Tooltip("result:Q", title=_("mean over seeds"), format=".4g"),
        alt.Tooltip("range:N", title=_("min–max over seeds")),
        alt.Tooltip("seeds:Q", title=_("seeds")),
        alt.Tooltip("diverged_words:N", title=_("diverged")),
    ]


# A band's range and diverged seeds as the tooltip says them: "80.1% – 82.4%", "1 of 3 seeds".
def _band_words(rows: pd.DataFrame, share: bool) -> dict[str, list[str]]:
    """Needs low, high, seeds, diverged_seeds (`sweep.band_table`)."""
    number = _percent if share else _number
    ranges = [
        f"{number(low)} – {number(high)}" if np.isfinite(low) and np.isfinite(high) else _("n/a")
        for low, high in zip(rows["low"], rows["high"], strict=True)
    ]
    diverged = [
        _("{count} of {seeds} seeds").format(count=int(count), seeds=int(seeds))
        for count, seeds in zip(rows["diverged_seeds"], rows["seeds"], strict=True)
    ]
    return {"range": ranges, "diverged_words": diverged}


# Each run's first-step update ratio ‖ΔW‖/‖W‖ of the first kernel, as bars on a log axis.
def first_step_ratio_chart(df: pd.DataFrame) -> alt.Chart | alt.LayerChart:
    """Columns: run, update_ratio; optionally ratio_to_first (shown in the tooltip). Bars start
    a decade below the smallest ratio (a log axis has no zero to start from).

    A band of seeds (`twin.first_step_band`: update_ratio the mean, update_ratio_low and
    update_ratio_high the seeds' range, seeds) adds a dark error bar over each bar from low to
    high, where a run has more than one seed."""
    has_ratio = "ratio_to_first" in df.columns
    band = {"update_ratio_low", "update_ratio_high", "seeds"} <= set(df.columns)
    columns = ["run", "update_ratio", *(["ratio_to_first"] if has_ratio else [])]
    band_columns = ["update_ratio_low", "update_ratio_high", "seeds"] if band else []
    if band:
        columns += band_columns
    data = _clean(df, columns, positive=["update_ratio", *band_columns[:2]])
    if data.empty:
        return _no_data()
    runs = _runs(df)
    ratios = data["update_ratio"]
    low, high = ratios.min(), ratios.max()
    if band:
        low, high = (
            min(low, data["update_ratio_low"].min()),
            max(high, data["update_ratio_high"].max()),
        )
    base = 10 ** np.floor(np.log10(low) - 1)
    mean_title = _("mean ‖ΔW‖/‖W‖ over seeds") if band else "‖ΔW‖/‖W‖"
    tooltip = [
        _tip("run:N", N_("run")),
        alt.Tooltip("update_ratio:Q", title=mean_title, format=".3g"),
    ]
    if has_ratio:
        tooltip.append(alt.Tooltip("ratio_to_first:Q", title=_("× run 1"), format=",.4g"))
    title = _("‖ΔW‖/‖W‖ at step 1 (log)")
    x = _log_encoding(alt.X, "update_ratio:Q", title, ratios, (base, high))
    y = alt.Y("run:N", title=None, scale=alt.Scale(domain=runs)).axis(labelLimit=400)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(x=x, x2=alt.datum(base), y=y, color=_run_color(runs, legend=False))
        .encode(tooltip=tooltip)
    )
    sized = {"width": "container", "height": alt.Step(BAR_STEP), "autosize": FIT_WIDTH}
    spread = data[data["seeds"] > 1] if band else data.iloc[:0]
    if spread.empty:
        return bars.properties(**sized)
    spread = spread.assign(
        range=[
            f"{_number(a)} – {_number(b)}"
            for a, b in zip(spread["update_ratio_low"], spread["update_ratio_high"], strict=True)
        ]
    )
    bar_tips = [
        _tip("run:N", N_("run")),
        alt.Tooltip("range:N", title=_("‖ΔW‖/‖W‖, min–max over seeds")),
        alt.Tooltip("seeds:Q", title=_("seeds")),
    ]
    error_bars = (
        alt.Chart(spread)
        .mark_errorbar(ticks=True, color=LABEL_COLOR, thickness=1.5)
        .encode(
            x=alt.X("update_ratio_low:Q", scale=x["scale"], title=title), x2="update_ratio_high:Q"
        )
        .encode(y=y, tooltip=bar_tips)
    )
    return alt.layer(bars, error_bars).properties(**sized)


# |loss − reference loss| per training step on a log axis: where twin runs part.
def loss_gap_chart(df: pd.DataFrame, runs: Sequence[str] | None = None) -> alt.Chart:
    """Columns: run, step, gap; optionally seed (`twin.loss_gap_seeds`: one thinner line per
    run and seed, each its own seed's gap). `runs` fixes the colour domain (say, with the
    reference run first, so colours match the other charts); the legend lists only the runs
    drawn. Gaps of 0 are drawn at GAP_FLOOR."""
    seeded = "seed" in df.columns
    columns = ["run", "step", "gap", *(["seed"] if seeded else [])]
    data = _clean(df, columns, finite=["step", "gap"])
    if data.empty:
        return _no_data()
    data["shown"] = np.maximum(data["gap"].to_numpy(), GAP_FLOOR)
    tooltip = [
        _tip("run:N", N_("run")),
        *([_tip("seed:N", N_("seed"))] if seeded else []),
        alt.Tooltip("step:Q", format=",", **_title(N_("step"))),
        alt.Tooltip("gap:Q", title=_("|loss − reference|"), format=".3g"),
    ]
    # A short title: Vega shrinks the plot until a rotated axis title fits its height.
    y = _log_encoding(alt.Y, "shown:Q", _("|loss − reference| (log)"), data["shown"])
    domain = list(runs) if runs is not None else _runs(df)
    legend = alt.Legend(
        orient="bottom", direction="vertical", labelLimit=600, title=None, values=_runs(data)
    )
    color = alt.Color("run:N", scale=alt.Scale(domain=domain, scheme=RUN_SCHEME), legend=legend)
    lines = (
        alt.Chart(data).mark_line(strokeWidth=1.0, opacity=0.8)
        if seeded
        else (alt.Chart(data).mark_line(strokeWidth=1.5))
    )
    return (
        lines.encode(x=alt.X("step:Q", title=_("training step")), y=y, color=color)
        .encode(tooltip=tooltip, **({"detail": "seed:N"} if seeded else {}))
        .properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)
    )


# Seed bands: `curves_chart` of the seeds' mean, over each run's min–max band of validation.
def band_curves_chart(
    df: pd.DataFrame, coincident: pd.DataFrame | None = None
) -> alt.VConcatChart | alt.Chart:
    """Columns of `curves_chart` (value = the mean over seeds) plus low and high, the seeds'
    range at each checkpoint. The band is drawn for validation only, so the panel stays
    readable; the train curve is the seeds' mean."""
    chart = curves_chart(df.drop(columns=["low", "high", "seeds"], errors="ignore"), coincident)
    if not isinstance(chart, alt.VConcatChart):
        return chart
    runs = _runs(df)
    metrics = ["loss", "accuracy"][-len(chart.vconcat) :]
    panels = []
    for panel, metric in zip(chart.vconcat, metrics, strict=True):
        band = df[(df["metric"] == metric) & (df["split"] == "validation")]
        band = band[np.isfinite(band["low"]) & np.isfinite(band["high"])]
        if metric == "loss":
            band = band[band["low"] > 0]
            scale = alt.Scale(type="log")
        else:
            scale = alt.Scale(domain=[0, 1], clamp=True)
        area = (
            alt.Chart(band)
            .mark_area(opacity=BAND_OPACITY, clip=True)
            .encode(
                x=alt.X("epoch:Q"),
                y=alt.Y("low:Q", scale=scale),
                y2="high:Q",
                color=_run_color(runs),  # the lines' scale and legend (legend=False drops it)
            )
        )
        panels.append(alt.layer(area, panel))
    return alt.vconcat(*panels)


BAND_OPACITY = 0.2  # a seed band under its mean line
