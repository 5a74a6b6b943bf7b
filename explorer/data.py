"""Loading of the MNIST and Fashion-MNIST image datasets.

The app runs offline, so `load_dataset()` looks for the data in local places
first and only then tries a Keras download. Every place tried is remembered,
so that when nothing works the error says exactly where to put the files.

Images are kept as `uint8` arrays of shape `(N, 28, 28)`; scaling to floats is
left to the caller, which keeps the loaded data four times smaller.
"""

import dataclasses
import gzip
import math
import os
import struct
import zipfile
from pathlib import Path

import numpy as np

DATASETS = ("mnist", "fashion_mnist")

# Base names of the four files of the original IDX distribution; each may
# also be stored gzipped, with a `.gz` suffix.
IDX_FILE_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# Array names inside a Keras-style `.npz` file, in the same order as above.
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

# Where `apt-get install dataset-fashion-mnist` puts the four `.gz` IDX files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10

# Errors that mean "this place does not hold usable data", as opposed to bugs.
_READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile)


# `eq=False`: the generated `__eq__` would compare arrays element-wise and
# fail, and identity hashing lets a `Dataset` be used as a cache key.
@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """One image classification dataset, split into train and test parts.

    Attributes:
        name: One of `DATASETS`.
        train_images: `uint8` array of shape `(N, 28, 28)`.
        train_labels: `uint8` array of shape `(N,)`, class indices 0 to 9.
        test_images: `uint8` array of shape `(M, 28, 28)`.
        test_labels: `uint8` array of shape `(M,)`, class indices 0 to 9.
        source: Human-readable description of where the data came from.
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str


class DataNotFoundError(FileNotFoundError):
    """Raised when no place holds usable data for a dataset.

    The message lists every place tried, why each failed, and where the
    files can be put.
    """


def read_idx(path):
    """Reads an array from a file in the IDX format of the MNIST distribution.

    The file may be gzipped, which is recognised by a `.gz` suffix. Only the
    unsigned byte element type (code `0x08`) is supported.

    Args:
        path: Path of the file, as a string or `Path`.

    Returns:
        A `uint8` array with the shape given in the file header.

    Raises:
        ValueError: If the header is invalid or does not match the data size.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        data = file.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[3] == 0:
        raise ValueError(
            f"{path}: not an IDX file (magic number {data[:4].hex()!r}, "
            "expected '0000' followed by a type code and a dimension count)"
        )
    if data[2] != 0x08:
        raise ValueError(
            f"{path}: unsupported IDX element type 0x{data[2]:02x}, "
            "only unsigned bytes (0x08) are supported"
        )
    num_dims = data[3]
    header_size = 4 + 4 * num_dims
    if len(data) < header_size:
        raise ValueError(f"{path}: IDX header is truncated")
    shape = struct.unpack(f">{num_dims}I", data[4:header_size])
    if len(data) - header_size != math.prod(shape):
        raise ValueError(
            f"{path}: header promises {math.prod(shape)} bytes for shape {shape}, "
            f"but the file holds {len(data) - header_size}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def write_idx(path, array):
    """Writes a `uint8` array to a file in the IDX format.

    The file is gzipped when `path` ends with `.gz`. This is the inverse of
    `read_idx()`, handy for generating small test datasets.

    Args:
        path: Path of the file to write, as a string or `Path`.
        array: A `uint8` array with 1 to 255 dimensions.
    """
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"write_idx() needs a uint8 array, got dtype {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX files hold 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as file:
        file.write(header + np.ascontiguousarray(array).tobytes())


def keras_cache_dir():
    """Returns the folder where Keras caches downloaded datasets.

    Like Keras, this honours the `KERAS_HOME` environment variable and falls
    back to `~/.keras`.
    """
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(keras_home) / "datasets"


def load_dataset(name):
    """Loads MNIST or Fashion-MNIST from the first place that holds it.

    Places are tried in this order:

    1. The folder named by the `EXPLORER_DATA_DIR` environment variable, if
       set: `<dir>/<name>.npz` (Keras layout, arrays `x_train`, `y_train`,
       `x_test`, `y_test`), then a subfolder `<dir>/<name>/` holding the four
       IDX files, then for Fashion-MNIST also `<dir>/fashion-mnist/`.
    2. The Keras cache (`$KERAS_HOME/datasets`, default `~/.keras/datasets`):
       `mnist.npz`, or the folder `fashion-mnist/` with the four IDX files.
    3. For Fashion-MNIST only, the folder of the Debian package
       `dataset-fashion-mnist`, `DEBIAN_FASHION_MNIST_DIR`.
    4. A download through `keras.datasets.<name>.load_data()`.

    The IDX files are `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
    `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each optionally
    gzipped with a `.gz` suffix. A place whose files are missing, corrupt or
    inconsistent is skipped, and the reason is kept for the error message.

    Args:
        name: One of `DATASETS`.

    Returns:
        A `Dataset` with read-only `uint8` arrays.

    Raises:
        ValueError: If `name` is not one of `DATASETS`.
        DataNotFoundError: If no place holds usable data.
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; expected one of: {', '.join(DATASETS)}")
    failures = []  # (place, reason) pairs, reported if nothing works.
    if not os.environ.get("EXPLORER_DATA_DIR"):
        failures.append(("EXPLORER_DATA_DIR", "environment variable not set"))
    for path, reader in _local_places(name):
        try:
            arrays = reader(path)
            _check_arrays(arrays)
        except _READ_ERRORS as error:
            failures.append((str(path), str(error)))
            continue
        return _make_dataset(name, arrays, source=str(path))
    download = f"download by keras.datasets.{name}.load_data()"
    try:
        arrays = _download_with_keras(name)
        _check_arrays(arrays)
    # Without a network the failure can be of many types; all mean "not here".
    except Exception as error:
        failures.append((download, f"{type(error).__name__}: {error}"))
    else:
        return _make_dataset(name, arrays, source=download)
    raise DataNotFoundError(_not_found_message(name, failures))


def _local_places(name):
    """Returns the `(path, reader)` pairs to try for `name`, in order."""
    hyphen_name = name.replace("_", "-")  # Keras and Debian spell it this way.
    places = []
    data_dir = os.environ.get("EXPLORER_DATA_DIR")
    if data_dir:
        places.append((Path(data_dir) / f"{name}.npz", _read_npz))
        places.append((Path(data_dir) / name, _read_idx_folder))
        if hyphen_name != name:
            places.append((Path(data_dir) / hyphen_name, _read_idx_folder))
    if name == "mnist":
        places.append((keras_cache_dir() / "mnist.npz", _read_npz))
    else:
        places.append((keras_cache_dir() / hyphen_name, _read_idx_folder))
        places.append((DEBIAN_FASHION_MNIST_DIR, _read_idx_folder))
    return places


def _read_npz(path):
    """Reads the four arrays from a Keras-style `.npz` file."""
    if not path.is_file():
        raise FileNotFoundError("no such file")
    with np.load(path, allow_pickle=False) as archive:
        missing = [key for key in NPZ_KEYS if key not in archive.files]
        if missing:
            raise ValueError(f"arrays {', '.join(missing)} missing from the .npz file")
        return tuple(archive[key] for key in NPZ_KEYS)


def _read_idx_folder(folder):
    """Reads the four arrays from the IDX files in `folder`."""
    if not folder.is_dir():
        raise FileNotFoundError("no such folder")
    paths, missing = [], []
    for base_name in IDX_FILE_NAMES:
        candidates = [folder / base_name, folder / f"{base_name}.gz"]
        found = [candidate for candidate in candidates if candidate.is_file()]
        if found:
            paths.append(found[0])
        else:
            missing.append(f"{base_name}[.gz]")
    if missing:
        raise FileNotFoundError(f"missing {', '.join(missing)}")
    return tuple(read_idx(path) for path in paths)


def _check_arrays(arrays):
    """Raises `ValueError` unless the four arrays form a valid dataset."""
    train_images, train_labels, test_images, test_labels = arrays
    for part, images, labels in [
        ("train", train_images, train_labels),
        ("test", test_images, test_labels),
    ]:
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise ValueError(f"{part} arrays must be uint8, got {images.dtype}, {labels.dtype}")
        if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"{part} images have shape {images.shape}, expected (N, 28, 28)")
        if labels.shape != images.shape[:1]:
            raise ValueError(f"{len(images)} {part} images but labels of shape {labels.shape}")
        if labels.size and labels.max() >= NUM_CLASSES:
            raise ValueError(f"{part} labels go up to {labels.max()}, expected 0 to 9")


def _make_dataset(name, arrays, source):
    """Builds a `Dataset`, making its arrays read-only."""
    for array in arrays:
        # The app shares one loaded dataset between sessions; an in-place
        # change by one of them must fail loudly instead of leaking.
        array.flags.writeable = False
    return Dataset(name, *arrays, source=source)


def _download_with_keras(name):
    """Downloads `name` with `keras.datasets`, returning its four arrays."""
    import keras  # Imported here: loading TensorFlow takes seconds.

    (train_images, train_labels), (test_images, test_labels) = getattr(
        keras.datasets, name
    ).load_data()
    return train_images, train_labels, test_images, test_labels


def _not_found_message(name, failures):
    """Returns the `DataNotFoundError` message: places tried and where to put files."""
    tried = "\n".join(f"  - {place}: {reason}" for place, reason in failures)
    hyphen_name = name.replace("_", "-")
    folders = f"{name}/" if hyphen_name == name else f"{name}/ or {hyphen_name}/"
    keras_files = (
        keras_cache_dir() / "mnist.npz"
        if name == "mnist"
        else f"{keras_cache_dir() / hyphen_name}/ holding the four .gz IDX files"
    )
    hints = [
        f"set EXPLORER_DATA_DIR to a folder holding {name}.npz (arrays "
        f"{', '.join(NPZ_KEYS)}) or a subfolder {folders} with the IDX files "
        f"{', '.join(IDX_FILE_NAMES)} (each optionally .gz)",
        f"put the files in the Keras cache: {keras_files}",
    ]
    if name == "fashion_mnist":
        hints.append(
            "install the Debian package: apt-get install dataset-fashion-mnist "
            f"(files land in {DEBIAN_FASHION_MNIST_DIR})"
        )
    hint_lines = "\n".join(f"  - {hint}" for hint in hints)
    return (
        f"Could not load the {name!r} dataset. Places tried:\n{tried}\n"
        f"To fix this, put the data where it will be found:\n{hint_lines}"
    )
