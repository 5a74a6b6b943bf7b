"""What a teacher takes away: slide-ready figures and the data behind every view.

figure        the chart with a title and one caption line per run naming its set-up, so a
              downloaded image explains itself on a slide
figures_zip   the open view's figures as SVG and PNG (rendered by vl-convert, no browser)
              and figures.txt naming each figure's set-up
tables        CSV text: every table carries the runs' configuration columns

A set-up's words are in the reader's language; identifiers (initializer, activation, loss,
optimizer) stay as the link spells them, and a table's columns stay English identifiers.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from explorer.config import FIELD_NAMES, RunConfig, format_value
from explorer.i18n import _, ngettext
from explorer.presets import preset_key

EXPORT_WIDTH = 720  # pixels: a chart drawn to its container's width gets this width in a file
PNG_SCALE = 2  # PNG pixels per CSS pixel: sharp on a projector
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


def setup_words(config: RunConfig, preset_too: bool = True) -> str:
    """One line naming a run's set-up: data, network, initialization, training (and the preset
    it is, with `preset_too`)."""
    key = preset_key(config)
    preset = f"{key} · " if key is not None and preset_too else ""
    widths = "-".join(map(str, config.hidden_units))
    scaling = (
        _("standardized") if config.input_scaling == "standardize" else f"÷{config.input_divisor:g}"
    )
    init = config.kernel_initializer
    if config.weight_scale != 1:
        init += f" ÷{config.weight_scale:g} ({config.weight_scale_scope})"
    lr = _("lr {rate}").format(rate=f"{config.learning_rate:g}")
    if config.first_layer_lr_multiplier != 1:
        lr += _(" (first layer ×{multiplier})").format(
            multiplier=f"{config.first_layer_lr_multiplier:.3g}"
        )
    epochs = ngettext("{count} epoch", "{count} epochs", config.epochs).format(count=config.epochs)
    return _(
        "{preset}{dataset} {count} images {scaling} · {widths} {activation} · {init} · {loss} · "
        "{optimizer} {lr} · batch {batch} · {epochs} · seed {seed}"
    ).format(
        preset=preset,
        dataset=DATASET_NAMES.get(config.dataset, config.dataset),
        count=f"{config.train_samples:,}",
        scaling=scaling,
        widths=widths,
        activation=config.activation,
        init=init,
        loss=config.loss,
        optimizer=config.optimizer,
        lr=lr,
        batch=config.batch_size,
        epochs=epochs,
        seed=config.seed,
    )


def caption_lines(configs: Mapping[str, RunConfig]) -> list[str]:
    """One line per run, "name: set-up"."""
    return [
        _("{title}: {text}").format(
            title=name, text=setup_words(config, preset_too=str(preset_key(config)) not in name)
        )
        for name, config in configs.items()
    ]


def figure(chart: alt.TopLevelMixin, title: str, configs: Mapping[str, RunConfig]):
    """`chart` with `title` and the runs' set-ups as its subtitle (drawn in the image)."""
    subtitle = caption_lines(configs)
    params = alt.TitleParams(text=title, subtitle=subtitle, anchor="start", subtitleFontSize=10)
    return chart.properties(title=params)


def _fixed_width(spec: dict) -> dict:
    """A spec whose container-wide charts get EXPORT_WIDTH (a file has no container)."""
    text = json.dumps(spec).replace('"width": "container"', f'"width": {EXPORT_WIDTH}')
    fixed = json.loads(text)
    fixed.pop("autosize", None)
    return fixed


def figures_zip(figures: Sequence[tuple[str, alt.TopLevelMixin, Mapping[str, RunConfig]]]) -> bytes:
    """A zip of each (file stem, chart, its runs) as SVG and PNG, with figures.txt naming each
    figure's set-up. Rendered by vl-convert (Vega-Lite to SVG/PNG without a browser)."""
    import vl_convert  # a few MB of Deno and Vega: only when a zip is asked for

    buffer, index = io.BytesIO(), []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for stem, chart, configs in figures:
            spec = _fixed_width(chart.to_dict())
            archive.writestr(f"{stem}.svg", vl_convert.vegalite_to_svg(spec))
            archive.writestr(f"{stem}.png", vl_convert.vegalite_to_png(spec, scale=PNG_SCALE))
            index.append(
                f"{stem}.svg, {stem}.png\n"
                + "".join(f"  {line}\n" for line in caption_lines(configs))
            )
        archive.writestr("figures.txt", "\n".join(index))
    return buffer.getvalue()


def config_columns(config: RunConfig) -> dict[str, str]:
    """The run's configuration as columns (URL text, so that a link can be rebuilt from a row)."""
    key = preset_key(config)
    return {
        "preset": key or "",
        **{name: format_value(getattr(config, name)) for name in FIELD_NAMES},
    }


def with_config(table: pd.DataFrame, configs: Mapping[str, RunConfig], run_column: str = "run"):
    """`table` with each row's run configuration appended as columns."""
    columns = pd.DataFrame(
        [{run_column: name, **config_columns(config)} for name, config in configs.items()]
    )
    return table.merge(columns, on=run_column, how="left")


def csv(table: pd.DataFrame) -> str:
    return table.to_csv(index=False)
