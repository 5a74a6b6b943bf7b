"""A run's story in plain words, computed from its numbers.

Each finding is one sentence built from the recorded history and layer tables, in the order a
learner would check: did it blow up, were units saturated or dead at init, how big was the
first step, and how far did it get. Each sentence is one message of the catalog, its numbers
filled in by name and written as in English (`_("… {share} …").format(share="42%")`).
"""

from __future__ import annotations

import math

import pandas as pd

from explorer import twin
from explorer.config import IMAGE_PIXELS
from explorer.i18n import _
from explorer.puzzles import glorot_stddev
from explorer.train import RunResult

CHANCE_ACCURACY = 0.10  # ten balanced classes
LEARNING_ACCURACY = 0.6  # below this after training, the run is stalled or slow
HEALTHY_UPDATE_RATIO = 1e-3  # a common rule of thumb for ‖ΔW‖/‖W‖ per step
NEAR_FACTOR = 3  # within this factor of the rule of thumb is "near"
FAR_FACTOR = 30  # beyond this factor is "far"
NOTABLE_SHARE = 0.05  # below this, saturation or dead units are not worth a sentence
STALLING_SHARE = 0.5  # saturated at init beyond this: saturation explains a stall
GLOROT_CLOSE = 1.5  # a normal initializer's stddev within this factor of Glorot's is "about" it


def summary_table(result: RunResult) -> pd.DataFrame:
    """The run's headline numbers as a two-column table (measure, value) of text.

    A diverged run's numbers are those of its last checkpoint before the loss stopped being
    finite, and say so; each figure is written as the diagnosis writes it. The words (and the
    columns' names) are in the reader's language.
    """
    final = result.final
    if result.diverged:
        step = f"{int(final.step):,}"
        measures = [
            _("train accuracy at step {step}").format(step=step),
            _("validation accuracy at step {step}").format(step=step),
            _("train loss at step {step}").format(step=step),
            _("validation loss at step {step}").format(step=step),
        ]
    else:
        measures = [
            _("train accuracy"),
            _("validation accuracy"),
            _("train loss"),
            _("validation loss"),
        ]
    trained = _("{trained} of {planned}").format(
        trained=_epochs(result, _steps_trained(result)), planned=result.config.epochs
    )
    time = _("{train} s (+{setup} s set-up)").format(
        train=f"{result.train_seconds:.1f}", setup=f"{result.setup_seconds:.1f}"
    )
    diverged = (
        _("yes, {when}").format(when=_at_step(result, result.diverged_step))
        if result.diverged
        else _("no")
    )
    figures = [
        _percent(final.train_accuracy),
        _percent(final.val_accuracy),
        _loss(final.train_loss),
        _loss(final.val_loss),
    ]
    rows = [
        *zip(measures, figures, strict=True),
        (_("epochs trained"), trained),
        (_("training time"), time),
        (_("parameters"), f"{result.parameter_count:,}"),
        (_("diverged"), diverged),
    ]
    if result.diverged:
        rows.append((_("last checkpoint before it diverged"), _step_epoch(result, int(final.step))))
        rows.append((_("last finite training loss"), _loss(_last_finite(result))))
    return pd.DataFrame(rows, columns=[_("measure"), _("value")])


def _steps_trained(result: RunResult) -> int:
    return result.diverged_step if result.diverged else int(result.final.step)


def _epochs(result: RunResult, step: int) -> str:
    return f"{step / result.config.steps_per_epoch:.3g}"


def _step_epoch(result: RunResult, step: int) -> str:
    """A step and its epoch, written one way everywhere: step 94 (epoch 0.301)."""
    return _("step {step} (epoch {epoch})").format(step=f"{step:,}", epoch=_epochs(result, step))


def _at_step(result: RunResult, step: int) -> str:
    """at step 94 (epoch 0.301)"""
    return _("at step {step} (epoch {epoch})").format(step=f"{step:,}", epoch=_epochs(result, step))


def _loss(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else _("not finite")


def diagnose(result: RunResult) -> list[str]:
    """Plain-language findings about `result`, most important first, in the reader's language."""
    findings = []
    config, history, layers = result.config, result.history, result.layers
    if result.diverged:
        findings.append(
            _(
                "The loss stopped being a finite number {when}: the run diverged, and training "
                "stopped there. The last finite training loss was {loss}."
            ).format(when=_at_step(result, result.diverged_step), loss=_loss(_last_finite(result)))
        )
    at_init = layers[(layers["step"] == 0) & layers["hidden"]]
    if not at_init.empty:
        first = at_init.iloc[0]
        if config.activation in ("sigmoid", "tanh") and first.saturated_share >= NOTABLE_SHARE:
            findings.append(
                _(
                    "{share} of first-layer {activation} outputs were saturated at init (in the "
                    "flat tails, where the gradient is nearly 0)."
                ).format(share=_percent(first.saturated_share), activation=config.activation)
            )
        if not math.isnan(first.dead_share) and first.dead_share >= NOTABLE_SHARE:
            findings.append(
                _(
                    "{share} of first-layer {activation} units were dead at init (z ≤ 0 for "
                    "every probe image, so no gradient reaches them)."
                ).format(share=_percent(first.dead_share), activation=config.activation)
            )
    last_hidden = layers[(layers["step"] == layers["step"].max()) & layers["hidden"]]
    dead_now = last_hidden["dead_share"].dropna()
    if len(history) > 1 and not dead_now.empty and dead_now.max() >= NOTABLE_SHARE:
        worst = last_hidden.loc[dead_now.idxmax()]
        findings.append(
            _("At the end, {share} of {layer}'s units are dead.").format(
                share=_percent(worst.dead_share), layer=worst.layer
            )
        )
    first_steps = layers[(layers["step"] == 1) & (layers["layer"] == layers["layer"].iloc[0])]
    ratio = math.nan
    if not first_steps.empty and math.isfinite(first_steps.iloc[0].update_ratio):
        ratio = first_steps.iloc[0].update_ratio
        findings.append(
            _(
                "The first step changed the first-layer kernel by ‖ΔW‖/‖W‖ = {ratio}, "
                "{comparison} the rule-of-thumb {rule}."
            ).format(
                ratio=f"{ratio:.2g}",
                comparison=update_words(ratio),
                rule=f"{HEALTHY_UPDATE_RATIO:g}",
            )
        )
    findings.extend(_weights_divided_words(result))
    initializer = _initializer_words(config)
    if initializer:
        findings.append(initializer)
    cause = _why_slow(result, at_init, ratio)
    if cause:
        findings.append(cause)
    findings.append(_how_far(result))
    return findings


def update_words(ratio: float) -> str:
    """How `ratio` compares with HEALTHY_UPDATE_RATIO, in words that fit the factor."""
    size = ratio / HEALTHY_UPDATE_RATIO
    if 1 / NEAR_FACTOR <= size <= NEAR_FACTOR:
        return _("near")
    factor = size if size > 1 else 1 / size
    if factor > FAR_FACTOR:
        return _("far larger than") if size > 1 else _("far smaller than")
    words = _("about {factor}× larger than") if size > 1 else _("about {factor}× smaller than")
    return words.format(factor=f"{factor:.0f}")


def _weights_divided_words(result: RunResult) -> list[str]:
    """For raw-ish inputs with the first kernel divided by c and no correction (A2): what a
    plain `fit` shows of it, and the c² answer in three lines, pointing to the Twin lab.

        z = x·(W/c) = (x/c)·W at init, but ∂L/∂W = xᵀ·∂L/∂z is c× larger on a kernel c× smaller:
        an SGD step changes the first layer c²× more relative to its size (Adam, RMSprop: c×).
    """
    config = result.config
    divided = config.weight_scale > 1 and config.weight_scale_scope in ("first", "all")
    if not divided or config.input_scaling != "divide" or config.first_layer_lr_multiplier != 1:
        return []
    c, growth = (
        config.weight_scale,
        twin.relative_step_growth(config.optimizer, config.weight_scale),
    )
    power = "c" if config.optimizer in twin.ADAPTIVE else "c²"
    words = []
    if result.diverged:
        words.append(
            _(
                "It blows up, where the question's author saw it “converge extremely slowly”: a "
                "plain `model.fit` prints only each epoch's averages, a first-epoch loss that is "
                "huge or not a number, then accuracy stuck near chance (10%) with a loss that "
                "barely moves (about ln 10 ≈ 2.3 once the blown-up first layer's ReLUs are "
                "dead), which reads as very slow learning. Which of these it prints depends on "
                "the seed and Keras version."
            )
        )
    words.append(
        _(
            "Why, in three lines: (1) z = x·(W/{c}) equals (x/{c})·W at init; (2) but "
            "∂L/∂W = xᵀ·∂L/∂z is {c}× larger and lands on a kernel {c}× smaller, so each "
            "{optimizer} step changes the first layer {power} = {growth}× more relative to its "
            "size; (3) dividing the first layer's learning rate by {growth} gives the "
            "scaled-input run back. The **Twin lab** trains the three."
        ).format(
            c=f"{c:g}",
            optimizer=_(twin.OPTIMIZER_NAMES[config.optimizer]),
            power=power,
            growth=f"{growth:,.0f}",
        )
    )
    return words


def _initializer_words(config) -> str | None:
    """For a normal initializer: how its stddev compares with Glorot's for the first layer."""
    if config.kernel_initializer not in ("random_normal", "truncated_normal"):
        return None
    glorot = glorot_stddev(IMAGE_PIXELS, config.hidden_units[0])
    ratio = config.init_param / glorot
    if 1 / GLOROT_CLOSE <= ratio <= GLOROT_CLOSE:
        return _(
            "The first kernel's stddev {stddev} is about Glorot's "
            "√(2/({fan_in}+{fan_out})) = {glorot} for this layer: Glorot initialization would "
            "change little."
        ).format(
            stddev=f"{config.init_param:g}",
            fan_in=IMAGE_PIXELS,
            fan_out=config.hidden_units[0],
            glorot=f"{glorot:.3g}",
        )
    return _(
        "The first kernel's stddev {stddev} is {ratio}× Glorot's {glorot} for this layer."
    ).format(stddev=f"{config.init_param:g}", ratio=f"{ratio:.3g}", glorot=f"{glorot:.3g}")


def _why_slow(result: RunResult, at_init: pd.DataFrame, ratio: float) -> str | None:
    """For a sigmoid or tanh run that did not learn well: saturation, or the loss and step?"""
    config, final = result.config, result.final
    if result.diverged or config.activation not in ("sigmoid", "tanh") or at_init.empty:
        return None
    if final.epoch == 0 or final.val_accuracy >= LEARNING_ACCURACY:
        return None
    saturated = at_init.iloc[0].saturated_share
    if saturated >= STALLING_SHARE:
        return _(
            "Stalled by saturation: {share} of the first layer's outputs sat in the flat tails "
            "at init, where the gradient is nearly 0, so the first layer barely learns (a "
            "smaller initial spread, such as Glorot's, avoids it)."
        ).format(share=_percent(saturated))
    step = (
        ""
        if not math.isfinite(ratio)
        else _(" and the first step moved the kernel by {ratio}").format(ratio=f"{ratio:.2g}")
    )
    loss = _("MSE on softmax outputs gives small gradients; ") if config.loss == "mse" else ""
    return _(
        "Slow because of the loss and the learning rate, not saturation: only {share} of the "
        "first layer's outputs were saturated at init{step}. {loss}cross-entropy or a larger "
        "learning rate make it learn faster."
    ).format(share=_percent(saturated), step=step, loss=loss)


def _how_far(result: RunResult) -> str:
    final = result.final
    accuracy = final.val_accuracy
    if result.diverged:
        checkpoint = _step_epoch(result, int(final.step))
        where = _("at the last checkpoint before it diverged, {checkpoint}").format(
            checkpoint=checkpoint
        )
    elif final.epoch > 0:
        where = _("after {epochs} epochs").format(epochs=_epochs(result, int(final.step)))
    else:
        where = _("at init")
    if not math.isfinite(accuracy):
        return _("Validation accuracy is not a number {where}.").format(where=where)
    if accuracy < CHANCE_ACCURACY + 0.05:
        verdict = _("no better than chance (10%): the network has not learned")
    elif accuracy < 0.6:
        verdict = _("well above chance but stalled far from what this network can reach")
    else:
        verdict = _("the network is learning")
    return _("Validation accuracy is {accuracy} {where}: {verdict}.").format(
        accuracy=_percent(accuracy), where=where, verdict=verdict
    )


def _last_finite(result: RunResult) -> float:
    finite = [loss for loss in result.step_loss if math.isfinite(loss)]
    return finite[-1] if finite else math.nan


def _percent(share: float) -> str:
    return f"{share:.0%}" if math.isfinite(share) else _("n/a")
