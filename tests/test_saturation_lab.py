"""The saturation lab: the variance formula against measurement, and puzzle B's saturation."""

import numpy as np
import pytest

from explorer import saturation
from explorer.config import RunConfig
from explorer.setups import SaturationSetup

BASE = RunConfig(hidden_units=(256,))  # B1's width


@pytest.fixture(scope="module")
def images(fashion):
    return fashion.train_images.reshape(-1, 784)


def picture(images, initializer="random_normal", activation="sigmoid", stddev=1.0, kind="uniform"):
    config = saturation.lab_config(BASE, initializer, activation, stddev, kind)
    return saturation.saturation_lab(config, kind, images)


@pytest.mark.parametrize("kind", list(saturation.INPUT_KINDS))
@pytest.mark.parametrize("stddev", [0.05, 1.0])
def test_expected_std_matches_measured_on_every_input(images, kind, stddev):
    result = picture(images, stddev=stddev, kind=kind)
    assert result.outputs.shape == (saturation.LAB_SAMPLES, 256)
    assert result.measured_preactivation_std == pytest.approx(
        result.expected_preactivation_std, rel=0.1
    )


def test_inputs_are_what_they_say(images):
    uniform = picture(images, stddev=1.0, kind="uniform")
    scaled = picture(images, stddev=1.0, kind="scaled")
    raw = picture(images, stddev=1.0, kind="raw")
    # Same images, same kernel: raw pre-activations are exactly 255 times the scaled ones.
    np.testing.assert_allclose(
        raw.preactivations, 255 * scaled.preactivations, rtol=1e-3, atol=1e-2
    )
    assert not np.allclose(uniform.preactivations, scaled.preactivations)


def test_unit_normal_sigmoid_saturates_and_glorot_does_not(images):
    assert picture(images, stddev=1.0).saturated_share > 0.6  # B1: outputs pile at 0 and 1
    assert picture(images, "glorot_uniform").saturated_share < 0.05
    assert picture(images, "glorot_uniform", kind="scaled").saturated_share < 0.05
    assert picture(images, "glorot_uniform", kind="raw").saturated_share > 0.6  # raw pixels


def test_words_and_histogram_follow_the_activation(images):
    sigmoid = picture(images)
    words, share = saturation.saturation_words("sigmoid", sigmoid)
    assert words == "saturated" and share == sigmoid.saturated_share
    histogram = saturation.output_histogram("sigmoid", sigmoid)
    assert histogram.bin_start.iloc[0] == 0.0 and histogram.bin_end.iloc[-1] == 1.0
    assert histogram["count"].sum() == sigmoid.outputs.size
    widths = histogram.bin_end - histogram.bin_start
    assert (histogram.density * widths).sum() == pytest.approx(1.0)
    relu = picture(images, activation="relu", stddev=0.05)
    words, share = saturation.saturation_words("relu", relu)
    assert words == "dead units" and 0 <= share <= 1
    assert saturation.output_histogram("relu", relu)["count"].sum() == relu.outputs.size
    assert saturation.saturation_words("linear", picture(images, activation="linear"))[0] == ""


def test_bad_inputs_are_rejected(images):
    with pytest.raises(ValueError, match="sat_input must be one of uniform, scaled, raw; got 'x'"):
        saturation.lab_config(BASE, "random_normal", "sigmoid", 1.0, "x")
    with pytest.raises(ValueError, match="kernel_initializer must be one of"):
        saturation.lab_config(BASE, "xavier", "sigmoid", 1.0, "uniform")
    with pytest.raises(ValueError, match="init_param must be a number from 1e-06 to 100"):
        saturation.lab_config(BASE, "random_normal", "sigmoid", 0.0, "uniform")
    with pytest.raises(ValueError, match="needs training images"):
        saturation.saturation_lab(BASE, "raw", None)
    setup, problems = SaturationSetup.from_query(
        {
            "sat_initializer": "xavier",
            "sat_activation": "swish",
            "sat_input": "x",
            "sat_stddev": "-1",
        }
    )
    assert setup == SaturationSetup() and len(problems) == 4
    setup, problems = SaturationSetup.from_query({"sat_input": "raw", "sat_stddev": "0.05"})
    assert (setup.input_kind, setup.stddev, problems) == ("raw", 0.05, [])
