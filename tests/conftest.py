"""Shared fixtures: real Fashion-MNIST from Debian's package, loaded once per session."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out
# The suite trains far more network shapes than a server's default cap of XLA programs (16);
# past it a new shape would train in graph mode, whose last float bits differ, and the tests
# that compare two runs bit for bit would depend on the order tests run in. tests/test_memory.py
# tests the cap itself. (Also inherited by the browser tests' server.)
os.environ.setdefault("EXPLORER_MAX_COMPILATIONS", "100000")

import numpy as np
import pytest
import streamlit as st

from explorer import data, group
from explorer import train as training
from explorer.data import DEBIAN_FASHION_MNIST_DIR, load_dataset
from explorer.ui import runs


@pytest.fixture(scope="session")
def fashion():
    """The real Fashion-MNIST; CI installs `dataset-fashion-mnist`, which provides it."""
    if not DEBIAN_FASHION_MNIST_DIR.exists():
        pytest.skip("needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
    return load_dataset("fashion_mnist")


@pytest.fixture
def fresh_caches():
    """No finished run left from another test: caches and the job manager's results."""
    st.cache_data.clear()
    runs.manager().clear_results()
    yield
    st.cache_data.clear()
    runs.manager().clear_results()


@pytest.fixture
def train_calls(monkeypatch):
    """Counts real trainings: the app calls explorer.train.train and explorer.group.train_group
    through their modules (a group counts each of its runs)."""
    calls = []
    real_train = training.train

    def counting_train(config, dataset, on_checkpoint=None, should_stop=None):
        calls.append(config)
        return real_train(config, dataset, on_checkpoint, should_stop)

    real_group = group.train_group

    def counting_group(configs, dataset, on_checkpoint=None, should_stop=None):
        calls.extend(configs)  # a group trains each of its runs, in one compiled program
        return real_group(configs, dataset, on_checkpoint, should_stop)

    monkeypatch.setattr(training, "train", counting_train)
    monkeypatch.setattr(group, "train_group", counting_group)
    return calls


# CI installs every package the tests need, so there a skipped test means a missing install
# step, not a machine without Chromium: `.ci/run` sets EXPLORER_NO_SKIPS=1 to fail on skips.
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("EXPLORER_NO_SKIPS") == "1" and skipped and exitstatus == 0:
        reporter.ensure_newline()
        reporter.write_line(f"EXPLORER_NO_SKIPS=1: {len(skipped)} test(s) skipped", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def generated_mnist(tmp_path, monkeypatch):
    """MNIST-format IDX files (MNIST itself cannot be had here), found via EXPLORER_DATA_DIR."""
    rng = np.random.default_rng(0)
    arrays = (
        rng.integers(0, 256, (10_500, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 10_500, dtype=np.uint8),
        rng.integers(0, 256, (2_000, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 2_000, dtype=np.uint8),
    )
    (tmp_path / "mnist").mkdir()
    for name, array in zip(data.IDX_FILE_NAMES, arrays, strict=True):
        data.write_idx(tmp_path / "mnist" / f"{name}.gz", array)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def tiny_quick_look(monkeypatch):
    """Quick look at 640 training and 200 validation images: the page's own paths (cards,
    links, labs) train in a second."""
    from explorer.ui import sidebar

    monkeypatch.setattr(sidebar, "QUICK_LOOK_SAMPLES", 640)
    monkeypatch.setattr(sidebar, "QUICK_LOOK_VALIDATION", 200)
