"""Trainings as the page sees them: started by an action, waited on with progress, kept bounded.

An action (Train, a comparison set, the twin lab, a sweep) becomes the session's *batch*: its
set-ups by label, kept in the session until every one has a result. Each script run waits on
the batch above the views, so a rerun (another click, another tab) picks the wait up again
and only a Cancel, Stop or closed tab lets the training go: the process-wide
`explorer.jobs.JobManager` stops a training within about two seconds once no session waits.
"""

from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

# Raised in the script thread by Streamlit's Stop (and when the session ends); a rerun raises
# RerunException instead and must leave the training going. Streamlit exports no public name.
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from explorer import budget, jobs
from explorer.config import RunConfig
from explorer.data import DataError, Dataset
from explorer.i18n import _
from explorer.ui import data_status, quiz

if TYPE_CHECKING:  # TensorFlow loads after the first paint: see _train_one and _wait
    from explorer import train as training

MAX_SESSION_RUNS = 24  # finished runs a session keeps to compare; the oldest go first
LIVE_REDRAW_SECONDS = 0.7  # redraw the live curves at most this often
POLL_SECONDS = 0.15  # how often a waiting script looks at its training (and says it still waits)


def load(name: str) -> Dataset | None:
    """The dataset, or None after showing why not: once per script run, whichever view asks.

    One copy per process (`data_status.dataset`); a failed download is not tried again on
    every rerun, only when the message's button asks.
    """
    try:
        return data_status.dataset(name)
    except DataError as error:
        shown = st.session_state.setdefault("data_errors_shown", {})
        run = _script_run()
        if shown.get(name) != run:
            shown[name] = run
            data_status.missing_ui(name, error)
        return None


def data_error_shown() -> bool:
    """Whether this script run already said why a dataset could not be loaded."""
    return _script_run() in st.session_state.get("data_errors_shown", {}).values()


def _script_run() -> int:
    """A number that changes with every script run of this session."""
    return st.session_state.get("script_run", 0)


def next_script_run() -> None:
    """Called once at the top of each script run (see `load`)."""
    st.session_state["script_run"] = _script_run() + 1


# One scheduler for the whole server: every session's trainings, queue and finished results.
@st.cache_resource
def manager() -> jobs.JobManager:
    return jobs.JobManager()


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


def keep_alive() -> None:
    """First thing in every script run: the session's training goes on while the page reruns."""
    manager().touch_session(session_id())


# --- the session's finished runs -------------------------------------------------------------


def session_runs() -> collections.OrderedDict[RunConfig, training.RunResult]:
    return st.session_state.setdefault("runs", collections.OrderedDict())


def session_bands() -> dict[RunConfig, tuple[RunConfig, ...]]:
    """Seed bands trained in this session: the first seed's set-up -> every seed's."""
    return st.session_state.setdefault("bands", {})


def band(config: RunConfig) -> list[training.RunResult] | None:
    """The seeds of `config`'s band, when `config` is a band's first seed and all are kept."""
    members = session_bands().get(config, ())
    kept = session_runs()
    if len(members) < 2 or any(member not in kept for member in members):
        return None
    return [kept[member] for member in members]


def run_names() -> dict[RunConfig, str]:
    """Each kept run's name: given once when it is first kept (or renamed), never recomputed."""
    return st.session_state.setdefault("run_names", {})


def remember(result: training.RunResult, name: str | None = None) -> None:
    """Keep a finished run for comparison, named `name` or by `compare.stable_name`; past
    MAX_SESSION_RUNS the oldest is dropped."""
    from explorer import compare  # TensorFlow is loaded once a run has finished

    runs, names = session_runs(), run_names()
    config = result.config
    if name is not None or config not in names:
        first = next((kept for kept in runs if kept != config), None)
        taken = {other for key, other in names.items() if key != config}
        try:
            names[config] = compare.check_name(name, taken) if name is not None else None
        except ValueError:
            names[config] = None
        names[config] = names[config] or compare.stable_name(config, first, taken)
    runs[config] = result
    runs.move_to_end(config)
    while len(runs) > MAX_SESSION_RUNS:
        dropped, _ = runs.popitem(last=False)
        names.pop(dropped, None)
        st.session_state["dropped_runs"] = st.session_state.get("dropped_runs", 0) + 1


def rename(config: RunConfig, name: str) -> None:
    """Give a kept run a new name; ValueError (shown by the caller) for a name not allowed."""
    from explorer import compare

    names = run_names()
    names[config] = compare.check_name(name, {n for key, n in names.items() if key != config})


def finished(config: RunConfig) -> training.RunResult | None:
    """A result this session or any other already has (no training)."""
    return session_runs().get(config) or manager().result(config)


# --- actions ----------------------------------------------------------------------------------


def start(
    configs: dict[str, RunConfig],
    what: str = budget.THIS_RUN,
    then: dict | None = None,
    names: dict[RunConfig, str] | None = None,
    labels_name_new_runs: bool = False,
    seeds: int = 1,
) -> bool:
    """Make `configs` the session's batch, unless the budget refuses it (the message is shown).

    `what` names the action in English, marked for the catalog (`N_`): a refusal translates it.
    A new action replaces the session's old one. `then` is put into the session state once every
    run has its result (a lab's record of what it trained, the runs to select). `names` rename
    runs (a link's names); with `labels_name_new_runs`, a run kept for the first time is named by
    its label (a lab's "learning_rate = 0.01"). With `seeds` > 1 each set-up trains that many
    seeds (its own seed first), kept as one band.
    """
    if labels_name_new_runs:  # the set-ups' own labels, not their seeds' (named after them)
        fresh = {config: label for label, config in configs.items() if config not in run_names()}
        names = {**fresh, **(names or {})}
    bands = {}
    if seeds > 1:
        from explorer import group

        bands = {config: tuple(group.seed_configs(config, seeds)) for config in configs.values()}
        configs = {
            (f"{label} · seed {member.seed}" if label else f"seed {member.seed}"): member
            for label, config in configs.items()
            for member in bands[config]
        }
    if len(configs) > MAX_SESSION_RUNS:  # its first runs would be let go before it ends
        st.error(
            _(
                "This action would keep {count} runs; a session keeps at most {limit}. Use fewer "
                "seeds or fewer set-ups."
            ).format(count=len(configs), limit=MAX_SESSION_RUNS)
        )
        return False
    to_train = [config for config in configs.values() if finished(config) is None]
    refusal = budget.over_budget(to_train, what)
    if refusal:
        st.error(refusal)
        return False
    st.session_state["batch"] = {
        "configs": dict(configs),
        "then": then or {},
        "names": names,
        "bands": bands,
    }
    st.session_state.pop("stopped", None)
    return True


def cancel() -> None:
    """The Cancel button's callback: stop waiting (the training stops unless shared)."""
    st.session_state.pop("batch", None)
    st.session_state["stopped"] = _(
        "Cancelled: the training stopped (unless another tab waits for it)."
    )
    manager().leave(session_id())


def run_pending() -> dict[str, training.RunResult] | None:
    """Train the session's batch with progress; its results by label once all are done, else
    None (nothing pending, cancelled or failed: the reason is shown)."""
    batch = st.session_state.get("batch")
    if batch is None:
        note = st.session_state.pop("stopped", None)  # said once
        if note:
            st.info(note)
        return None
    configs = batch["configs"]
    # Both emptied once the batch ends, however it ends: no stale bar or Cancel on the page.
    overall = st.empty()
    cancel_slot = st.empty()
    if any(finished(config) is None for config in configs.values()):
        cancel_slot.button(
            _("Cancel training"), key="cancel_training", on_click=cancel, icon=":material/stop:"
        )
    results = {}
    labels = list(configs)
    try:
        done = 0
        for members in _groups(list(configs.values())):
            if len(configs) > 1 and len(members) == 1:
                overall.progress(
                    done / len(configs),
                    text=_("run {number} of {count}").format(number=done + 1, count=len(configs)),
                )
            elif len(configs) > 1:
                overall.progress(
                    done / len(configs),
                    text=_("runs {first}–{last} of {count}, trained together").format(
                        first=done + 1, last=done + len(members), count=len(configs)
                    ),
                )
            chosen = [labels[index] for index in members]
            if len(members) == 1:
                found = [_train_one(configs[chosen[0]], chosen[0] if len(configs) > 1 else "")]
            else:
                found = _train_together([configs[label] for label in chosen], chosen)
            if any(result is None for result in found):  # failed or stopped: said on the page
                break
            results.update(zip(chosen, found, strict=True))
            done += len(members)
    except StopException:  # Stop pressed or the tab closed: let the training go
        st.session_state.pop("batch", None)
        manager().leave(session_id())
        raise
    # (A rerun raises RerunException through here instead: the batch stays, to be waited on.)
    overall.empty()
    cancel_slot.empty()
    st.session_state.pop("batch", None)
    if len(results) < len(configs):
        return None
    names = batch.get("names") or {}
    for result in results.values():
        remember(result, names.get(result.config))
    for base, members in batch.get("bands", {}).items():
        session_bands()[base] = members
        named = run_names()
        for member in members[1:]:  # "A1 scaled inputs · seed 1": its band's name, its seed
            named[member] = f"{named[base]} · seed {member.seed}"
    st.session_state.update(batch["then"])
    return results


def _train_one(config: RunConfig, title: str) -> training.RunResult | None:
    done = finished(config)
    if done is not None:
        return done
    data = load(config.dataset)
    if data is None:
        return None
    from explorer import train as training  # the module, so tests can count its calls

    def work(on_progress, should_stop):
        return training.train(config, data, on_progress, should_stop)

    job = manager().submit(config, session_id(), work)
    return _wait(job, title)


def _groups(configs: list[RunConfig]) -> list[list[int]]:
    """Indices of the batch's runs to train together: those not finished yet that share shapes
    (seeds, a comparison set, a sweep, the twins) form one group; the finished come alone."""
    from explorer import group

    pending = [index for index, config in enumerate(configs) if finished(config) is None]
    ready = [[index] for index, config in enumerate(configs) if index not in pending]
    grouped = group.split_into_groups([configs[index] for index in pending])
    return ready + [[pending[index] for index in indices] for indices in grouped]


def _train_together(configs: list[RunConfig], labels: list[str]) -> list:
    """Train `configs` as one group (one compiled program), waited on like one run."""
    data = load(configs[0].dataset)
    if data is None:
        return [None]
    from explorer import group  # the module, so tests can count its calls

    def work(on_progress, should_stop):
        snapshots = {}

        def on_checkpoint(index, snapshot):
            snapshots[labels[index]] = snapshot
            on_progress(dict(snapshots))

        return group.train_group(configs, data, on_checkpoint, should_stop)

    key = ("group", tuple(configs))
    job = manager().submit(key, session_id(), work, members=configs)
    found = _wait(job, ", ".join(labels))
    return found if found is not None else [None]


def _titled(title: str, text: str) -> str:
    """A progress text, after the run's title when the batch has several runs."""
    return _("{title}: {text}").format(title=title, text=text) if title else text


def _wait(job: jobs.Job, title: str) -> training.RunResult | None:
    from explorer import charts, compare

    session, scheduler = session_id(), manager()
    progress = st.progress(0.0, text=_titled(title, _("starting…")))
    live = st.empty()
    last_draw = 0.0
    while job.active:
        scheduler.touch(job, session)
        snapshot = job.latest
        if job.state == jobs.QUEUED:
            waiting = _(
                "waiting for a free trainer: place {place} in the queue ({count} training at "
                "once on this server)"
            ).format(place=job.position, count=scheduler.max_running)
            progress.progress(0.0, text=_titled(title, waiting))
        elif snapshot is None:
            progress.progress(0.0, text=_titled(title, _("compiling the training loop…")))
        else:
            live_runs = snapshot if isinstance(snapshot, dict) else {"live": snapshot}
            # A group's runs move in step; a diverged one stops early: the furthest counts.
            furthest = max(live_runs.values(), key=lambda run: int(run.history["step"].iloc[-1]))
            step = int(furthest.history["step"].iloc[-1])
            planned = max(furthest.planned_steps, 1)
            training_text = _("training, step {step} of {planned}").format(
                step=f"{step:,}", planned=f"{planned:,}"
            )
            progress.progress(min(step / planned, 1.0), text=_titled(title, training_text))
            if not quiz.active() and time.monotonic() - last_draw >= LIVE_REDRAW_SECONDS:
                last_draw = time.monotonic()
                live.altair_chart(charts.curves_chart(compare.curves_table(live_runs)))
        time.sleep(POLL_SECONDS)
    progress.empty()
    live.empty()
    if job.state == jobs.DONE:
        return job.result
    if job.state == jobs.FAILED:
        st.error(
            _("Training failed: {error}").format(error=f"{type(job.error).__name__}: {job.error}")
        )
    else:
        st.info(
            _("The training stopped: nobody was waiting for it. Press Train to start it again.")
        )
    return None
