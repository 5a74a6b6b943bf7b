"""Tests for `explorer.data`: IDX files, places searched and error messages."""

from pathlib import Path

import numpy as np
import pytest

from explorer import data

REAL_DEBIAN_DIR = data.DEBIAN_FASHION_MNIST_DIR


@pytest.fixture(autouse=True)
def isolated_places(tmp_path, monkeypatch):
    """Points every place `load_dataset()` searches at empty temporary folders.

    The download is replaced by a function that fails at once, so that no
    test ever waits on the network.
    """
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "debian")

    def fail_download(name):
        raise ConnectionError(f"no network in tests ({name})")

    monkeypatch.setattr(data, "_download_with_keras", fail_download)


def make_arrays(seed, num_train=100, num_test=20):
    """Returns random train images, train labels, test images, test labels."""
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, size=(num_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=num_train, dtype=np.uint8),
        rng.integers(0, 256, size=(num_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=num_test, dtype=np.uint8),
    )


def write_idx_folder(folder, arrays, suffix=""):
    folder.mkdir(parents=True, exist_ok=True)
    for base_name, array in zip(data.IDX_FILE_NAMES, arrays, strict=True):
        data.write_idx(folder / f"{base_name}{suffix}", array)


def write_npz(path, arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **dict(zip(data.NPZ_KEYS, arrays, strict=True)))


def assert_dataset_equals(dataset, arrays):
    loaded = (
        dataset.train_images,
        dataset.train_labels,
        dataset.test_images,
        dataset.test_labels,
    )
    for got, expected in zip(loaded, arrays, strict=True):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(7, 28, 28), (13,), (2, 3, 4, 5)])
def test_idx_round_trip(tmp_path, suffix, shape):
    array = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    path = tmp_path / f"array{suffix}"
    data.write_idx(path, array)
    loaded = data.read_idx(str(path))
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, array)


def test_gz_file_is_compressed(tmp_path):
    data.write_idx(tmp_path / "zeros.gz", np.zeros((100, 28, 28), np.uint8))
    assert (tmp_path / "zeros.gz").read_bytes()[:2] == b"\x1f\x8b"


def test_read_idx_rejects_bad_magic_number(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x08\x01" + b"\0" * 8)
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(path)


def test_read_idx_rejects_wrong_data_size(tmp_path):
    path = tmp_path / "short"
    data.write_idx(path, np.zeros((4, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="header promises"):
        data.read_idx(path)


def test_write_idx_rejects_non_uint8(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        data.write_idx(tmp_path / "floats", np.zeros(3, np.float32))


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_loads_idx_folder_from_explorer_data_dir(tmp_path, monkeypatch, suffix):
    arrays = make_arrays(seed=1)
    write_idx_folder(tmp_path / "data" / "mnist", arrays, suffix)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    dataset = data.load_dataset("mnist")

    assert dataset.name == "mnist"
    assert dataset.train_images.shape == (100, 28, 28)
    assert dataset.train_labels.shape == (100,)
    assert dataset.test_images.shape == (20, 28, 28)
    assert dataset.test_labels.shape == (20,)
    assert_dataset_equals(dataset, arrays)
    assert dataset.source == str(tmp_path / "data" / "mnist")


def test_loads_npz_and_hyphen_folder_from_explorer_data_dir(tmp_path, monkeypatch):
    mnist_arrays, fashion_arrays = make_arrays(seed=2), make_arrays(seed=3)
    write_npz(tmp_path / "data" / "mnist.npz", mnist_arrays)
    write_idx_folder(tmp_path / "data" / "fashion-mnist", fashion_arrays, ".gz")
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    mnist = data.load_dataset("mnist")
    fashion = data.load_dataset("fashion_mnist")

    assert_dataset_equals(mnist, mnist_arrays)
    assert mnist.source == str(tmp_path / "data" / "mnist.npz")
    assert_dataset_equals(fashion, fashion_arrays)
    assert fashion.source == str(tmp_path / "data" / "fashion-mnist")


def test_loads_mnist_npz_from_keras_cache(tmp_path):
    arrays = make_arrays(seed=4)
    write_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz", arrays)

    dataset = data.load_dataset("mnist")

    assert_dataset_equals(dataset, arrays)
    assert dataset.source == str(tmp_path / "keras_home" / "datasets" / "mnist.npz")


def test_loads_fashion_mnist_from_keras_cache(tmp_path):
    arrays = make_arrays(seed=5)
    write_idx_folder(tmp_path / "keras_home" / "datasets" / "fashion-mnist", arrays, ".gz")

    dataset = data.load_dataset("fashion_mnist")

    assert_dataset_equals(dataset, arrays)
    assert "keras_home" in dataset.source


def test_keras_cache_defaults_to_home(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    arrays = make_arrays(seed=6)
    write_npz(tmp_path / "home" / ".keras" / "datasets" / "mnist.npz", arrays)

    assert_dataset_equals(data.load_dataset("mnist"), arrays)


def test_explorer_data_dir_wins_over_keras_cache(tmp_path, monkeypatch):
    own_arrays, cached_arrays = make_arrays(seed=7), make_arrays(seed=8)
    write_idx_folder(tmp_path / "data" / "mnist", own_arrays)
    write_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz", cached_arrays)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    dataset = data.load_dataset("mnist")

    assert_dataset_equals(dataset, own_arrays)
    assert dataset.source == str(tmp_path / "data" / "mnist")


def test_corrupt_files_fall_through_to_next_place(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "mnist"
    write_idx_folder(folder, make_arrays(seed=9))
    (folder / "train-images-idx3-ubyte").write_bytes(b"garbage, not an IDX file")
    (tmp_path / "data" / "mnist.npz").write_bytes(b"not a zip archive either")
    cached_arrays = make_arrays(seed=10)
    write_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz", cached_arrays)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    dataset = data.load_dataset("mnist")

    assert_dataset_equals(dataset, cached_arrays)
    assert "keras_home" in dataset.source


@pytest.mark.parametrize(
    "break_arrays, reason",
    [
        (lambda a: (a[0], a[1][:-1], a[2], a[3]), "labels of shape"),
        (lambda a: (a[0][:, :14, :], a[1], a[2], a[3]), "expected \\(N, 28, 28\\)"),
        (lambda a: (a[0], a[1], a[2], a[3] + 10), "labels go up to"),
    ],
)
def test_inconsistent_files_are_reported(tmp_path, monkeypatch, break_arrays, reason):
    write_idx_folder(tmp_path / "data" / "mnist", break_arrays(make_arrays(seed=11)))
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    with pytest.raises(data.DataNotFoundError, match=reason):
        data.load_dataset("mnist")


def test_not_found_lists_every_place_and_where_to_put_files(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    with pytest.raises(data.DataNotFoundError) as caught:
        data.load_dataset("fashion_mnist")

    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert "'fashion_mnist'" in message
    for place in [
        tmp_path / "data" / "fashion_mnist.npz",
        tmp_path / "data" / "fashion_mnist",
        tmp_path / "data" / "fashion-mnist",
        tmp_path / "keras_home" / "datasets" / "fashion-mnist",
        tmp_path / "debian",
    ]:
        assert f"{place}: no such" in message
    assert "keras.datasets.fashion_mnist.load_data(): ConnectionError" in message
    assert "set EXPLORER_DATA_DIR" in message
    assert "Keras cache" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_not_found_for_mnist_mentions_unset_variable(tmp_path):
    with pytest.raises(data.DataNotFoundError) as caught:
        data.load_dataset("mnist")

    message = str(caught.value)
    assert "EXPLORER_DATA_DIR: environment variable not set" in message
    assert str(tmp_path / "keras_home" / "datasets" / "mnist.npz") in message
    assert "missing" not in message
    assert "apt-get" not in message  # Debian packages only Fashion-MNIST.


def test_missing_idx_files_are_named(tmp_path, monkeypatch):
    (tmp_path / "data" / "mnist").mkdir(parents=True)
    data.write_idx(tmp_path / "data" / "mnist" / "train-images-idx3-ubyte", np.zeros(1, np.uint8))
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    with pytest.raises(data.DataNotFoundError, match="missing train-labels-idx1-ubyte"):
        data.load_dataset("mnist")


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match=r"'cifar10'.*mnist, fashion_mnist"):
        data.load_dataset("cifar10")


def test_loaded_arrays_are_read_only(tmp_path, monkeypatch):
    write_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz", make_arrays(seed=12))

    dataset = data.load_dataset("mnist")

    with pytest.raises(ValueError, match="read-only"):
        dataset.train_images[0, 0, 0] = 1


def test_successful_download_is_used(monkeypatch):
    arrays = make_arrays(seed=13)
    monkeypatch.setattr(data, "_download_with_keras", lambda name: arrays)

    dataset = data.load_dataset("fashion_mnist")

    assert_dataset_equals(dataset, arrays)
    assert "keras.datasets.fashion_mnist.load_data()" in dataset.source


@pytest.mark.skipif(
    not REAL_DEBIAN_DIR.exists(),
    reason=f"{REAL_DEBIAN_DIR} missing; apt-get install dataset-fashion-mnist",
)
def test_real_fashion_mnist_from_debian_package(monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", REAL_DEBIAN_DIR)

    dataset = data.load_dataset("fashion_mnist")

    assert dataset.train_images.shape == (60000, 28, 28)
    assert dataset.train_labels.shape == (60000,)
    assert dataset.test_images.shape == (10000, 28, 28)
    assert dataset.test_labels.shape == (10000,)
    for array in [dataset.train_images, dataset.train_labels, dataset.test_images]:
        assert array.dtype == np.uint8
    assert set(np.unique(dataset.train_labels)) == set(range(10))
    assert set(np.unique(dataset.test_labels)) == set(range(10))
    assert "/usr/share/datasets" in dataset.source
    assert Path(dataset.source) == REAL_DEBIAN_DIR
