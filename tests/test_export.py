"""The exported Keras script: standalone, readable, and a faithful copy of the app's run.

Fast tests take the script apart (exec'd, not run as a program) and hold each piece against the
engine it copies: explorer.model's weights to the bit, select_samples' images, make_optimizer's
settings. Slow tests run it as a program, as a learner would, and compare with train().
"""

import ast
import importlib.util
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from explorer import export, model
from explorer.config import KERNEL_INITIALIZERS, OPTIMIZERS, RunConfig
from explorer.data import DEBIAN_FASHION_MNIST_DIR
from explorer.presets import PRESETS
from explorer.train import select_samples, train

ROOT = Path(__file__).resolve().parent.parent
A1, A3 = PRESETS["A1"].config, PRESETS["A3"].config
ALLOWED_IMPORTS = {"keras", "tensorflow", "numpy"} | set(sys.stdlib_module_names)
# Set-ups that take every branch of the generator between them.
VARIED = {
    "standardize, rmsprop, all scaled": A1.replace(
        input_scaling="standardize",
        optimizer="rmsprop",
        weight_scale=16.0,
        weight_scale_scope="all",
        bias_initializer="random_normal",
        init_scope="all",
        kernel_initializer="random_uniform",
        activation="tanh",
        loss="mse",
        validation_source="test",
    ),
    "linear, adam, weights ÷16": A1.replace(
        activation="linear", optimizer="adam", weight_scale=16.0, learning_rate=0.001
    ),
    "momentum, multiplier, four layers": A1.replace(
        optimizer="momentum",
        first_layer_lr_multiplier=0.5,
        kernel_initializer="truncated_normal",
        init_scope="hidden",
        bias_initializer="ones",
        hidden_units=(1024, 1024, 1024, 1024),
        seed=7,
    ),
}
SCRIPTS = {
    **{key: preset.config for key, preset in PRESETS.items()},
    **VARIED,
}


def load_script(config: RunConfig) -> dict:
    """The script's functions and constants, exec'd as a module that is not __main__."""
    namespace = {"__name__": "exported_script"}
    exec(compile(export.keras_script(config), "exported_script.py", "exec"), namespace)
    return namespace


def imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0] if node.level == 0 else ".")
    return modules


@pytest.mark.parametrize("config", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_script_compiles_and_imports_only_keras_tensorflow_numpy(config):
    source = export.keras_script(config)
    compile(source, export.script_filename(config), "exec")
    modules = imported_modules(source)
    assert {"keras", "tensorflow", "numpy"} <= modules
    assert modules <= ALLOWED_IMPORTS, modules - ALLOWED_IMPORTS


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="needs ruff (test extra)")
@pytest.mark.parametrize("config", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_script_is_lint_clean_and_formatted_as_the_project_code(config):
    """Learners read it: the project's ruff rules and format, lines within 100 characters."""
    source = export.keras_script(config)
    for command in (["check"], ["format", "--check"]):
        completed = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", "exported.py", "-"],
            input=source,
            capture_output=True,
            text=True,
            cwd=ROOT,  # the project's pyproject.toml
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr


def test_header_names_the_setup_its_link_and_the_app_version():
    source = export.keras_script(A3)
    header = source.split("\n#\n")[0].splitlines()
    assert header[0].endswith(f"Explorer {export.app_version()}.")
    assert "A3 A2 + first-layer lr ÷255²" in header[1]
    assert export.keras_script(A3, run_name="my\nrun").splitlines()[1] == "# Set-up: my run"


@pytest.mark.parametrize("config", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_header_link_reads_back_to_the_same_setup(config):
    lines = export.keras_script(config).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# The app's link")) + 1
    query = "".join(line.removeprefix("#   ") for line in lines[start:] if line.startswith("#   "))
    assert query == export.link_query(config)
    params = dict(urllib.parse.parse_qsl(query.removeprefix("?")))
    assert RunConfig.from_query(params) == config


def test_preset_header_says_what_differs_and_when_the_app_does_not_train_it():
    quick = export.keras_script(A1.replace(train_samples=10_000, validation_samples=2_000))
    assert "# (preset A1 with train_samples 10000, validation_samples 2000)" in quick
    assert "B1 only looks at this network at init" in export.keras_script(PRESETS["B1"].config)


def test_filename_is_the_preset_or_a_digest_of_the_setup():
    assert export.script_filename(A1) == "explorer_a1.py"
    assert export.script_filename(PRESETS["B4"].config) == "explorer_b4.py"
    quick = export.script_filename(A1.replace(train_samples=10_000))
    custom = export.script_filename(A1.replace(activation="tanh"))
    assert re.fullmatch(r"explorer_a1_[0-9a-f]{8}\.py", quick)
    assert re.fullmatch(r"explorer_custom_[0-9a-f]{8}\.py", custom)
    assert export.script_filename(A1.replace(activation="tanh")) == custom  # stable
    names = {export.script_filename(config) for config in SCRIPTS.values()}
    assert len(names) == len(SCRIPTS)
    assert all(name.removesuffix(".py").isidentifier() for name in names)  # importable


def test_download_gives_the_script_its_name_and_type():
    download = export.script_download(A3, "A3")
    assert download == {
        "data": export.keras_script(A3, "A3"),
        "file_name": "explorer_a3.py",
        "mime": "text/x-python",
    }


def test_bad_config_is_refused_with_what_was_received():
    with pytest.raises(ValueError, match="needs a RunConfig; got dict"):
        export.keras_script({"dataset": "mnist"})


def test_float_constants_read_back_exactly():
    for value in (0.1, 255.0, 1 / 255**2, 1 / 255, 1e-12, 0.3, 2 / 3, 1e6, 1e-3):
        assert eval(export._float(value)) == value


WEIGHT_CASES = {
    **{
        name: A1.replace(
            kernel_initializer=name,
            init_scope="all",
            init_param=0.2,
            weight_scale=4.0,
            weight_scale_scope="all",
            bias_initializer="random_normal",
            hidden_units=(32, 16),
            seed=3,
        )
        for name in KERNEL_INITIALIZERS
    },
    "A1": A1,
    "A3": A3,
    "B4": PRESETS["B4"].config,
    "hidden scope, ones, standardize": A1.replace(
        init_scope="hidden",
        kernel_initializer="he_uniform",
        bias_initializer="ones",
        input_scaling="standardize",
        hidden_units=(64, 32, 16),
        seed=11,
    ),
}


@pytest.mark.parametrize("config", WEIGHT_CASES.values(), ids=WEIGHT_CASES.keys())
def test_script_builds_the_apps_model_with_its_initial_weights_to_the_bit(config):
    images = np.random.default_rng(0).integers(0, 256, (200, 784), dtype=np.uint8)
    script = load_script(config)
    built = (
        script["build_model"](images)
        if config.input_scaling == "standardize"
        else script["build_model"]()
    )
    reference = model.build_model(config, images)
    assert [layer.name for layer in built.layers] == [layer.name for layer in reference.layers]
    for ours, theirs in zip(built.layers, reference.layers, strict=True):
        assert ours.get_config().get("activation") == theirs.get_config().get("activation")
        for weight, expected in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_array_equal(weight, expected)
    scaling, expected = built.get_layer("scaling"), reference.get_layer("scaling")
    assert (scaling.scale, scaling.offset) == (expected.scale, expected.offset)


def _settings(optimizer) -> dict:
    """What decides an optimizer's steps: its config without its name."""
    return {key: value for key, value in optimizer.get_config().items() if key != "name"}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize(
    ("weight_scale", "multiplier"), [(1.0, 1.0), (255.0, 1.0), (255.0, 1 / 255**2), (3.0, 0.5)]
)
def test_script_gives_the_first_kernel_the_apps_optimizer(optimizer, weight_scale, multiplier):
    config = A1.replace(
        optimizer=optimizer, weight_scale=weight_scale, first_layer_lr_multiplier=multiplier
    )
    script = load_script(config)
    first_expected = _settings(model.make_first_layer_optimizer(config))
    rest_expected = _settings(model.make_optimizer(config, config.learning_rate))
    if "make_optimizers" in script:
        first, rest = script["make_optimizers"]()
        assert _settings(first) == first_expected
        assert _settings(rest) == rest_expected
    else:  # the app's two optimizers are the same: one does
        assert first_expected == rest_expected
        assert _settings(script["make_optimizer"]()) == rest_expected


@pytest.mark.parametrize("source", ["holdout", "test"])
def test_script_loads_the_apps_samples(source, fashion, monkeypatch):
    config = A1.replace(train_samples=3_000, validation_samples=700, validation_source=source)
    monkeypatch.setenv(export.DATA_DIR_VARIABLE, str(DEBIAN_FASHION_MNIST_DIR))
    (train_images, train_labels), (val_images, val_labels) = load_script(config)["load_data"]()
    expected = select_samples(config, fashion)
    for array, name in [
        (train_images, "train_images"),
        (train_labels, "train_labels"),
        (val_images, "val_images"),
        (val_labels, "val_labels"),
    ]:
        assert array.dtype == expected[name].dtype, name
        np.testing.assert_array_equal(array, expected[name], err_msg=name)


def test_probe_callback_works_with_model_fit(capsys):
    """The callback is plain Keras: model.fit drives it as the script's loop does."""
    config = A1.replace(
        activation="sigmoid", hidden_units=(16,), train_samples=64, validation_samples=64
    )
    script = load_script(config)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 64).astype(np.int32)
    network = script["build_model"]()
    network.compile(
        optimizer=script["make_optimizer"](), loss=script["loss_function"], metrics=["accuracy"]
    )
    probe = script["FirstLayerProbe"](images[:32])
    network.fit(
        images.astype("float32"), labels, batch_size=32, epochs=1, verbose=0, callbacks=[probe]
    )
    printed = capsys.readouterr().out
    assert re.search(r"^at init: saturated \d+\.\d\d%$", printed, re.MULTILINE), printed
    assert re.search(
        r"^epoch 1/1: .*accuracy .*, saturated \d+\.\d\d%, update ratio \S+$", printed, re.M
    ), printed


# --- the script run as a program, against train() ---------------------------------------------


def run_script(config: RunConfig, folder: Path) -> str:
    """The script's printout, run as a learner runs it, reading the local Fashion-MNIST."""
    path = folder / export.script_filename(config)
    path.write_text(export.keras_script(config), encoding="utf-8")
    environment = {
        **os.environ,
        export.DATA_DIR_VARIABLE: str(DEBIAN_FASHION_MNIST_DIR),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    completed = subprocess.run(
        [sys.executable, path.name],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr[-3000:]
    return completed.stdout


def final_scores(printout: str) -> tuple[float, float]:
    found = re.search(r"^final validation accuracy ([\d.]+), loss ([\d.]+)$", printout, re.M)
    assert found, printout
    return float(found[1]), float(found[2])


# The tolerance for "the same run": the script and train() start from the same weights and see
# the same batches in the same order, so only float rounding separates them (the app's compiled
# loop runs many steps per XLA program, the script one, so sums may fuse differently). Here they
# agree to 4 decimals. 2 percentage points still leaves room for rounding to grow over a run,
# and is far below what a real difference would show: on this set-up seeds 0-4 of train() end
# between 42% and 63% (std 8 pp), and one batch more or less per epoch moves it by ~1-2 pp.
SAME_RUN_ACCURACY = 0.02
# 1,000 images at batch 32: 32 steps, the last of 8 images (model.fit's partial batch).
TINY = A1.replace(train_samples=1_000, validation_samples=2_000, epochs=1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [TINY, A3.replace(train_samples=1_000, validation_samples=2_000, epochs=1)],
    ids=["A1 tiny", "A3 tiny (first-layer lr ÷255²)"],
)
def test_script_run_ends_where_train_ends(config, fashion, tmp_path):
    """Note: train() trains an epoch's last partial batch since the model.fit batching change;
    with a train() that drops it, the two runs part on the last step (expect ~1-2 pp)."""
    result = train(config, fashion)
    accuracy, loss = final_scores(run_script(config, tmp_path))
    assert not result.diverged
    assert accuracy == pytest.approx(result.final.val_accuracy, abs=SAME_RUN_ACCURACY)
    assert loss == pytest.approx(result.final.val_loss, rel=0.05)


@pytest.mark.slow
def test_script_diverges_where_train_diverges(fashion, tmp_path):
    """A2 (raw inputs, weights ÷255, no correction): both stop at the same non-finite step."""
    config = PRESETS["A2"].config.replace(train_samples=1_000, validation_samples=2_000, epochs=1)
    result = train(config, fashion)
    printout = run_script(config, tmp_path)
    found = re.search(r"^diverged: the loss is \S+ at step (\d+)$", printout, re.M)
    assert result.diverged and found, printout
    assert int(found[1]) == result.diverged_step


@pytest.mark.slow
def test_script_prints_the_apps_saturation_and_update_ratio(fashion, tmp_path):
    """Sigmoid units with N(0, 0.3) weights: a good share saturated at init, and 32 full
    batches (1,024 images), so both runs measure ΔW on the same last step."""
    config = A1.replace(
        activation="sigmoid",
        kernel_initializer="random_normal",
        init_param=0.3,
        train_samples=1_024,
        validation_samples=1_000,
        epochs=1,
    )
    result = train(config, fashion)
    printout = run_script(config, tmp_path)
    layers = result.layers[result.layers.layer == "hidden_1"]
    at_init, at_end = layers.iloc[0], layers.iloc[-1]
    assert (at_init.step, at_end.step) == (0, config.total_steps)
    init = re.search(r"^at init: saturated ([\d.]+)%$", printout, re.M)
    epoch = re.search(
        r"^epoch 1/1: .*val_accuracy ([\d.]+), saturated ([\d.]+)%, update ratio (\S+)$",
        printout,
        re.M,
    )
    assert init and epoch, printout
    assert 0.1 < at_init.saturated_share < 0.9  # the measure has something to show
    # Printed to 0.01 pp and 4 digits; a few of 153,600 outputs may round across 0.05 or 0.95.
    assert float(init[1]) / 100 == pytest.approx(at_init.saturated_share, abs=1e-3)
    assert float(epoch[2]) / 100 == pytest.approx(at_end.saturated_share, abs=1e-3)
    assert float(epoch[3]) == pytest.approx(at_end.update_ratio, rel=0.01)
    assert float(epoch[1]) == pytest.approx(result.final.val_accuracy, abs=0.005)
