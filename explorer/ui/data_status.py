"""The data on the page: its state in the sidebar before any Train, one message when it is missing.

    probe: headers only, never a download, cached a few seconds  -> the Data group's status line
    the dataset: one copy per process                            -> `dataset()`, for `runs.load`
    a failed download: remembered per process                    -> tried again only on request
    the message: places tried, then what to do                   -> `missing_ui()`, with buttons to
                                                                    switch dataset or retry

Where the data is looked for depends on the dataset, `EXPLORER_DATA_DIR` and the Keras cache
folder: the three together key every cache here (the probe's also by language: it keeps words).
"""

from __future__ import annotations

import os

import streamlit as st

from explorer.data import (
    DATASET_TITLES,
    DATASETS,
    DataError,
    DataNotFoundError,
    Dataset,
    DataStatus,
    download_place,
    keras_cache_dir,
    load_dataset,
    probe_dataset,
)
from explorer.i18n import _, language

DATASET_KEY = "dataset"  # the sidebar's dataset widget: its RunConfig field, bound to the URL
RETRY_KEY = "data_retry"  # the dataset whose download the session asked to try again
PROBE_SECONDS = 10  # files copied in while the app runs show up within this long
REASON_CHARACTERS = 80  # a failure's reason, cut to fit the sidebar (the message has it all)


def _places_key(name: str) -> tuple[str, str, str]:
    """What decides where `name` is looked for."""
    return name, os.environ.get("EXPLORER_DATA_DIR", ""), str(keras_cache_dir())


# A few small reads (the files' headers), never a download: cheap enough for every rerun, cached
# all the same so that a busy server does not touch the disk on every click.
@st.cache_data(ttl=PROBE_SECONDS, show_spinner=False)
def _probe(name: str, data_dir: str, keras_dir: str, language: str) -> DataStatus:
    return probe_dataset(name)


def status(name: str) -> DataStatus:
    """Where `name` would be loaded from, judged from the files' headers (no load, no download)."""
    return _probe(*_places_key(name), language())


# Downloads that failed in this process, by places key: every rerun would otherwise wait on the
# network again. Mutated in place; an entry goes when someone asks to try again.
@st.cache_resource
def _failed_downloads() -> dict[tuple[str, str, str], DataNotFoundError]:
    return {}


# The last failed load by places key, whatever failed, until a load works: files whose headers
# look right (the probe's judgement) can still be corrupt further in.
@st.cache_resource
def _failed_loads() -> dict[tuple[str, str, str], DataError]:
    return {}


def failed_download(name: str) -> DataNotFoundError | None:
    """The error of this process's failed download of `name`, if it failed and was not retried."""
    return _failed_downloads().get(_places_key(name))


# The dataset is a shared read-only object: one copy per process, whatever the sessions.
@st.cache_resource(show_spinner=False)  # the page says what it waits for (`dataset`)
def _loaded(name: str, data_dir: str, keras_dir: str) -> Dataset:
    download = (name, data_dir, keras_dir) not in _failed_downloads()
    return load_dataset(name, download=download)


def dataset(name: str) -> Dataset:
    """The dataset, loaded once per process; raises `DataError`.

    After a failed download only the local places are looked at again (files may have been put
    there since), and the remembered download error is raised while they stay empty.
    """
    key = _places_key(name)
    try:
        with st.spinner(_("Loading the dataset…")):
            loaded = _loaded(*key)
    except DataNotFoundError as error:
        # The first failure is the one with a download in it; later loads looked locally only:
        # theirs are this reader's words and today's local places, with the download's reason.
        failure = _failed_downloads().setdefault(key, error)
        if failure is not error:
            download = (download_place(name), failure.tried[-1][1])
            failure = type(error)(error.headline, [*error.tried[:-1], download], error.fixes)
        _failed_loads()[key] = failure
        raise failure from None
    except DataError as error:
        _failed_loads()[key] = error
        raise
    _failed_loads().pop(key, None)
    if not status(name).found:  # just downloaded into the Keras cache: the status is stale
        _probe.clear()
    return loaded


def other_dataset(name: str) -> str | None:
    """The other dataset, when it is here to be used instead of `name`."""
    other = next(candidate for candidate in DATASETS if candidate != name)
    return other if usable(other) else None


def _use(name: str) -> None:
    """Callback: the sidebar's dataset becomes `name` (the URL follows the widget)."""
    st.session_state[DATASET_KEY] = name


def _retry(name: str) -> None:
    """Callback: forget the failed download; the sidebar's status line tries it again next."""
    _failed_downloads().pop(_places_key(name), None)
    st.session_state[RETRY_KEY] = name


def _place(name: str, place: str) -> str:
    """A place as code (a path or a variable), or the download as words."""
    return place if place == download_place(name) else f"`{place}`"


def _places(name: str, tried: tuple[tuple[str, str], ...]) -> str:
    """The places tried, short: `EXPLORER_DATA_DIR` (not set), `/root/.keras/datasets/mnist.npz`."""
    names = []
    for place, _reason in tried:
        if place == "EXPLORER_DATA_DIR":  # (the variable is named alone when it is not set)
            names.append(_("`{variable}` (not set)").format(variable=place))
        elif place != download_place(name):
            names.append(_place(name, place))
    return ", ".join(names)


def _cut(reason: str) -> str:
    return reason if len(reason) <= REASON_CHARACTERS else reason[: REASON_CHARACTERS - 1] + "…"


def usable(name: str) -> bool:
    """Whether `name` is here and nothing says it cannot be loaded."""
    return status(name).found and _failed_loads().get(_places_key(name)) is None


def status_line(name: str) -> str:
    """The Data group's one line (Markdown) on where `name` is."""
    title, found = DATASET_TITLES[name], status(name)
    failed_load = _failed_loads().get(_places_key(name))
    if found.found and failed_load is not None:
        reason = dict(failed_load.tried).get(found.place, failed_load.headline)
        return _("**{dataset}**: files in `{place}`, but they cannot be read: {reason}").format(
            dataset=title, place=found.place, reason=_cut(reason)
        )
    if found.found:
        line = _(
            "**{dataset}**: local files in `{place}` ({train} training + {test} test images)."
        ).format(
            dataset=title,
            place=found.place,
            train=f"{found.train_images:,}",
            test=f"{found.test_images:,}",
        )
        return f"{line} {found.note}" if found.note else line
    other = other_dataset(name)
    elsewhere = _(" {dataset} is here.").format(dataset=DATASET_TITLES[other]) if other else ""
    if found.blocked:
        place, reason = found.tried[-1]
        return _(
            "**{dataset}**: `EXPLORER_DATA_DIR` cannot be used: `{place}`: {reason}.{elsewhere}"
        ).format(dataset=title, place=place, reason=reason, elsewhere=elsewhere)
    failure = failed_download(name)
    if failure is None:
        outcome = _("Train tries a download")
    else:
        outcome = _("its download failed ({reason})").format(reason=_cut(failure.tried[-1][1]))
    return _("**{dataset}**: not found here; {outcome}. Looked in {places}.{elsewhere}").format(
        dataset=title, outcome=outcome, places=_places(name, found.tried), elsewhere=elsewhere
    )


# Inside the sidebar's form, under the dataset widget: where the chosen data is, before any Train.
# Its ways out are buttons under the message `missing_ui` draws (and the dataset widget itself).
def status_ui(name: str) -> None:
    if st.session_state.pop(RETRY_KEY, None) == name:
        _try_download_again(name)
    line = status_line(name)
    if usable(name):
        st.caption(line)
    else:
        st.warning(line)


def _try_download_again(name: str) -> None:
    """The retry button's work, on the rerun its click starts; a toast says how it went."""
    title = DATASET_TITLES[name]
    with st.spinner(_("Trying the {dataset} download again…").format(dataset=title)):
        try:
            dataset(name)
        except DataError:
            st.toast(
                _("The {dataset} download failed again.").format(dataset=title),
                icon=":material/cloud_off:",
            )
            return
    st.toast(_("{dataset} is here now.").format(dataset=title), icon=":material/check:")


def missing_ui(name: str, error: DataError) -> None:
    """The message when `name` cannot be loaded: what failed, places tried, what to do."""
    title = DATASET_TITLES[name]
    other = other_dataset(name)
    failure = failed_download(name)
    if isinstance(error, DataNotFoundError):
        if failure is not None:
            headline = _("**{dataset} is not on this server, and its download failed.**")
        else:
            headline = _("**{dataset} is not on this server.**")
        headline = headline.format(dataset=title)
    else:
        headline = error.headline
    fixes = list(error.fixes)
    if other is not None:
        fixes.insert(
            0,
            _("use {dataset} instead: it is here (button below)").format(
                dataset=DATASET_TITLES[other]
            ),
        )
    if failure is not None:
        fixes.append(
            _("try the download again once the server can reach the internet (button below)")
        )
    places = _markdown_list(f"{_place(name, place)}: {reason}" for place, reason in error.tried)
    st.error(
        _("{headline}\n\nPlaces tried:\n\n{places}\n\nWhat to do:\n\n{fixes}").format(
            headline=headline, places=places, fixes=_markdown_list(fixes)
        )
    )
    left, right = st.columns(2)
    if other is not None:
        left.button(
            _("Use {dataset} instead").format(dataset=DATASET_TITLES[other]),
            on_click=_use,
            args=(other,),
            key="data_use_other",
            type="primary",
        )
    if failure is not None:
        right.button(_("Try the download again"), on_click=_retry, args=(name,), key="data_retry")


def _markdown_list(items) -> str:
    """One `- item` line each, an item's whitespace runs made one space (one line per item)."""
    return "\n".join(f"- {' '.join(str(item).split())}" for item in items)
