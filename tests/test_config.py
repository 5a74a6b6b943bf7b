"""RunConfig: validation messages, query-string round trip, presets faithful to the sources."""

import dataclasses

import pytest

from explorer.config import FIELD_NAMES, RunConfig, parse_number, parse_query
from explorer.presets import COMPARISON_SETS, PRESETS


def test_defaults_are_valid_and_frozen():
    config = RunConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"epochs": 0}, ["epochs", "1 to 50", "0"]),
        ({"epochs": 51}, ["epochs", "1 to 50", "51"]),
        ({"hidden_units": ()}, ["hidden_units", "1 to 4", "()"]),
        ({"hidden_units": (300, 1025)}, ["hidden_units", "1 to 1024", "1025"]),
        ({"hidden_units": (8, 8, 8, 8, 8)}, ["hidden_units", "1 to 4"]),
        ({"batch_size": 5000}, ["batch_size", "1 to 4096", "5000"]),
        ({"learning_rate": 0.0}, ["learning_rate", "from 1e-07 to 100", "0.0"]),
        ({"input_divisor": 5e-324}, ["input_divisor", "from 0.001 to 1e+06", "5e-324"]),
        ({"learning_rate": float("nan")}, ["learning_rate", "nan"]),
        ({"weight_scale": float("inf")}, ["weight_scale", "inf"]),
        ({"input_divisor": -255.0}, ["input_divisor", "-255.0"]),
        ({"activation": "swish"}, ["activation", "sigmoid, tanh, relu", "'swish'"]),
        ({"kernel_initializer": "xavier"}, ["kernel_initializer", "glorot_uniform", "'xavier'"]),
        ({"dataset": "cifar10"}, ["dataset", "mnist, fashion_mnist", "'cifar10'"]),
        ({"optimizer": "adagrad"}, ["optimizer", "sgd, momentum, adam, rmsprop"]),
        ({"train_samples": 58_000}, ["train_samples + validation_samples", "60000", "63000"]),
        ({"train_samples": 16, "batch_size": 32}, ["batch_size", "at most train_samples", "32"]),
        ({"batch_size": 1, "epochs": 50}, ["training steps", "200000", "larger batch"]),
    ],
)
def test_bad_values_name_field_value_and_what_is_allowed(changes, words):
    with pytest.raises(ValueError) as error:
        RunConfig().replace(**changes)
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize("key", list(PRESETS))
def test_query_round_trip_for_every_preset(key):
    config = PRESETS[key].config
    query = config.to_query()
    assert set(query) == set(FIELD_NAMES)
    assert all(isinstance(value, str) for value in query.values())
    assert RunConfig.from_query(query) == config


def test_query_ignores_unknown_keys_and_fills_missing_from_base():
    base = PRESETS["B2"].config
    config = RunConfig.from_query({"epochs": "3", "utm_source": "x", "embed": "true"}, base=base)
    assert config == base.replace(epochs=3)


def test_query_reads_fractions_and_lists():
    config = RunConfig.from_query(
        {"first_layer_lr_multiplier": "1/65025", "hidden_units": "64, 32", "seed": "7"}
    )
    assert config.first_layer_lr_multiplier == pytest.approx(1 / 65025, rel=1e-15)
    assert config.hidden_units == (64, 32)
    assert config.seed == 7


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"epochs": "many"}, ["epochs", "whole number from 1 to 50", "'many'"]),
        ({"epochs": "2.5"}, ["epochs", "'2.5'"]),
        ({"hidden_units": "300,abc"}, ["hidden_units", "comma-separated", "'300,abc'"]),
        ({"learning_rate": "fast"}, ["learning_rate", "from 1e-07 to 100", "'fast'"]),
        ({"learning_rate": "1/0"}, ["learning_rate", "'1/0'"]),
        ({"activation": "<script>"}, ["activation", "'<script>'"]),
    ],
)
def test_query_junk_raises_clear_value_error(params, words):
    with pytest.raises(ValueError) as error:
        RunConfig.from_query(params)
    for word in words:
        assert word in str(error.value)


def test_parse_query_keeps_good_fields_and_reports_bad_ones():
    config, problems = parse_query(
        {"epochs": "5", "learning_rate": "-1", "activation": "tanh", "batch_size": "x"}
    )
    assert config.epochs == 5 and config.activation == "tanh"
    assert config.learning_rate == RunConfig().learning_rate
    assert config.batch_size == RunConfig().batch_size
    assert len(problems) == 2
    assert any("learning_rate" in problem and "-1" in problem for problem in problems)
    assert any("batch_size" in problem and "'x'" in problem for problem in problems)


def test_parse_query_falls_back_when_fields_clash():
    base = RunConfig()
    config, problems = parse_query({"train_samples": "10", "batch_size": "64"}, base)
    assert config == base
    assert problems and "batch_size must be at most train_samples" in problems[0]


def test_presets_are_the_sources_set_ups():
    a1, a2, a3 = (PRESETS[key].config for key in ("A1", "A2", "A3"))
    assert (a1.dataset, a1.train_samples, a1.validation_samples) == ("fashion_mnist", 55_000, 5_000)
    assert a1.validation_source == "holdout"
    assert (a1.hidden_units, a1.activation, a1.batch_size, a1.epochs) == ((300, 100), "relu", 32, 2)
    assert (a1.optimizer, a1.learning_rate, a1.loss) == ("sgd", 0.1, "cross_entropy")
    assert a1.kernel_initializer == "glorot_normal_untruncated" and a1.init_scope == "first"
    assert a2 == a1.replace(input_divisor=1.0, weight_scale=255.0)
    assert a3 == a2.replace(first_layer_lr_multiplier=1 / 65025)
    b1 = PRESETS["B1"]
    assert not b1.trains
    assert (b1.config.hidden_units, b1.config.activation, b1.config.init_param) == (
        (256,),
        "sigmoid",
        1.0,
    )
    b2, b3 = PRESETS["B2"].config, PRESETS["B3"].config
    assert (b2.dataset, b2.hidden_units, b2.activation, b2.loss) == (
        "mnist",
        (64,),
        "sigmoid",
        "mse",
    )
    assert (b2.kernel_initializer, b2.init_param) == ("random_normal", 0.05)
    assert (b2.optimizer, b2.learning_rate, b2.batch_size, b2.epochs) == ("sgd", 0.01, 128, 20)
    assert (b2.validation_source, b2.validation_samples) == ("test", 10_000)
    assert b3 == b2.replace(kernel_initializer="glorot_uniform")
    assert all(key in PRESETS for keys in COMPARISON_SETS.values() for key in keys)


def test_differences_names_changed_fields():
    assert PRESETS["A1"].config.differences(PRESETS["A2"].config) == {
        "input_divisor": (255.0, 1.0),
        "weight_scale": (1.0, 255.0),
    }


@pytest.mark.parametrize(
    "text",
    [
        "inf",
        "-inf",
        "Infinity",
        "1e309",
        "nan",
        "1_000",
        "0x10",
        "1/0",
        "",
        " ",
        "1/2/3",
        "½",
        "1e",
        "--1",
        "1,5",
    ],
)
def test_parse_number_takes_plain_decimals_only(text):
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1.0), ("-2.5", -2.5), (".5", 0.5), ("5.", 5.0), ("1e-3", 1e-3), ("1/65025", 1 / 65025)],
)
def test_parse_number_reads_decimals_and_fractions(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("field", ["epochs", "batch_size", "train_samples", "seed"])
@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "1e309", "1_000"])
def test_whole_number_fields_reject_infinity_with_the_text_received(field, text):
    _, problems = parse_query({field: text})
    assert len(problems) == 1
    assert field in problems[0] and repr(text) in problems[0]
