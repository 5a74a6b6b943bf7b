"""The presets of the design: exact set-ups of the two source experiments.

Puzzle A (a Cross Validated question): inputs ÷255 train; raw inputs with first-layer
weights ÷255 give the same pre-activations at init, yet do not train. Puzzle B (a tutorial):
N(0, 1) weights saturate sigmoid units (B1, true); RandomNormal() with MSE and SGD reaches
about 42% (B2) and the tutorial blames the initialization, but RandomNormal()'s stddev is 0.05,
about Glorot's (B3): B4 (true N(0, 1)) and B5 (cross-entropy) show what really causes what.
"""

from __future__ import annotations

import dataclasses

from explorer.config import RunConfig
from explorer.i18n import N_, _


@dataclasses.dataclass(frozen=True)
class Preset:
    key: str  # short, URL-safe
    title_message: str  # in English; `title` gives it in the reader's language
    description_message: str
    config: RunConfig
    trains: bool = True  # B1 only looks at the network at init

    @property
    def title(self) -> str:
        return _(self.title_message)

    @property
    def description(self) -> str:
        return _(self.description_message)


_A1 = RunConfig(
    dataset="fashion_mnist",
    train_samples=55_000,
    validation_samples=5_000,
    validation_source="holdout",
    input_scaling="divide",
    input_divisor=255.0,
    hidden_units=(300, 100),
    activation="relu",
    kernel_initializer="glorot_normal_untruncated",
    init_scope="first",
    weight_scale=1.0,
    weight_scale_scope="first",
    bias_initializer="zeros",
    loss="cross_entropy",
    optimizer="sgd",
    learning_rate=0.1,
    first_layer_lr_multiplier=1.0,
    batch_size=32,
    epochs=2,
)
_A2 = _A1.replace(input_divisor=1.0, weight_scale=255.0)
_A3 = _A2.replace(first_layer_lr_multiplier=1 / 255**2)

# B1 feeds uniform random inputs to one Dense(256, sigmoid) layer; no data, no training.
_B1 = RunConfig(
    hidden_units=(256,),
    activation="sigmoid",
    kernel_initializer="random_normal",
    init_param=1.0,
    init_scope="first",
    bias_initializer="zeros",
)
_B2 = RunConfig(
    dataset="mnist",
    train_samples=60_000,
    validation_samples=10_000,
    validation_source="test",
    input_scaling="divide",
    input_divisor=255.0,
    hidden_units=(64,),
    activation="sigmoid",
    kernel_initializer="random_normal",
    init_param=0.05,  # Keras RandomNormal()'s default stddev
    init_scope="first",
    bias_initializer="zeros",
    loss="mse",
    optimizer="sgd",
    learning_rate=0.01,
    batch_size=128,
    epochs=20,
)
_B3 = _B2.replace(kernel_initializer="glorot_uniform")
_B4 = _B2.replace(init_param=1.0)  # true N(0, 1): B1's saturation, trained
_B5 = _B2.replace(loss="cross_entropy")  # the change that fixes the slow learning

PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in (
        Preset(
            "A1",
            N_("A1 scaled inputs"),
            N_("Fashion-MNIST ÷255, Glorot-normal first layer."),
            _A1,
        ),
        Preset(
            "A2",
            N_("A2 raw inputs, weights ÷255"),
            N_("Same pre-activations at init as A1, yet SGD blows up."),
            _A2,
        ),
        Preset(
            "A3",
            N_("A3 A2 + first-layer lr ÷255²"),
            N_("The first kernel's learning rate × 1/65025 makes A2 retrace A1."),
            _A3,
        ),
        Preset(
            "B1",
            N_("B1 N(0,1) saturation"),
            N_(
                "Dense(256, sigmoid) with N(0, 1) weights on uniform inputs: outputs pile at 0 "
                "and 1."
            ),
            _B1,
            trains=False,
        ),
        Preset(
            "B2",
            N_("B2 the 42% run"),
            N_(
                "The tutorial's code: MNIST, RandomNormal() (stddev 0.05, about Glorot's 0.049 "
                "here) + sigmoid, MSE, SGD 0.01, 20 epochs. Not saturated: slow."
            ),
            _B2,
        ),
        Preset(
            "B3",
            N_("B3 B2 with Glorot"),
            N_("The tutorial's promised fix, a Glorot-uniform kernel: nearly B2's own init."),
            _B3,
        ),
        Preset(
            "B4",
            N_("B4 B2 with N(0,1)"),
            N_("B2 with true N(0, 1) kernels: B1's saturation, trained. Worse than B2."),
            _B4,
        ),
        Preset(
            "B5",
            N_("B5 B2 with cross-entropy"),
            N_("B2 with cross-entropy instead of MSE: what actually fixes the slow learning."),
            _B5,
        ),
    )
}
# Presets meant to be trained together and overlaid.
COMPARISON_SETS = {"A": ("A1", "A2", "A3"), "B": ("B2", "B3", "B4", "B5")}
SAMPLE_FIELDS = ("train_samples", "validation_samples")  # changed by the quick-look switch


def preset_key(config: RunConfig | None) -> str | None:
    """The preset this config is, ignoring sample sizes (a quick look is still A1)."""
    if config is None:
        return None
    for key, preset in PRESETS.items():
        differing = preset.config.differences(config)
        if not set(differing) - set(SAMPLE_FIELDS):
            return key
    return None


def trains(config: RunConfig) -> bool:
    """False for a set-up that only looks at the network at init (B1), True otherwise."""
    key = preset_key(config)
    return key is None or PRESETS[key].trains
