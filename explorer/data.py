"""Loading of the MNIST and Fashion-MNIST image datasets.

The app runs offline, so `load_dataset()` looks for the data in local places
first and only then tries a Keras download. Every place tried is remembered,
so that when nothing works the error says exactly where to put the files.
`probe_dataset()` answers "is it here?" cheaply, from the files' headers, and
never downloads: the page shows it before anything is trained.

Images are kept as `uint8` arrays of shape `(N, 28, 28)`; scaling to floats is
left to the caller, which keeps the loaded data four times smaller.

The errors' words (headline, why a place failed, what to do) are in the
language of the moment (`explorer.i18n`); what the files themselves say is
wrong with them (an IDX header, a zip member) stays as the readers raise it.
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
from explorer.i18n import _

DATASETS = ("mnist", "fashion_mnist")
DATASET_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}  # as a reader spells them

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
    list of ways to fix it. The three parts are also kept apart, for a page
    that lays them out itself.

    Args:
        headline: One sentence saying what failed.
        tried: `(place, reason)` pairs, in the order the places were tried.
        fixes: Ways to fix it, one sentence each, the likeliest first.
    """

    def __init__(self, headline, tried, fixes):
        self.headline = headline
        self.tried = tuple((str(place), str(reason)) for place, reason in tried)
        self.fixes = tuple(fixes)
        super().__init__(_error_message(self.headline, self.tried, self.fixes))

    def __reduce__(self):  # pickles by its parts, not by the message `args` holds
        return type(self), (self.headline, self.tried, self.fixes)


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


@dataclasses.dataclass(frozen=True)
class DataStatus:
    """Where `load_dataset()` would find a dataset, judged from the files' headers only.

    Attributes:
        name: One of `DATASETS`.
        place: The place `load_dataset()` would read the data from, or "" when
            no local place holds usable files for it.
        train_images: Training images in that place (from its headers), else 0.
        test_images: Test images in that place (from its headers), else 0.
        tried: `(place, reason)` pairs of the places before it that failed.
        blocked: True when `EXPLORER_DATA_DIR` cannot be used (missing, or its
            data for `name` is broken): `load_dataset()` then raises
            `DataDirError` and tries no other place, no download either.
        note: As `Dataset.note`: set when `EXPLORER_DATA_DIR` held nothing for
            `name` and the data is found elsewhere.
    """

    name: str
    place: str = ""
    train_images: int = 0
    test_images: int = 0
    tried: tuple[tuple[str, str], ...] = ()
    blocked: bool = False
    note: str = ""

    @property
    def found(self) -> bool:
        return bool(self.place)

    @property
    def downloads(self) -> bool:
        """Whether `load_dataset()` would try a download (nothing local, nothing blocking)."""
        return not self.found and not self.blocked


def _parse_idx_header(path, head):
    """Returns the shape an IDX header promises, and the header's size in bytes.

    `head` holds the file's first bytes (all of them, or at least the header).
    """
    if len(head) < 4 or head[:2] != b"\0\0" or head[3] == 0:
        raise ValueError(
            f"{path}: not an IDX file (magic number {head[:4].hex()!r}, "
            "expected '0000' followed by a type code and a dimension count)"
        )
    if head[2] != 0x08:
        raise ValueError(
            f"{path}: unsupported IDX element type 0x{head[2]:02x}, "
            "only unsigned bytes (0x08) are supported"
        )
    num_dims = head[3]
    header_size = 4 + 4 * num_dims
    if len(head) < header_size:
        raise ValueError(f"{path}: IDX header is truncated")
    return struct.unpack(f">{num_dims}I", head[4:header_size]), header_size


def _check_idx_size(path, shape, data_size):
    """Raises `ValueError` unless `data_size` bytes after the header fit `shape`."""
    if data_size != math.prod(shape):
        raise ValueError(
            f"{path}: header promises {math.prod(shape)} bytes for shape {shape}, "
            f"but the file holds {data_size}"
        )


def read_idx_header(path):
    """Reads the shape of the array in an IDX file from its header alone.

    Cheap: a gzipped file is decompressed only as far as its header, so a
    corruption further in goes unnoticed until `read_idx()`. An uncompressed
    file's size is checked against the shape.

    Args:
        path: Path of the file, as a string or `Path`; gzipped if it ends with `.gz`.

    Returns:
        The shape, a tuple of ints.

    Raises:
        ValueError: If the header is invalid, or the gzip data is corrupt.
        OSError: If the file cannot be opened or read.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            head = file.read(4)
            if len(head) == 4:
                head += file.read(4 * head[3])
    except (gzip.BadGzipFile, zlib.error, EOFError) as error:
        raise ValueError(f"{path}: corrupt gzip data ({type(error).__name__}: {error})") from error
    shape, header_size = _parse_idx_header(path, head)
    if path.suffix != ".gz":
        _check_idx_size(path, shape, path.stat().st_size - header_size)
    return shape


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
    shape, header_size = _parse_idx_header(path, data)
    _check_idx_size(path, shape, len(data) - header_size)
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


def load_dataset(name, download=True):
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
    4. Unless `download` is false, a download through
       `keras.datasets.<name>.load_data()`. If it fails, the cache folders it
       created and left empty are removed again.

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
        download: False to look in the local places only (a caller that saw
            the download fail need not wait on it again).

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
    _check_name(name)
    failures = []  # (place, reason) pairs, reported if nothing works.
    found = _search_local_places(name, _read_checked, failures)
    if found is not None:
        path, arrays, empty_data_dir = found
        return _make_dataset(name, arrays, source=str(path), data_dir=empty_data_dir)
    place = download_place(name)
    if not download:
        failures.append((place, _("not tried this time")))
        raise _not_found_error(name, failures)
    try:
        with _removing_new_empty_folders(_keras_download_folders(name)):
            arrays = _download_with_keras(name)
            _check_arrays(arrays, NPZ_KEYS)
    # Without a network the failure can be of many types; all mean "not here".
    except Exception as error:
        failures.append((place, f"{type(error).__name__}: {error}"))
    else:
        return _make_dataset(
            name, arrays, source=place, data_dir=os.environ.get("EXPLORER_DATA_DIR")
        )
    raise _not_found_error(name, failures)


def probe_dataset(name):
    """Says where `load_dataset(name)` would find the data, without loading or downloading it.

    The places are tried in `load_dataset()`'s order with its rules, but
    each is judged from its files' headers (`read_idx_header()`, the `.npy`
    headers inside a `.npz`): file names, shapes, element types, image
    counts. That costs a few small reads, however big the data. A file
    corrupt beyond its header passes here and fails in `load_dataset()`.

    Args:
        name: One of `DATASETS`.

    Returns:
        A `DataStatus`.

    Raises:
        ValueError: If `name` is not one of `DATASETS`.
    """
    _check_name(name)
    failures = []
    try:
        found = _search_local_places(name, _probe_checked, failures)
    except DataDirError:
        return DataStatus(name, tried=tuple(failures), blocked=True)
    if found is None:
        return DataStatus(name, tried=tuple(failures))
    path, (train_images, test_images), empty_data_dir = found
    return DataStatus(
        name,
        place=str(path),
        train_images=train_images,
        test_images=test_images,
        tried=tuple(failures),
        note=_data_dir_note(name, empty_data_dir, str(path)) if empty_data_dir else "",
    )


def _check_name(name):
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; expected one of: {', '.join(DATASETS)}")


def download_place(name):
    """The download, named as a place tried in `DataError.tried`."""
    return _("download by {call}").format(call=f"keras.datasets.{name}.load_data()")


def _search_local_places(name, open_place, failures):
    """Tries the local places for `name` in `load_dataset()`'s order, with its rules.

    `open_place(path, reader)` reads or checks one place, raising one of
    `_READ_ERRORS` when the place cannot be used. Appends the `(place,
    reason)` pairs of the places that failed to `failures`.

    Returns:
        `(path, what open_place returned, empty_data_dir)` for the first place
        that works, where `empty_data_dir` is an `EXPLORER_DATA_DIR` that held
        nothing for `name` (else None); or None when no place works.

    Raises:
        DataDirError: As `load_dataset()` documents.
    """
    data_dir = os.environ.get("EXPLORER_DATA_DIR")
    if data_dir:
        found = _search_data_dir(name, Path(data_dir), open_place, failures)
        if found is not None:
            return found
    else:
        failures.append(("EXPLORER_DATA_DIR", _("environment variable not set")))
    for path, reader in _fallback_places(name):
        try:
            value = open_place(path, reader)
        except _READ_ERRORS as error:
            failures.append((str(path), str(error)))
            continue
        return path, value, data_dir or None
    return None


def _search_data_dir(name, data_dir, open_place, failures):
    """Tries `EXPLORER_DATA_DIR`'s places for `name`; see `_search_local_places()`.

    Returns None if the folder holds nothing for `name`. Raises
    `DataDirError` if the folder is missing or unreadable, or if its first
    existing place for `name` fails.
    """
    variable = f"EXPLORER_DATA_DIR={data_dir}"
    if not data_dir.is_dir():
        reason = _("not a folder") if data_dir.exists() else _("no such folder")
        failures.append((variable, reason))
        raise _data_dir_error(name, data_dir, failures, broken=None)
    if not os.access(data_dir, os.R_OK | os.X_OK):
        failures.append((variable, _("folder not readable (permission denied)")))
        raise _data_dir_error(name, data_dir, failures, broken=data_dir)
    for path, reader in _data_dir_places(name, data_dir):
        # `lexists`: a dangling link is a place that exists and is broken.
        if not os.path.lexists(path):
            failures.append(
                (str(path), _("no such file") if reader is _read_npz else _("no such folder"))
            )
            continue
        try:
            value = open_place(path, reader)
        except _READ_ERRORS as error:
            failures.append((str(path), str(error)))
            raise _data_dir_error(name, data_dir, failures, broken=path) from error
        return path, value, None
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


def _probe_checked(path, reader):
    """Checks the place `reader` would read from its headers; returns the image counts."""
    shapes, dtypes, names = _HEADER_READERS[reader](path)
    _check_layout(shapes, dtypes, names)
    return shapes[0][0], shapes[2][0]  # train images, test images


def _check_npz_file(path):
    """Raises unless `path` is a file that starts like a zip archive."""
    if not os.path.lexists(path):
        raise FileNotFoundError(_("no such file"))
    if not path.is_file():
        raise ValueError(_("not a file"))
    with open(path, "rb") as file:
        magic = file.read(4)
    # Checked here: `np.load` would also accept a `.npy` file, or try to
    # unpickle anything else.
    if magic[:2] != b"PK":
        raise ValueError(f"not a .npz file (it starts with {magic!r}, not a zip archive's b'PK')")


def _read_npz(path):
    """Reads the four arrays from a Keras-style `.npz` file.

    Returns:
        The four arrays, and the names to use for them in messages.

    Raises:
        ValueError: For a corrupt file, whatever error type `np.load` and
            `zipfile` raised for it.
    """
    _check_npz_file(path)
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


def _read_npz_headers(path):
    """Reads the shapes and dtypes of the four arrays of a `.npz` from their `.npy` headers.

    Returns:
        The four shapes, the four dtypes, and the names for messages.
    """
    _check_npz_file(path)
    part = "the .npz archive"
    shapes, dtypes = [], []
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            missing = [key for key in NPZ_KEYS if f"{key}.npy" not in members]
            for key in [] if missing else NPZ_KEYS:
                part = f"array {key}"
                with archive.open(f"{key}.npy") as member:
                    version = np.lib.format.read_magic(member)
                    read_header = {
                        (1, 0): np.lib.format.read_array_header_1_0,
                        (2, 0): np.lib.format.read_array_header_2_0,
                    }[version]
                    shape, _, dtype = read_header(member)
                shapes.append(shape)
                dtypes.append(dtype)
    except Exception as error:
        raise ValueError(
            f"corrupt .npz file: cannot read {part} ({type(error).__name__}: {error})"
        ) from error
    if missing:
        raise ValueError(f"arrays {', '.join(missing)} missing from the .npz file")
    return shapes, dtypes, NPZ_KEYS


def _idx_paths(folder):
    """Returns the paths of the four IDX files in `folder`, each plain or `.gz`."""
    if not os.path.lexists(folder):
        raise FileNotFoundError(_("no such folder"))
    if not folder.is_dir():
        raise NotADirectoryError(_("not a folder"))
    paths, missing = [], []
    for base_name in IDX_FILE_NAMES:
        candidates = [folder / base_name, folder / f"{base_name}.gz"]
        found = [candidate for candidate in candidates if candidate.is_file()]
        if found:
            paths.append(found[0])
        else:
            missing.append(f"{base_name}[.gz]")
    if missing:
        raise FileNotFoundError(_("missing {files}").format(files=", ".join(missing)))
    return paths


def _read_idx_folder(folder):
    """Reads the four arrays from the IDX files in `folder`.

    Returns:
        The four arrays, and the names of their files for messages.
    """
    paths = _idx_paths(folder)
    return tuple(read_idx(path) for path in paths), tuple(path.name for path in paths)


def _read_idx_folder_headers(folder):
    """Reads the shapes of the four IDX files in `folder` from their headers.

    Returns:
        The four shapes, the four dtypes (IDX files here hold only uint8),
        and the names of the files for messages.
    """
    paths = _idx_paths(folder)
    shapes = [read_idx_header(path) for path in paths]
    return shapes, [np.dtype(np.uint8)] * 4, tuple(path.name for path in paths)


# What `probe_dataset()` reads instead of each reader: the headers only.
_HEADER_READERS = {_read_npz: _read_npz_headers, _read_idx_folder: _read_idx_folder_headers}


def _check_layout(shapes, dtypes, names):
    """Raises `ValueError` unless four arrays of these shapes and dtypes can form a dataset.

    The arrays are train images, train labels, test images, test labels;
    `names` name them (file or array names) in the messages.
    """
    for part, first in [("train", 0), ("test", 2)]:
        images_shape, labels_shape = (tuple(shape) for shape in shapes[first : first + 2])
        images_dtype, labels_dtype = dtypes[first : first + 2]
        images_name, labels_name = names[first : first + 2]
        if images_dtype != np.uint8 or labels_dtype != np.uint8:
            raise ValueError(
                f"{part} arrays {images_name}, {labels_name} must be uint8, "
                f"got {images_dtype}, {labels_dtype}"
            )
        if len(images_shape) != 3 or images_shape[1:] != IMAGE_SHAPE:
            raise ValueError(
                f"{part} images {images_name} have shape {images_shape}, expected (N, 28, 28)"
            )
        if images_shape[0] == 0:
            raise ValueError(
                f"{images_name} holds 0 {part} images; a dataset needs at least "
                "one train and one test image"
            )
        if labels_shape != images_shape[:1]:
            raise ValueError(
                f"{images_shape[0]} {part} images in {images_name} but labels of shape "
                f"{labels_shape} in {labels_name}"
            )


def _check_arrays(arrays, names):
    """Raises `ValueError` unless the four arrays form a valid dataset.

    `names` name the four arrays (file or array names) in the messages.
    """
    _check_layout([array.shape for array in arrays], [array.dtype for array in arrays], names)
    for part, index in [("train", 1), ("test", 3)]:
        if arrays[index].max() >= NUM_CLASSES:
            raise ValueError(
                f"{part} labels go up to {arrays[index].max()} in {names[index]}, expected 0 to 9"
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
    note = _data_dir_note(name, data_dir, source) if data_dir else ""
    return Dataset(name, *arrays, source=source, note=note)


def _data_dir_note(name, data_dir, source):
    """Says that `EXPLORER_DATA_DIR` (`data_dir`) held nothing for `name`, so `source` served."""
    return _(
        "EXPLORER_DATA_DIR is set to {folder}, but that folder holds nothing for {name} (no "
        "{file}, no {subfolders}), so the data came from {source}."
    ).format(
        folder=data_dir,
        name=repr(name),
        file=f"{name}.npz",
        subfolders=_folder_names(name),
        source=source,
    )


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
    if hyphen_name == name:
        return f"{name}/"
    return _("{folder} or {other}").format(folder=f"{name}/", other=f"{hyphen_name}/")


def _data_dir_hint(name):
    """Returns what a folder named by `EXPLORER_DATA_DIR` should hold for `name`."""
    return _(
        "{file} (as keras.datasets saves it) or a subfolder {subfolders} with the four IDX files "
        "{idx_files} (each may be .gz)"
    ).format(
        file=f"{name}.npz", subfolders=_folder_names(name), idx_files=", ".join(IDX_FILE_NAMES)
    )


def _other_places_hint(name):
    """Returns the places `load_dataset()` tries after `EXPLORER_DATA_DIR`."""
    places = [
        _("the Keras cache"),
        _("a download by {module}").format(module=f"keras.datasets.{name}"),
    ]
    if name == "fashion_mnist":
        places.insert(1, _("the Debian package {package}").format(package="dataset-fashion-mnist"))
    return ", ".join(places)


def _markdown_list(items):
    """Returns `items` as a Markdown list, one `- item` line each.

    Whitespace runs (newlines included) in an item become one space, so that
    every item stays on its line.
    """
    return "\n".join(f"- {' '.join(str(item).split())}" for item in items)


def _error_message(headline, tried, fixes):
    """Returns a `DataError` message: headline, places tried, then ways to fix it.

    Blank lines separate the paragraphs from the lists, so that the message
    renders as two Markdown lists (the app shows it with `st.error`) and
    still reads well as plain text.
    """
    places = _markdown_list(f"{place}: {reason}" for place, reason in tried)
    return _(
        "{headline} Places tried:\n\n{places}\n\nTo fix this, do one of these:\n\n{fixes}"
    ).format(headline=headline, places=places, fixes=_markdown_list(fixes))


def _data_dir_error(name, data_dir, failures, broken):
    """Returns the `DataDirError` for `name`.

    `broken` is the place in `data_dir` that exists but failed, or `None`
    when `data_dir` itself does not exist or is not a folder.
    """
    unset = _("or unset EXPLORER_DATA_DIR to load the data from the other places: {places}").format(
        places=_other_places_hint(name)
    )
    if broken is None:
        return DataDirError(
            _(
                "Could not load the {name} dataset: EXPLORER_DATA_DIR is set to {folder}, which "
                "is not an existing folder."
            ).format(name=repr(name), folder=data_dir),
            failures,
            [
                _("create the folder {folder} holding {what}").format(
                    folder=data_dir, what=_data_dir_hint(name)
                ),
                _("or set EXPLORER_DATA_DIR to the folder that holds the data"),
                unset,
            ],
        )
    return DataDirError(
        _(
            "Could not load the {name} dataset: {place} in EXPLORER_DATA_DIR cannot be used, and "
            "other places are not tried while it is there."
        ).format(name=repr(name), place=broken),
        failures,
        [
            _("repair or replace {place}: EXPLORER_DATA_DIR must hold {what}").format(
                place=broken, what=_data_dir_hint(name)
            ),
            _("or remove {place} to let the next places be tried").format(place=broken),
            unset,
        ],
    )


def _not_found_error(name, failures):
    """Returns the `DataNotFoundError` for `name`: places tried and where files can go."""
    if name == "mnist":
        put = _("put {file} in the Keras cache, {folder}").format(
            file="mnist.npz", folder=keras_cache_dir()
        )
    else:
        put = _("put the four .gz IDX files in the Keras cache, {folder}").format(
            folder=keras_cache_dir() / name.replace("_", "-")
        )
    fixes = [
        put,
        _("or set EXPLORER_DATA_DIR to a folder holding {what}").format(what=_data_dir_hint(name)),
    ]
    if name == "fashion_mnist":
        fixes.append(
            _("or install Debian's package: {command} (its files land in {folder})").format(
                command="apt-get install dataset-fashion-mnist", folder=DEBIAN_FASHION_MNIST_DIR
            )
        )
    return DataNotFoundError(
        _("Could not load the {name} dataset.").format(name=repr(name)), failures, fixes
    )
