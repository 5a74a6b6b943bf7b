"""Tests for `explorer.data`: IDX files, places searched and error messages."""

import io
import pickle
import re
import struct
import zipfile
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


def flip_bytes(path, offset, count=8):
    """Inverts `count` bytes of the file at `path`, from `offset` on."""
    raw = bytearray(path.read_bytes())
    for index in range(offset, offset + count):
        raw[index] ^= 0xFF
    path.write_bytes(bytes(raw))


def npz_member_data(path, key):
    """Returns the offset and size of the stored bytes of `key.npy` in a `.npz`."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{key}.npy")
    raw = path.read_bytes()
    # A local file header is 30 bytes, then the file name and the extra field.
    name_size, extra_size = struct.unpack(
        "<HH", raw[info.header_offset + 26 : info.header_offset + 30]
    )
    return info.header_offset + 30 + name_size + extra_size, info.compress_size


def write_npz_with_header(path, arrays, old, new):
    """Writes a `.npz` whose `x_train` has `old` replaced by `new` in its `.npy` header.

    The zip archive itself is valid (right sizes and CRC), so that only the
    header is corrupt.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in zip(data.NPZ_KEYS, arrays, strict=True):
            buffer = io.BytesIO()
            np.save(buffer, array)
            member = buffer.getvalue()
            if key == "x_train":
                assert old in member[:128]
                member = member.replace(old, new, 1)
            archive.writestr(f"{key}.npy", member)


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


def test_corrupt_keras_cache_falls_through_to_next_place(tmp_path):
    cache = tmp_path / "keras_home" / "datasets" / "fashion-mnist"
    write_idx_folder(cache, make_arrays(seed=9))
    (cache / "train-images-idx3-ubyte").write_bytes(b"garbage, not an IDX file")
    debian_arrays = make_arrays(seed=10)
    write_idx_folder(tmp_path / "debian", debian_arrays, ".gz")

    dataset = data.load_dataset("fashion_mnist")

    assert_dataset_equals(dataset, debian_arrays)
    assert dataset.source == str(tmp_path / "debian")
    assert dataset.note == ""


def write_gz_with_bad_block(folder, arrays):
    write_idx_folder(folder, arrays, ".gz")
    path = folder / "train-images-idx3-ubyte.gz"
    flip_bytes(path, len(path.read_bytes()) // 2)
    return folder, "train-images-idx3-ubyte.gz: corrupt gzip data"


def write_truncated_gz(folder, arrays):
    write_idx_folder(folder, arrays, ".gz")
    path = folder / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    return folder, "t10k-labels-idx1-ubyte.gz: corrupt gzip data"


def write_npz_with_corrupt_member(folder, arrays, save=np.savez):
    path = folder.parent / f"{folder.name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    save(path, **dict(zip(data.NPZ_KEYS, arrays, strict=True)))
    offset, size = npz_member_data(path, "x_test")
    flip_bytes(path, offset + size // 2)
    return path, "corrupt .npz file: cannot read array x_test"


def write_compressed_npz_with_corrupt_member(folder, arrays):
    return write_npz_with_corrupt_member(folder, arrays, save=np.savez_compressed)


def write_npz_with_unclosed_header(folder, arrays):
    # `np.load` parses the header with `tokenize`: TokenError.
    path = folder.parent / f"{folder.name}.npz"
    write_npz_with_header(path, arrays, b"(100, 28, 28)", b"(100, 28, 28 ")
    return path, "corrupt .npz file: cannot read array x_train .*TokenError"


def write_npz_with_garbled_header(folder, arrays):
    path = folder.parent / f"{folder.name}.npz"
    write_npz_with_header(path, arrays, b"{'descr'", b"('descr'")
    return path, "corrupt .npz file: cannot read array x_train .*Cannot parse header"


def write_npz_with_no_test_images(folder, arrays):
    path = folder.parent / f"{folder.name}.npz"
    write_npz(path, (arrays[0], arrays[1], arrays[2][:0], arrays[3][:0]))
    return path, "x_test holds 0 test images"


def write_idx_with_no_train_images(folder, arrays):
    write_idx_folder(folder, (arrays[0][:0], arrays[1][:0], arrays[2], arrays[3]), ".gz")
    return folder, "train-images-idx3-ubyte.gz holds 0 train images"


def write_npz_without_y_test(folder, arrays):
    path = folder.parent / f"{folder.name}.npz"
    write_npz(path, arrays)
    with np.load(path) as archive:
        kept = {key: archive[key] for key in data.NPZ_KEYS if key != "y_test"}
    np.savez(path, **kept)
    return path, "arrays y_test missing from the .npz file"


def write_garbage_npz(folder, arrays):
    path = folder.parent / f"{folder.name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a zip archive")
    return path, "not a .npz file"


# Each writes a broken dataset for `folder`: the folder of IDX files, or the
# `.npz` file beside it. Each returns the place written and a regular
# expression for the reason the error must give.
BROKEN_IDX = [write_gz_with_bad_block, write_truncated_gz, write_idx_with_no_train_images]
BROKEN_NPZ = [
    write_npz_with_corrupt_member,
    write_compressed_npz_with_corrupt_member,
    write_npz_with_unclosed_header,
    write_npz_with_garbled_header,
    write_npz_with_no_test_images,
    write_npz_without_y_test,
    write_garbage_npz,
]
BROKEN_DATA = BROKEN_IDX + BROKEN_NPZ


@pytest.mark.parametrize("write_broken", BROKEN_DATA)
def test_broken_explorer_data_dir_is_reported_without_fallback(tmp_path, monkeypatch, write_broken):
    place, reason = write_broken(tmp_path / "data" / "fashion_mnist", make_arrays(seed=14))
    # Valid data everywhere else: none of it may be used instead.
    write_idx_folder(tmp_path / "keras_home" / "datasets" / "fashion-mnist", make_arrays(seed=15))
    write_idx_folder(tmp_path / "debian", make_arrays(seed=16), ".gz")
    monkeypatch.setattr(data, "_download_with_keras", lambda name: make_arrays(seed=17))
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    with pytest.raises(
        data.DataDirError, match=f"\n- {re.escape(str(place))}: .*{reason}"
    ) as caught:
        data.load_dataset("fashion_mnist")

    assert isinstance(caught.value, data.DataError)
    message = str(caught.value)
    assert message.startswith(f"Could not load the 'fashion_mnist' dataset: {place} in")
    assert f"- or remove {place} to let the next places be tried" in message
    assert "keras_home" not in message and "debian" not in message


@pytest.mark.parametrize("write_broken", BROKEN_DATA)
def test_broken_keras_cache_is_reported(tmp_path, write_broken):
    """Outside EXPLORER_DATA_DIR a broken place is skipped, and its reason listed."""
    # The Keras cache holds MNIST as mnist.npz, Fashion-MNIST as IDX files.
    name = "mnist" if write_broken in BROKEN_NPZ else "fashion_mnist"
    folder = tmp_path / "keras_home" / "datasets" / name.replace("_", "-")
    place, reason = write_broken(folder, make_arrays(seed=18))

    with pytest.raises(data.DataNotFoundError, match=f"\n- {re.escape(str(place))}: .*{reason}"):
        data.load_dataset(name)


def test_idx_folder_wins_after_missing_npz_in_explorer_data_dir(tmp_path, monkeypatch):
    arrays = make_arrays(seed=19)
    write_idx_folder(tmp_path / "data" / "fashion-mnist", arrays)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    dataset = data.load_dataset("fashion_mnist")

    assert_dataset_equals(dataset, arrays)
    assert dataset.note == ""


@pytest.mark.parametrize("make_it", ["missing", "a file"])
def test_explorer_data_dir_that_is_no_folder_is_reported(tmp_path, monkeypatch, make_it):
    data_dir = tmp_path / "no_data_here"
    if make_it == "a file":
        data_dir.write_bytes(b"")
    write_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz", make_arrays(seed=20))
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(data_dir))

    with pytest.raises(data.DataDirError) as caught:
        data.load_dataset("mnist")

    message = str(caught.value)
    reason = "no such folder" if make_it == "missing" else "not a folder"
    assert f"- EXPLORER_DATA_DIR={data_dir}: {reason}\n" in message
    assert f"EXPLORER_DATA_DIR is set to {data_dir}, which is not an existing folder" in message
    assert "- or unset EXPLORER_DATA_DIR" in message


def test_empty_explorer_data_dir_falls_back_and_says_so(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mnist.npz").write_bytes(b"another dataset's file, never read")
    arrays = make_arrays(seed=21)
    write_idx_folder(tmp_path / "keras_home" / "datasets" / "fashion-mnist", arrays)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    dataset = data.load_dataset("fashion_mnist")

    assert_dataset_equals(dataset, arrays)
    assert dataset.source == str(tmp_path / "keras_home" / "datasets" / "fashion-mnist")
    assert dataset.note == (
        f"EXPLORER_DATA_DIR is set to {tmp_path / 'data'}, but that folder holds nothing "
        "for 'fashion_mnist' (no fashion_mnist.npz, no fashion_mnist/ or fashion-mnist/), "
        f"so the data came from {dataset.source}."
    )


def test_note_is_empty_without_explorer_data_dir(tmp_path):
    write_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz", make_arrays(seed=22))

    assert data.load_dataset("mnist").note == ""


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

    with pytest.raises(data.DataDirError, match=reason):
        data.load_dataset("mnist")


def test_not_found_lists_every_place_and_where_to_put_files(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    with pytest.raises(data.DataNotFoundError) as caught:
        data.load_dataset("fashion_mnist")

    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert isinstance(caught.value, data.DataError)
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

    with pytest.raises(data.DataDirError, match="missing train-labels-idx1-ubyte"):
        data.load_dataset("mnist")


def test_error_message_is_two_markdown_lists(tmp_path, monkeypatch):
    def fail_download(name):
        raise ConnectionError("no network:\n  a message over\n  three lines")

    monkeypatch.setattr(data, "_download_with_keras", fail_download)

    with pytest.raises(data.DataNotFoundError) as caught:
        data.load_dataset("fashion_mnist")

    # Headline, places tried, "To fix this", hints: blank lines between
    # them, so that Markdown shows the two lists apart.
    headline, tried, fix, hints = str(caught.value).split("\n\n")
    assert headline == "Could not load the 'fashion_mnist' dataset. Places tried:"
    assert fix == "To fix this, do one of these:"
    tried, hints = tried.split("\n"), hints.split("\n")
    assert len(tried) == 4 and len(hints) == 3
    assert all(line.startswith("- ") for line in tried + hints)
    assert tried[-1].endswith("ConnectionError: no network: a message over three lines")
    # The same parts, kept apart for a page that lays them out itself.
    error = caught.value
    assert error.headline == "Could not load the 'fashion_mnist' dataset."
    assert len(error.tried) == 4 and len(error.fixes) == 3
    assert error.tried[-1][0] == "download by keras.datasets.fashion_mnist.load_data()"
    assert error.fixes[0].startswith("put the four .gz IDX files in the Keras cache")


def test_data_error_pickles_by_its_parts():
    error = data.DataNotFoundError("Headline.", [("here", "no such file")], ["put it here"])

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is data.DataNotFoundError
    assert (copy.headline, copy.tried, copy.fixes, str(copy)) == (
        error.headline,
        error.tried,
        error.fixes,
        str(error),
    )


def test_failed_download_leaves_no_empty_folder(tmp_path, monkeypatch):
    created = []

    def fail_download(name):
        # Like keras.utils.get_file: the folder first, then the download.
        folder = data.keras_cache_dir() / "fashion-mnist"
        folder.mkdir(parents=True)
        created.append(folder)
        raise ConnectionError("no network in tests")

    monkeypatch.setattr(data, "_download_with_keras", fail_download)

    with pytest.raises(data.DataNotFoundError):
        data.load_dataset("fashion_mnist")

    assert created == [tmp_path / "keras_home" / "datasets" / "fashion-mnist"]
    assert not (tmp_path / "keras_home").exists()


def test_failed_download_keeps_folders_that_existed(tmp_path):
    folder = tmp_path / "keras_home" / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)

    with pytest.raises(data.DataNotFoundError, match=f"{folder}: missing"):
        data.load_dataset("fashion_mnist")

    assert folder.is_dir()


def test_failed_download_keeps_folders_holding_files(tmp_path, monkeypatch):
    folder = tmp_path / "keras_home" / "datasets" / "fashion-mnist"

    def fail_download(name):
        folder.mkdir(parents=True)
        (folder / "train-images-idx3-ubyte.gz").write_bytes(b"partial download")
        raise ConnectionError("no network in tests")

    monkeypatch.setattr(data, "_download_with_keras", fail_download)

    with pytest.raises(data.DataNotFoundError):
        data.load_dataset("fashion_mnist")

    assert (folder / "train-images-idx3-ubyte.gz").read_bytes() == b"partial download"


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


# --- probe_dataset: where the data is, from the headers alone --------------------------------


def refuse_full_reads(monkeypatch):
    """Makes every full read fail: a probe must get by on the files' headers."""

    def refuse(*args, **kwargs):
        raise AssertionError("probe_dataset() read a whole file")

    monkeypatch.setattr(data, "read_idx", refuse)
    monkeypatch.setattr(np, "load", refuse)


@pytest.fixture
def no_full_reads(monkeypatch):
    refuse_full_reads(monkeypatch)


def _write_idx_in_data_dir(tmp_path, arrays):
    write_idx_folder(tmp_path / "data" / "mnist", arrays)
    return "mnist", tmp_path / "data" / "mnist"


def _write_gz_idx_in_keras_cache(tmp_path, arrays):
    write_idx_folder(tmp_path / "keras_home" / "datasets" / "fashion-mnist", arrays, ".gz")
    return "fashion_mnist", tmp_path / "keras_home" / "datasets" / "fashion-mnist"


def _write_npz_in_keras_cache(tmp_path, arrays):
    write_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz", arrays)
    return "mnist", tmp_path / "keras_home" / "datasets" / "mnist.npz"


def _write_npz_in_data_dir(tmp_path, arrays):
    write_npz(tmp_path / "data" / "fashion_mnist.npz", arrays)
    return "fashion_mnist", tmp_path / "data" / "fashion_mnist.npz"


def _write_debian_folder(tmp_path, arrays):
    write_idx_folder(tmp_path / "debian", arrays, ".gz")
    return "fashion_mnist", tmp_path / "debian"


@pytest.mark.parametrize(
    "write",
    [
        _write_idx_in_data_dir,
        _write_gz_idx_in_keras_cache,
        _write_npz_in_keras_cache,
        _write_npz_in_data_dir,
        _write_debian_folder,
    ],
)
def test_probe_finds_the_place_load_reads(tmp_path, monkeypatch, write):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))
    name, place = write(tmp_path, make_arrays(seed=30, num_train=37, num_test=11))

    with monkeypatch.context() as patch:
        refuse_full_reads(patch)
        status = data.probe_dataset(name)
    dataset = data.load_dataset(name)

    assert status.found and not status.downloads and not status.blocked
    assert status.place == dataset.source == str(place)
    assert (status.train_images, status.test_images) == (37, 11)
    assert status.note == dataset.note


def test_probe_of_missing_data_lists_the_places_and_never_downloads(tmp_path, monkeypatch):
    downloads = []
    monkeypatch.setattr(data, "_download_with_keras", downloads.append)

    status = data.probe_dataset("fashion_mnist")

    assert not downloads
    assert not status.found and status.downloads and not status.blocked
    assert status.place == "" and (status.train_images, status.test_images) == (0, 0)
    assert status.tried == (
        ("EXPLORER_DATA_DIR", "environment variable not set"),
        (str(tmp_path / "keras_home" / "datasets" / "fashion-mnist"), "no such folder"),
        (str(tmp_path / "debian"), "no such folder"),
    )


def test_probe_of_a_broken_explorer_data_dir_is_blocked(tmp_path, monkeypatch):
    write_idx_folder(tmp_path / "keras_home" / "datasets" / "fashion-mnist", make_arrays(31))
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "nowhere"))

    status = data.probe_dataset("fashion_mnist")

    # load_dataset raises DataDirError here: the probe neither finds nor downloads.
    assert status.blocked and not status.found and not status.downloads
    assert status.tried == ((f"EXPLORER_DATA_DIR={tmp_path / 'nowhere'}", "no such folder"),)


def test_probe_note_says_the_data_dir_held_nothing(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))
    name, place = _write_debian_folder(tmp_path, make_arrays(seed=32))

    status = data.probe_dataset(name)

    assert status.found and status.note.startswith(f"EXPLORER_DATA_DIR is set to {tmp_path}")
    assert status.note.endswith(f"so the data came from {place}.")


# Broken places a header shows (the probe skips them as load does) ...
BROKEN_IN_HEADERS = [
    write_idx_with_no_train_images,
    write_npz_with_unclosed_header,
    write_npz_with_garbled_header,
    write_npz_with_no_test_images,
    write_npz_without_y_test,
    write_garbage_npz,
]
# ... and broken past the headers, found only by a full read.
BROKEN_PAST_HEADERS = [
    write_gz_with_bad_block,
    write_truncated_gz,
    write_npz_with_corrupt_member,
    write_compressed_npz_with_corrupt_member,
]
assert sorted(map(id, BROKEN_IN_HEADERS + BROKEN_PAST_HEADERS)) == sorted(map(id, BROKEN_DATA))


@pytest.mark.parametrize("write_broken", BROKEN_IN_HEADERS)
def test_probe_skips_what_load_skips(tmp_path, monkeypatch, write_broken):
    name = "mnist" if write_broken in BROKEN_NPZ else "fashion_mnist"
    folder = tmp_path / "keras_home" / "datasets" / name.replace("_", "-")
    place, reason = write_broken(folder, make_arrays(seed=33))
    refuse_full_reads(monkeypatch)

    status = data.probe_dataset(name)

    assert not status.found and status.downloads
    assert re.search(reason, dict(status.tried)[str(place)])


@pytest.mark.parametrize("write_broken", BROKEN_PAST_HEADERS)
def test_probe_reads_headers_only(tmp_path, monkeypatch, write_broken):
    """Corruption past the headers goes unseen: the probe never decompresses the data."""
    name = "mnist" if write_broken in BROKEN_NPZ else "fashion_mnist"
    folder = tmp_path / "keras_home" / "datasets" / name.replace("_", "-")
    place, _ = write_broken(folder, make_arrays(seed=34))
    refuse_full_reads(monkeypatch)

    status = data.probe_dataset(name)

    assert status.place == str(place) and (status.train_images, status.test_images) == (100, 20)


@pytest.mark.parametrize(
    "break_arrays, reason",
    [
        (lambda a: (a[0], a[1][:-1], a[2], a[3]), "labels of shape"),
        (lambda a: (a[0][:, :14, :], a[1], a[2], a[3]), r"expected \(N, 28, 28\)"),
    ],
)
def test_probe_checks_shapes(tmp_path, break_arrays, reason, no_full_reads):
    _write_gz_idx_in_keras_cache(tmp_path, break_arrays(make_arrays(seed=35)))

    status = data.probe_dataset("fashion_mnist")

    place = tmp_path / "keras_home" / "datasets" / "fashion-mnist"
    assert not status.found and re.search(reason, dict(status.tried)[str(place)])


def test_read_idx_header_checks_an_uncompressed_file_size(tmp_path):
    path = tmp_path / "images"
    data.write_idx(path, np.zeros((4, 28, 28), np.uint8))
    assert data.read_idx_header(path) == (4, 28, 28)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="header promises 3136 bytes"):
        data.read_idx_header(path)


def test_load_without_download_looks_locally_only(tmp_path, monkeypatch):
    downloads = []
    monkeypatch.setattr(data, "_download_with_keras", downloads.append)

    with pytest.raises(data.DataNotFoundError) as caught:
        data.load_dataset("mnist", download=False)

    assert not downloads
    assert caught.value.tried[-1] == (
        "download by keras.datasets.mnist.load_data()",
        "not tried this time",
    )


@pytest.mark.skipif(
    not REAL_DEBIAN_DIR.exists(),
    reason=f"{REAL_DEBIAN_DIR} missing; apt-get install dataset-fashion-mnist",
)
def test_probe_of_real_fashion_mnist(monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", REAL_DEBIAN_DIR)

    status = data.probe_dataset("fashion_mnist")

    assert status.place == str(REAL_DEBIAN_DIR)
    assert (status.train_images, status.test_images) == (60_000, 10_000)
