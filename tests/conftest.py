"""Shared fixtures: real Fashion-MNIST from Debian's package, loaded once per session."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

import pytest

from explorer.data import DEBIAN_FASHION_MNIST_DIR, load_dataset


@pytest.fixture(scope="session")
def fashion():
    """The real Fashion-MNIST; CI installs `dataset-fashion-mnist`, which provides it."""
    if not DEBIAN_FASHION_MNIST_DIR.exists():
        pytest.skip("needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
    return load_dataset("fashion_mnist")
