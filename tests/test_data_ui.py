"""The page when the data is missing: the sidebar's status line, one message, switch and retry.

MNIST cannot be had on the build machines and there is no network: every test here points the
places `load_dataset()` searches at temporary folders, fills them with generated files where a
dataset must be present, and replaces the download by one that fails (and creates the Keras
cache folder first, as `keras.utils.get_file` does).
"""

from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from test_app import open_app, press_train, show

from explorer import data

SMALL = {"train_samples": "1200", "validation_samples": "300", "epochs": "1"}

pytestmark = pytest.mark.usefixtures("fresh_caches")


def generated_arrays(num_train=1500, num_test=400, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, num_train, dtype=np.uint8),
        rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, num_test, dtype=np.uint8),
    )


def write_idx_folder(folder: Path, arrays) -> None:
    folder.mkdir(parents=True)
    for name, array in zip(data.IDX_FILE_NAMES, arrays, strict=True):
        data.write_idx(folder / f"{name}.gz", array)


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Empty places everywhere but Debian's, which holds a small generated Fashion-MNIST.

    Returns the list of download attempts, by dataset name; each fails.
    """
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    write_idx_folder(tmp_path / "debian", generated_arrays())
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "debian")
    attempts = []

    def failing_download(name):
        attempts.append(name)
        # Like keras.utils.get_file: the cache folder first, then the download.
        folder = data.keras_cache_dir() / ("" if name == "mnist" else name.replace("_", "-"))
        folder.mkdir(parents=True, exist_ok=True)
        raise ConnectionError(f"no network in tests ({name})")

    monkeypatch.setattr(data, "_download_with_keras", failing_download)
    st.cache_resource.clear()  # the loaded datasets and the remembered failed downloads
    yield attempts
    st.cache_resource.clear()


def sidebar_text(app: AppTest) -> str:
    return " ".join(element.value for element in [*app.sidebar.warning, *app.sidebar.caption])


def every_text(app: AppTest) -> str:
    kinds = ["error", "warning", "info", "caption", "markdown", "success"]
    return "\n".join(element.value for kind in kinds for element in app.get(kind))


def test_sidebar_shows_missing_mnist_before_train(places, tmp_path, train_calls):
    app = open_app(preset="B2")

    assert not app.exception
    line = " ".join(warning.value for warning in app.sidebar.warning)
    assert line.startswith("**MNIST**: not found here; Train tries a download.")
    assert "`EXPLORER_DATA_DIR` (not set)" in line
    assert f"`{tmp_path / 'keras_home' / 'datasets' / 'mnist.npz'}`" in line
    assert "Fashion-MNIST is here." in line
    assert not places and not train_calls  # the status line downloads nothing
    assert not app.error  # and the full message waits for a Train


def test_sidebar_shows_where_present_data_is(places, tmp_path):
    app = open_app(dataset="fashion_mnist")

    assert not app.exception and not app.sidebar.warning
    assert (
        f"**Fashion-MNIST**: local files in `{tmp_path / 'debian'}` "
        "(1,500 training + 400 test images)."
    ) in sidebar_text(app)


def test_message_after_train_is_one_list_of_places_then_one_of_fixes(places, tmp_path):
    app = press_train(open_app(preset="B2"))

    assert not app.exception
    assert len(app.error) == 1
    headline, tried_title, tried, fixes_title, fixes = app.error[0].value.split("\n\n")
    assert headline == "**MNIST is not on this server, and its download failed.**"
    assert (tried_title, fixes_title) == ("Places tried:", "What to do:")
    tried, fixes = tried.split("\n"), fixes.split("\n")
    assert all(line.startswith("- ") for line in tried + fixes)
    assert tried == [
        "- `EXPLORER_DATA_DIR`: environment variable not set",
        f"- `{tmp_path / 'keras_home' / 'datasets' / 'mnist.npz'}`: no such file",
        "- download by keras.datasets.mnist.load_data(): "
        "ConnectionError: no network in tests (mnist)",
    ]
    assert fixes[0] == "- use Fashion-MNIST instead: it is here (button below)"
    assert fixes[1].startswith(f"- put mnist.npz in the Keras cache, {tmp_path}")
    assert fixes[-1].startswith("- try the download again")
    # Once on the page: no second copy anywhere, and a button for each way out.
    assert every_text(app).count("Places tried") == 1
    assert app.button(key="data_use_other").label == "Use Fashion-MNIST instead"
    assert app.button(key="data_retry").label == "Try the download again"


def test_comparison_set_shows_the_message_once(places):
    app = open_app(preset="B2")
    button = next(b for b in app.button if b.label.startswith("Train B2, B3"))
    app = button.click().run()

    assert not app.exception
    assert every_text(app).count("Places tried") == 1
    assert places == ["mnist"]


@pytest.mark.slow
def test_switch_button_picks_fashion_mnist_and_train_works(places, train_calls):
    app = press_train(open_app(preset="B2", **SMALL))
    assert not train_calls

    app = app.button(key="data_use_other").click().run()

    assert not app.exception
    assert app.selectbox(key="dataset").value == "fashion_mnist"
    assert not app.error and not app.sidebar.warning  # Fashion-MNIST is here: nothing to say
    app = press_train(app)
    assert not app.exception and not app.error
    assert [config.dataset for config in train_calls] == ["fashion_mnist"]
    assert train_calls[0].train_samples == 1200
    assert places == ["mnist"]  # Fashion-MNIST came from its local files


def test_failed_download_is_tried_once_until_asked_again(places):
    app = press_train(open_app(preset="B2"))
    assert places == ["mnist"]

    for _ in range(3):  # reruns, another Train, the Data view: no new attempt
        app = app.run()
    app = press_train(app)
    app = show(app, "Data")
    assert not app.exception
    assert places == ["mnist"]
    assert every_text(app).count("Places tried") == 1  # the Data view shows the message
    assert "its download failed (ConnectionError: no network in tests (mnist))" in (
        sidebar_text(app)
    )

    app = app.button(key="data_retry").click().run()  # tried again at once
    assert not app.exception
    assert places == ["mnist", "mnist"]
    assert [toast.value for toast in app.toast] == ["The MNIST download failed again."]
    app = show(app, "Summary")
    app = press_train(app.run())
    assert places == ["mnist", "mnist"]  # and remembered again


def test_retried_download_that_works_is_used(places, tmp_path, monkeypatch):
    app = press_train(open_app(preset="B2"))
    arrays = generated_arrays(seed=1)

    def working_download(name):
        places.append(name)
        path = data.keras_cache_dir() / "mnist.npz"  # where Keras keeps what it downloads
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **dict(zip(data.NPZ_KEYS, arrays, strict=True)))
        return arrays

    monkeypatch.setattr(data, "_download_with_keras", working_download)
    app = app.button(key="data_retry").click().run()

    assert not app.exception
    assert places == ["mnist", "mnist"]
    path = tmp_path / "keras_home" / "datasets" / "mnist.npz"
    assert [toast.value for toast in app.toast] == ["MNIST is here now."]
    assert f"**MNIST**: local files in `{path}` (1,500 training + 400 test images)." in (
        sidebar_text(app)
    )


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_failed_download_leaves_no_empty_folder(places, tmp_path, monkeypatch, dataset):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no_debian")

    app = press_train(open_app(preset="B2", dataset=dataset))

    assert not app.exception and places == [dataset]
    assert len(app.error) == 1
    assert "Use" not in " ".join(button.label for button in app.button)  # neither is here
    assert not (tmp_path / "keras_home").exists()  # get_file's folders went with the failure


def test_broken_data_dir_is_reported_without_a_download(places, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "nowhere"))

    app = open_app(dataset="fashion_mnist")
    line = " ".join(warning.value for warning in app.sidebar.warning)
    assert line.startswith(
        f"**Fashion-MNIST**: `EXPLORER_DATA_DIR` cannot be used: "
        f"`EXPLORER_DATA_DIR={tmp_path / 'nowhere'}`: no such folder."
    )
    app = press_train(app)

    assert not app.exception and not places
    assert app.error[0].value.startswith(
        f"Could not load the 'fashion_mnist' dataset: EXPLORER_DATA_DIR is set to "
        f"{tmp_path / 'nowhere'}, which is not an existing folder.\n\nPlaces tried:"
    )
    assert not {"data_retry", "data_use_other"} & {button.key for button in app.button}


def test_files_corrupt_past_their_headers_are_reported_after_the_load(
    places, tmp_path, monkeypatch
):
    folder = tmp_path / "data" / "fashion_mnist"
    write_idx_folder(folder, generated_arrays(seed=2))
    path = folder / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 8] = bytes(255 - byte for byte in raw[middle : middle + 8])
    path.write_bytes(bytes(raw))
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))

    app = open_app(dataset="fashion_mnist")
    assert f"local files in `{folder}`" in sidebar_text(app)  # the headers are fine
    app = press_train(app)
    assert len(app.error) == 1 and "corrupt gzip data" in app.error[0].value
    app = app.run()

    line = " ".join(warning.value for warning in app.sidebar.warning)
    assert line.startswith(f"**Fashion-MNIST**: files in `{folder}`, but they cannot be read:")
    assert not places
