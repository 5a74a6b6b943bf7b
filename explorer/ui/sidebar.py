"""The sidebar: preset, quick look, the run's controls in one form, and the share link.

Every control is keyed by its `RunConfig` field and bound to the URL; its limits and options are
the config's own. `sidebar_ui()` draws it all and returns a plain `SidebarChoice`.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from explorer import config as cfg
from explorer import links
from explorer.i18n import _
from explorer.presets import COMPARISON_SETS, PRESETS
from explorer.ui import data_status, language
from explorer.ui.choice import named_choice
from explorer.ui.text import problem_markdown

CUSTOM = links.CUSTOM
DEFAULT_PRESET = "A1"  # the controls' defaults are A1's set-up, so the picker says so
QUICK_BY_DEFAULT = True  # a hosted app on a small CPU share; `quick=false` in a link turns it off
QUICK_LOOK_SAMPLES = 10_000  # a hosted app on a small CPU share trains on this subset
QUICK_LOOK_VALIDATION = 2_000
DEFAULTS = cfg.RunConfig()


@dataclasses.dataclass(frozen=True)
class SidebarChoice:
    """What the sidebar says: the controls' set-up and what the user asked for."""

    preset: str
    quick: bool
    controls: cfg.RunConfig | None  # what the controls describe (what a link shares)
    problems: tuple[str, ...]  # markdown, when the controls describe no valid set-up
    pressed: bool  # Train
    comparison_set: tuple[str, ...] | None  # a set's "Train … and compare" button
    seeds: int = 1  # each set-up trains with this many seeds, shown as one band

    @property
    def config(self) -> cfg.RunConfig | None:
        """What is trained: the controls' set-up with quick look applied."""
        return None if self.controls is None else quick_look(self.controls, self.quick)


def quick_look(config: cfg.RunConfig, quick: bool) -> cfg.RunConfig:
    """With quick look on, at most 10,000 training and 2,000 validation images."""
    if not quick:
        return config
    return config.replace(
        train_samples=min(config.train_samples, QUICK_LOOK_SAMPLES),
        validation_samples=min(config.validation_samples, QUICK_LOOK_VALIDATION),
    )


def widget_values(config: cfg.RunConfig) -> dict:
    values = {name: getattr(config, name) for name in cfg.FIELD_NAMES}
    values["hidden_units"] = ",".join(map(str, config.hidden_units))
    return values


# Fill every control from the chosen preset (a callback: it runs before the widgets are drawn).
def apply_preset() -> None:
    key = st.session_state.get("preset", CUSTOM)
    if key in PRESETS:
        st.session_state.update(widget_values(PRESETS[key].config))


# On a link's first load, a preset fills the controls the link does not set.
def preset_from_link() -> None:
    """A link's preset fills what the link leaves out. A link without a preset shows the
    default preset only while its controls are that preset's: a bound widget at its default
    value is absent from the URL, so "no preset" cannot mean Custom by itself."""
    if "link_loaded" in st.session_state:
        return
    st.session_state["link_loaded"] = True
    key = st.query_params.get("preset", DEFAULT_PRESET)
    if key not in PRESETS:
        return
    preset_values = widget_values(PRESETS[key].config)
    for name, value in preset_values.items():
        if name not in st.query_params:  # the link was cleaned: what it holds is usable
            st.session_state[name] = value
    if "preset" not in st.query_params:
        texts = PRESETS[key].config.to_query()  # the link is clean: canonical text
        if any(st.query_params[name] != texts[name] for name in texts if name in st.query_params):
            st.session_state["preset"] = CUSTOM


# On Train: controls that no longer match the preset make it Custom, so a link stays exact.
def sync_preset() -> None:
    key = st.session_state.get("preset", CUSTOM)
    if key in PRESETS:
        values = {name: st.session_state.get(name) for name in cfg.FIELD_NAMES}
        if values != widget_values(PRESETS[key].config):
            st.session_state["preset"] = CUSTOM


# Preset picker, set buttons and the quick-look switch; returns (preset, quick, set pressed).
def preset_ui() -> tuple[str, bool, int, tuple[str, ...] | None]:
    options = [CUSTOM, *PRESETS]
    named_choice(
        st.sidebar,
        _("Preset"),
        options,
        "preset",
        DEFAULT_PRESET,
        lambda option: _(CUSTOM) if option == CUSTOM else option,
        on_change=apply_preset,
        help=_("Fills the controls with an exact set-up of one of the two source experiments."),
    )
    key = st.session_state.get("preset", CUSTOM)
    if key in PRESETS:
        st.sidebar.caption(
            _("**{title}.** {description}").format(
                title=PRESETS[key].title, description=PRESETS[key].description
            )
        )
    quick = st.sidebar.toggle(
        _("Quick look ({count} training images)").format(count=f"{QUICK_LOOK_SAMPLES:,}"),
        value=QUICK_BY_DEFAULT,
        key="quick",
        bind="query-params",
        help=_("For a hosted app on a small CPU share. Off: presets run at their sources' size."),
    )
    seeds = st.sidebar.number_input(
        _("Seeds per set-up"),
        min_value=1,
        max_value=cfg.MAX_SEEDS,
        value=1,
        step=1,
        key="seeds",
        bind="query-params",
        help=_(
            "One run is no verdict: with several seeds (each its own initial weights and "
            "shuffle) every view shows the band, and comparisons say whether a difference "
            "exceeds the seed spread. The seeds train together, in one compiled program."
        ),
    )
    chosen_set = None
    for name, keys in COMPARISON_SETS.items():
        label = _("Train {presets} and compare").format(presets=", ".join(keys))
        if key in keys and st.sidebar.button(label, key=f"train_set_{name}", width="stretch"):
            chosen_set = keys
    return key, quick, int(seeds), chosen_set


def _choice(container, name: str, label: str, options, help_text: str | None = None):
    return named_choice(
        container,
        label,
        options,
        name,
        getattr(DEFAULTS, name),
        lambda option: cfg.option_name(name, option),
        help=help_text,
    )


def _number(container, name: str, label: str, help_text: str | None = None, step=None):
    default = getattr(DEFAULTS, name)
    is_int = isinstance(default, int)
    # The config's limits (one place): a value the link checker kept is one the widget takes.
    low, high = (cfg.INT_RANGES if is_int else cfg.FLOAT_RANGES)[name]
    return container.number_input(
        label,
        value=default,
        min_value=low,
        max_value=high,
        key=name,
        bind="query-params",
        help=help_text,
        format=None if is_int else "%g",
        step=(step or 1) if is_int else None,
    )


# All the run's knobs inside one form, so editing never interrupts a run; returns the raw values
# and whether Train was pressed.
def controls_ui() -> tuple[dict, bool]:
    values = {}
    with st.sidebar.form("controls", border=False):
        pressed = st.form_submit_button(
            _("Train"), type="primary", width="stretch", on_click=sync_preset
        )
        st.subheader(_("Data"))
        values["dataset"] = _choice(st, "dataset", _("Dataset"), cfg.DATASETS)
        data_status.status_ui(values["dataset"])  # where it is, before any Train
        left, right = st.columns(2)
        values["train_samples"] = _number(left, "train_samples", _("Training images"), step=1000)
        values["validation_samples"] = _number(
            right, "validation_samples", _("Validation images"), step=500
        )
        values["validation_source"] = _choice(
            st,
            "validation_source",
            _("Validation from"),
            cfg.VALIDATION_SOURCES,
            _("Held out: the last images of the training set; or the test set."),
        )
        values["input_scaling"] = _choice(
            st, "input_scaling", _("Input scaling"), cfg.INPUT_SCALINGS
        )
        values["input_divisor"] = _number(
            st,
            "input_divisor",
            _("Divide pixels by"),
            _("1 keeps raw 0–255 pixels; 255 maps to [0, 1]."),
        )

        st.subheader(_("Model"))
        values["hidden_units"] = st.text_input(
            _("Hidden layer widths"),
            value=widget_values(DEFAULTS)["hidden_units"],
            key="hidden_units",
            bind="query-params",
            help=_("{allowed}. The output is Dense(10, softmax).").format(
                allowed=_capitalized(cfg.allowed("hidden_units"))
            ),
        )
        values["activation"] = _choice(st, "activation", _("Hidden activation"), cfg.ACTIVATIONS)

        st.subheader(_("Initialization"))
        values["kernel_initializer"] = _choice(
            st,
            "kernel_initializer",
            _("Kernel initializer"),
            cfg.KERNEL_INITIALIZERS,
            _("Glorot normal, not truncated, is puzzle A's N(0, √(2/(fan_in+fan_out)))."),
        )
        values["init_param"] = _number(
            st,
            "init_param",
            _("Stddev (normal) or limit (uniform)"),
            _("Used by {initializers}.").format(
                initializers=", ".join(
                    cfg.option_name("kernel_initializer", name)
                    for name in cfg.PARAMETRIC_INITIALIZERS
                )
            ),
        )
        values["init_scope"] = _choice(
            st,
            "init_scope",
            _("Initializer applies to"),
            cfg.LAYER_SCOPES,
            _("Other layers get Keras's default, Glorot uniform."),
        )
        left, right = st.columns(2)
        values["weight_scale"] = _number(left, "weight_scale", _("Divide weights by"))
        values["weight_scale_scope"] = _choice(
            right, "weight_scale_scope", _("…in layers"), cfg.WEIGHT_SCALE_SCOPES
        )
        values["bias_initializer"] = _choice(
            st, "bias_initializer", _("Bias initializer"), cfg.BIAS_INITIALIZERS
        )

        st.subheader(_("Training"))
        left, right = st.columns(2)
        values["loss"] = _choice(left, "loss", _("Loss"), cfg.LOSSES)
        values["optimizer"] = _choice(right, "optimizer", _("Optimizer"), cfg.OPTIMIZERS)
        left, right = st.columns(2)
        values["learning_rate"] = _number(left, "learning_rate", _("Learning rate"))
        values["first_layer_lr_multiplier"] = _number(
            right,
            "first_layer_lr_multiplier",
            _("First-layer lr ×"),
            _("Multiplies the first kernel's learning rate; 1/65025 turns A2 into A3."),
        )
        left, right = st.columns(2)
        values["batch_size"] = _number(left, "batch_size", _("Batch size"))
        values["epochs"] = _number(right, "epochs", _("Epochs"))
        left, right = st.columns(2)
        values["seed"] = _number(left, "seed", _("Random seed"))
        values["checkpoints_per_epoch"] = _number(
            right, "checkpoints_per_epoch", _("Checkpoints / epoch")
        )
    return values, pressed


def _capitalized(text: str) -> str:
    """`text` with its first letter upper case (and the rest as it was, unlike capitalize())."""
    return text[:1].upper() + text[1:]


def config_from_values(values: dict) -> tuple[cfg.RunConfig | None, list[str]]:
    """The config the controls describe, or None and the problems as markdown."""
    params = {name: str(value) for name, value in values.items()}
    # The widths are typed text: checked as a link's value is, so it is echoed as literal text.
    _, typed = links.check_value("hidden_units", params["hidden_units"])
    if typed is not None:
        return None, [problem_markdown(typed, from_link=False)]
    config, problems = cfg.parse_query(params)
    return (None, problems) if problems else (config, [])


def sidebar_ui() -> SidebarChoice:
    """Draw the sidebar; return what it says."""
    language.language_ui()
    preset_from_link()
    preset, quick, seeds, chosen_set = preset_ui()
    values, pressed = controls_ui()
    controls, problems = config_from_values(values)
    return SidebarChoice(preset, quick, controls, tuple(problems), pressed, chosen_set, seeds)
