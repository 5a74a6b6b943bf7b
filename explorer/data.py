"""Loading of the MNIST and Fashion-MNIST image datasets.

The app runs offline, so `load_dataset()` looks for the data in local places
first and only then tries a Keras download. Every place tried is remembered,
so that when nothing works the error says exactly where to put the files.

Images are kept as `uint8` arrays of shape `(N, 28, 28)`; scaling to floats is
left to the caller, which keeps the loaded data four times smaller.
"""

import contextlib
import dataclasses
import gzip
import math
import os
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from explorer.config import IMAGE_SHAPE, NUM_CLASSES

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


# Errors that mean "this file does not hold usable data", as opposed to bugs.
# Corrupt compressed data raises more than these: zlib, gzip and zipfile have
# their own error types, and `np.load` parses a `.npy` header with `tokenize`
# and `ast`. `read_idx()` and `_read_npz()` turn all of those into `ValueError`;
# the other types are listed here as a second line of defence.
_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    SyntaxError,
    zipfile.BadZipFile,
    zlib.error,
    tokenize.TokenError,
)


# `eq=False`: the generated `__eq__` would compare arrays element-wise and
# fail, and identity hashing lets a `Dataset` be used as a cache key.
@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """One image classification dataset, split into train and test parts.

    Attributes:
        name: One of `DATASETS`.
        train_images: `uint8` array of shape `(N, 28, 28)`, `N >= 1`.
        train_labels: `uint8` array of shape `(N,)`, class indices 0 to 9.
        test_images: `uint8` array of shape `(M, 28, 28)`, `M >= 1`.
        test_labels: `uint8` array of shape `(M,)`, class indices 0 to 9.
        source: Human-readable description of where the data came from.
        note: Empty, or a sentence worth showing next to `source`: set when
            `EXPLORER_DATA_DIR` is set but held nothing for this dataset, so
            the data came from another place.
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str
    note: str = ""


class DataError(Exception):
    """Base class of the errors `load_dataset()` raises about the data.

    Catch this one type to report any of them. The message is complete and
    meant to be shown as is: a first line saying what failed, a Markdown
    list of the places tried with the reason each failed, then a Markdown
    list of ways to fix it.
    """


class DataNotFoundError(DataError, FileNotFoundError):
    """Raised when no place holds usable data for a dataset.

    The message lists every place tried, why each failed, and where the
    files can be put.
    """


class DataDirError(DataError):
    """Raised when the folder named by `EXPLORER_DATA_DIR` cannot be used.

    That is when the folder does not exist, or when it holds data for the
    dataset (the `.npz` file or the IDX folder exists) that cannot be read
    or fails the checks. `load_dataset()` then does not fall back to other
    places, so that a broken `EXPLORER_DATA_DIR` is reported instead of
    being bypassed. The message names the file and what is wrong with it.
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
        ValueError: If the header is invalid or does not match the data size,
            or if the gzipped data is corrupt or truncated.
        OSError: If the file cannot be opened or read.
    """
    path = Path(path)
    if path.suffix == ".gz":
        try:
            with gzip.open(path, "rb") as file:
                data = file.read()
        # `BadGzipFile` is an `OSError`, but it is about the data, not the file.
        except (gzip.BadGzipFile, zlib.error, EOFError) as error:
            raise ValueError(
                f"{path}: corrupt gzip data ({type(error).__name__}: {error})"
            ) from error
    else:
        with open(path, "rb") as file:
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
    4. A download through `keras.datasets.<name>.load_data()`. If it fails,
       the cache folders it created and left empty are removed again.

    The IDX files are `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
    `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each optionally
    gzipped with a `.gz` suffix. Both the train and the test part must hold
    at least one image.

    A place of steps 2 and 3 whose files are missing, corrupt or
    inconsistent is skipped, and the reason is kept for the error message.
    `EXPLORER_DATA_DIR` is stricter, so that a mistake in it is reported
    instead of hidden by data found elsewhere: if the variable names a
    folder that does not exist, or if the first of its places that exists
    cannot be read or fails the checks, `DataDirError` is raised and no
    other place is tried. If the folder holds nothing for `name`, the next
    places are tried, and the returned dataset's `note` says so.

    Args:
        name: One of `DATASETS`.

    Returns:
        A `Dataset` with read-only `uint8` arrays.

    Raises:
        ValueError: If `name` is not one of `DATASETS`.
        DataDirError: If `EXPLORER_DATA_DIR` names a missing folder, or holds
            unusable data for `name`.
        DataNotFoundError: If no place holds usable data.
        Both errors are `DataError`s, whose message is meant to be shown as
        is (it is Markdown: two lists, places tried and how to fix it).
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; expected one of: {', '.join(DATASETS)}")
    failures = []  # (place, reason) pairs, reported if nothing works.
    data_dir = os.environ.get("EXPLORER_DATA_DIR")
    if data_dir:
        dataset = _load_from_data_dir(name, Path(data_dir), failures)
        if dataset is not None:
            return dataset
    else:
        failures.append(("EXPLORER_DATA_DIR", "environment variable not set"))
    for path, reader in _fallback_places(name):
        try:
            arrays = _read_checked(path, reader)
        except _READ_ERRORS as error:
            failures.append((str(path), str(error)))
            continue
        return _make_dataset(name, arrays, source=str(path), data_dir=data_dir)
    download = f"download by keras.datasets.{name}.load_data()"
    try:
        with _removing_new_empty_folders(_keras_download_folders(name)):
            arrays = _download_with_keras(name)
            _check_arrays(arrays, NPZ_KEYS)
    # Without a network the failure can be of many types; all mean "not here".
    except Exception as error:
        failures.append((download, f"{type(error).__name__}: {error}"))
    else:
        return _make_dataset(name, arrays, source=download, data_dir=data_dir)
    raise DataNotFoundError(_not_found_message(name, failures))


def _load_from_data_dir(name, data_dir, failures):
    """Loads `name` from `EXPLORER_DATA_DIR`, or returns `None` if it holds nothing for it.

    Appends the places tried to `failures`, and raises `DataDirError` if the
    folder is missing or unreadable, or if its first existing place for
    `name` cannot be read or fails the checks.
    """
    variable = f"EXPLORER_DATA_DIR={data_dir}"
    if not data_dir.is_dir():
        reason = "not a folder" if data_dir.exists() else "no such folder"
        failures.append((variable, reason))
        raise DataDirError(_data_dir_message(name, data_dir, failures, broken=None))
    if not os.access(data_dir, os.R_OK | os.X_OK):
        failures.append((variable, "folder not readable (permission denied)"))
        raise DataDirError(_data_dir_message(name, data_dir, failures, broken=data_dir))
    for path, reader in _data_dir_places(name, data_dir):
        # `lexists`: a dangling link is a place that exists and is broken.
        if not os.path.lexists(path):
            failures.append(
                (str(path), "no such file" if reader is _read_npz else "no such folder")
            )
            continue
        try:
            arrays = _read_checked(path, reader)
        except _READ_ERRORS as error:
            failures.append((str(path), str(error)))
            raise DataDirError(_data_dir_message(name, data_dir, failures, broken=path)) from error
        return _make_dataset(name, arrays, source=str(path))
    return None


def _data_dir_places(name, data_dir):
    """Returns the `(path, reader)` pairs to try for `name` in `data_dir`, in order."""
    hyphen_name = name.replace("_", "-")  # Keras and Debian spell it this way.
    places = [(data_dir / f"{name}.npz", _read_npz), (data_dir / name, _read_idx_folder)]
    if hyphen_name != name:
        places.append((data_dir / hyphen_name, _read_idx_folder))
    return places


def _fallback_places(name):
    """Returns the `(path, reader)` pairs to try for `name` after `EXPLORER_DATA_DIR`."""
    if name == "mnist":
        return [(keras_cache_dir() / "mnist.npz", _read_npz)]
    return [
        (keras_cache_dir() / name.replace("_", "-"), _read_idx_folder),
        (DEBIAN_FASHION_MNIST_DIR, _read_idx_folder),
    ]


def _read_checked(path, reader):
    """Reads the four arrays at `path` with `reader` and checks them."""
    arrays, names = reader(path)
    _check_arrays(arrays, names)
    return arrays


def _read_npz(path):
    """Reads the four arrays from a Keras-style `.npz` file.

    Returns:
        The four arrays, and the names to use for them in messages.

    Raises:
        ValueError: For a corrupt file, whatever error type `np.load` and
            `zipfile` raised for it.
    """
    if not os.path.lexists(path):
        raise FileNotFoundError("no such file")
    if not path.is_file():
        raise ValueError("not a file")
    with open(path, "rb") as file:
        magic = file.read(4)
    # Checked here: `np.load` would also accept a `.npy` file, or try to
    # unpickle anything else.
    if magic[:2] != b"PK":
        raise ValueError(f"not a .npz file (it starts with {magic!r}, not a zip archive's b'PK')")
    part = "the .npz archive"
    # A corrupt archive or `.npy` header raises many error types: zipfile's,
    # zlib's, and `tokenize`'s and `ast`'s, which `np.load` parses headers with.
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            arrays = []
            for key in [] if missing else NPZ_KEYS:
                part = f"array {key}"
                arrays.append(archive[key])
    except Exception as error:
        raise ValueError(
            f"corrupt .npz file: cannot read {part} ({type(error).__name__}: {error})"
        ) from error
    if missing:
        raise ValueError(f"arrays {', '.join(missing)} missing from the .npz file")
    return tuple(arrays), NPZ_KEYS


def _read_idx_folder(folder):
    """Reads the four arrays from the IDX files in `folder`.

    Returns:
        The four arrays, and the names of their files for messages.
    """
    if not os.path.lexists(folder):
        raise FileNotFoundError("no such folder")
    if not folder.is_dir():
        raise NotADirectoryError("not a folder")
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
    return tuple(read_idx(path) for path in paths), tuple(path.name for path in paths)


def _check_arrays(arrays, names):
    """Raises `ValueError` unless the four arrays form a valid dataset.

    `names` name the four arrays (file or array names) in the messages.
    """
    for part, (images, labels), (images_name, labels_name) in [
        ("train", arrays[:2], names[:2]),
        ("test", arrays[2:], names[2:]),
    ]:
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise ValueError(
                f"{part} arrays {images_name}, {labels_name} must be uint8, "
                f"got {images.dtype}, {labels.dtype}"
            )
        if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
            raise ValueError(
                f"{part} images {images_name} have shape {images.shape}, expected (N, 28, 28)"
            )
        if len(images) == 0:
            raise ValueError(
                f"{images_name} holds 0 {part} images; a dataset needs at least "
                "one train and one test image"
            )
        if labels.shape != images.shape[:1]:
            raise ValueError(
                f"{len(images)} {part} images in {images_name} but labels of shape "
                f"{labels.shape} in {labels_name}"
            )
        if labels.max() >= NUM_CLASSES:
            raise ValueError(
                f"{part} labels go up to {labels.max()} in {labels_name}, expected 0 to 9"
            )


def _make_dataset(name, arrays, source, data_dir=None):
    """Builds a `Dataset`, making its arrays read-only.

    `data_dir`, if given, is an `EXPLORER_DATA_DIR` that held nothing for
    `name`, which the dataset's `note` then says.
    """
    for array in arrays:
        # The app shares one loaded dataset between sessions; an in-place
        # change by one of them must fail loudly instead of leaking.
        array.flags.writeable = False
    note = ""
    if data_dir:
        note = (
            f"EXPLORER_DATA_DIR is set to {data_dir}, but that folder holds nothing "
            f"for {name!r} (no {name}.npz, no {_folder_names(name)}), so the data "
            f"came from {source}."
        )
    return Dataset(name, *arrays, source=source, note=note)


def _download_with_keras(name):
    """Downloads `name` with `keras.datasets`, returning its four arrays."""
    import keras  # Imported here: loading TensorFlow takes seconds.

    (train_images, train_labels), (test_images, test_labels) = getattr(
        keras.datasets, name
    ).load_data()
    return train_images, train_labels, test_images, test_labels


def _keras_download_folders(name):
    """Returns the folders a Keras download of `name` may create, deepest first.

    Keras's `get_file()` creates `<keras home>/datasets/`, plus
    `fashion-mnist/` in it for Fashion-MNIST, before downloading. It falls
    back to `/tmp/.keras` when the Keras home is not writable.
    """
    subfolders = [Path("datasets")]
    if name != "mnist":
        subfolders.insert(0, Path("datasets") / name.replace("_", "-"))
    folders = []
    for base in [keras_cache_dir().parent, Path("/tmp/.keras")]:
        folders += [base / subfolder for subfolder in subfolders] + [base]
    return folders


@contextlib.contextmanager
def _removing_new_empty_folders(folders):
    """Removes those of `folders` the block created and left empty, if it raises.

    `folders` must list a folder before its parent. Only folders that did
    not exist before the block are removed, and only when they are empty.
    """
    new_folders = [folder for folder in folders if not os.path.lexists(folder)]
    try:
        yield
    except BaseException:
        for folder in new_folders:
            try:
                folder.rmdir()  # Fails, as wanted, unless the folder is empty.
            except OSError:
                pass  # Missing or not empty: left as it is.
        raise


def _folder_names(name):
    """Returns the IDX subfolder name(s) for `name`, e.g. `mnist/`."""
    hyphen_name = name.replace("_", "-")
    return f"{name}/" if hyphen_name == name else f"{name}/ or {hyphen_name}/"


def _data_dir_hint(name):
    """Returns what a folder named by `EXPLORER_DATA_DIR` should hold for `name`."""
    return (
        f"{name}.npz (uint8 arrays {', '.join(NPZ_KEYS)}) or a subfolder "
        f"{_folder_names(name)} with the IDX files {', '.join(IDX_FILE_NAMES)} "
        "(each optionally .gz), with at least one train and one test image"
    )


def _other_places_hint(name):
    """Returns the places `load_dataset()` tries after `EXPLORER_DATA_DIR`."""
    places = ["the Keras cache", f"a download by keras.datasets.{name}"]
    if name == "fashion_mnist":
        places.insert(1, "the Debian package dataset-fashion-mnist")
    return ", ".join(places)


def _markdown_list(items):
    """Returns `items` as a Markdown list, one `- item` line each.

    Whitespace runs (newlines included) in an item become one space, so that
    every item stays on its line.
    """
    return "\n".join(f"- {' '.join(str(item).split())}" for item in items)


def _error_message(headline, failures, fix, hints):
    """Returns a `DataError` message: headline, places tried, then hints.

    Blank lines separate the paragraphs from the lists, so that the message
    renders as two Markdown lists (the app shows it with `st.error`) and
    still reads well as plain text.
    """
    tried = _markdown_list(f"{place}: {reason}" for place, reason in failures)
    return f"{headline} Places tried:\n\n{tried}\n\nTo fix this, {fix}:\n\n{_markdown_list(hints)}"


def _data_dir_message(name, data_dir, failures, broken):
    """Returns the `DataDirError` message.

    `broken` is the place in `data_dir` that exists but failed, or `None`
    when `data_dir` itself does not exist or is not a folder.
    """
    unset = (
        "or unset EXPLORER_DATA_DIR to load the data from the other places: "
        f"{_other_places_hint(name)}"
    )
    if broken is None:
        return _error_message(
            f"Could not load the {name!r} dataset: EXPLORER_DATA_DIR is set to "
            f"{data_dir}, which is not an existing folder.",
            failures,
            "do one of these",
            [
                f"create the folder {data_dir} holding {_data_dir_hint(name)}",
                "or set EXPLORER_DATA_DIR to the folder that holds the data",
                unset,
            ],
        )
    return _error_message(
        f"Could not load the {name!r} dataset: {broken} in EXPLORER_DATA_DIR "
        "cannot be used, and other places are not tried while it is there.",
        failures,
        "do one of these",
        [
            f"repair or replace {broken}: EXPLORER_DATA_DIR must hold {_data_dir_hint(name)}",
            f"or remove {broken} to let the next places be tried",
            unset,
        ],
    )


def _not_found_message(name, failures):
    """Returns the `DataNotFoundError` message: places tried and where to put files."""
    hyphen_name = name.replace("_", "-")
    keras_files = (
        keras_cache_dir() / "mnist.npz"
        if name == "mnist"
        else f"{keras_cache_dir() / hyphen_name}/ holding the four .gz IDX files"
    )
    hints = [
        f"set EXPLORER_DATA_DIR to a folder holding {_data_dir_hint(name)}",
        f"put the files in the Keras cache: {keras_files}",
    ]
    if name == "fashion_mnist":
        hints.append(
            "install the Debian package: apt-get install dataset-fashion-mnist "
            f"(files land in {DEBIAN_FASHION_MNIST_DIR})"
        )
    return _error_message(
        f"Could not load the {name!r} dataset.",
        failures,
        "put the data where it will be found",
        hints,
    )
