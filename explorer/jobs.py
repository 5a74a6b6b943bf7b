"""Trainings for a shared server: one per set-up, waited on by sessions, stopped when none waits.

    submit(key, session, work) -> Job       a finished key comes back done from the results;
                                            a key already queued or running gains a waiter;
                                            otherwise a new job joins the queue
    submit(key, ..., members=[k1, k2])      a group: `work` returns one result per member, each
                                            kept under its own key too (a later single submit
                                            of k2 comes back done)
    touch(job, session)                     "still waiting": a waiter unseen for
                                            `abandon_seconds` has left
    leave(session)                          the session stops waiting (Cancel, a new Train)
    work(on_progress, should_stop)          runs in the job's own thread; `on_progress(snapshot)`
                                            replaces the job's latest snapshot (never a queue);
                                            `should_stop()` turns True once no waiter is left

At most `max_running` jobs run at once; the rest wait in order, and a queued job whose waiters
all left is dropped before it starts. Each session waits on at most one job: a new submit
leaves the old one. Streamlit has no background jobs that outlive a script run and can be
cancelled, so this small scheduler is written here; it knows nothing of Streamlit.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ABANDON_SECONDS = 1.5  # a waiter unseen this long has gone (tab closed, Stop, another action)
MAX_RESULTS = 24  # finished results kept for any session: a few hundred kB each


def default_max_running() -> int:
    """Trainings at once: EXPLORER_MAX_TRAININGS, else one per core up to 2."""
    configured = os.environ.get("EXPLORER_MAX_TRAININGS", "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise ValueError(
                f"EXPLORER_MAX_TRAININGS must be a whole number of at least 1; got {configured!r}"
            ) from None
    return max(1, min(2, os.cpu_count() or 1))


Work = Callable[[Callable[[Any], None], Callable[[], bool]], Any]


@dataclasses.dataclass(eq=False)
class Job:
    """One training: its state, its newest progress snapshot, its result or error."""

    key: Hashable
    work: Work | None = None
    state: str = QUEUED
    latest: Any = None  # the newest snapshot from `on_progress`
    result: Any = None
    error: BaseException | None = None
    waiters: dict[str, float] = dataclasses.field(default_factory=dict)  # session -> last seen
    members: tuple = ()  # a group's member keys: its result is a list, one per member
    stop_requested: bool = False
    position: int = 0  # place in the queue while queued (1 = next), else 0

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)


class JobManager:
    """The process's trainings: queue, threads, waiters and the finished results."""

    def __init__(
        self,
        max_running: int | None = None,
        abandon_seconds: float = ABANDON_SECONDS,
        max_results: int = MAX_RESULTS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_running = max_running or default_max_running()
        self.abandon_seconds = abandon_seconds
        self.max_results = max_results
        self.clock = clock
        self._lock = threading.Lock()
        self._active: dict[Hashable, Job] = {}  # queued or running, by key
        self._queue: list[Job] = []
        self._running: set[Job] = set()
        self._by_session: dict[str, Job] = {}
        self._results: collections.OrderedDict[Hashable, Any] = collections.OrderedDict()
        self._threads: list[threading.Thread] = []

    # --- what sessions call ---------------------------------------------------------------------

    def submit(self, key: Hashable, session: str, work: Work, members=()) -> Job:
        """The job for `key`, with `session` among its waiters (and off any other job); with
        `members`, a group whose result is a list of their results."""
        members = tuple(members)
        with self._lock:
            old = self._by_session.get(session)
            if old is not None and old.key != key:
                self._leave(old, session)
            if key in self._results:
                self._results.move_to_end(key)
                return Job(key, state=DONE, result=self._results[key])
            if members and all(member in self._results for member in members):
                result = [self._results[member] for member in members]
                return Job(key, state=DONE, result=result, members=members)
            job = self._active.get(key)
            if job is None or job.stop_requested:  # a stopping job is not revived: start anew
                job = Job(key, work, members=members)
                self._active[key] = job
                self._queue.append(job)
            job.waiters[session] = self.clock()
            self._by_session[session] = job
            self._schedule()
            return job

    def touch(self, job: Job, session: str) -> None:
        """`session` still waits for `job`."""
        with self._lock:
            if job.active and session in job.waiters:
                job.waiters[session] = self.clock()
            self._schedule()  # also drops queued jobs whose waiters left

    def touch_session(self, session: str) -> Job | None:
        """`session` still waits, for whichever job it waits on; returns that job."""
        with self._lock:
            job = self._by_session.get(session)
            if job is not None:
                job.waiters[session] = self.clock()
            return job

    def leave(self, session: str) -> None:
        """`session` no longer waits: its job stops if nobody else waits for it."""
        with self._lock:
            job = self._by_session.pop(session, None)
            if job is not None:
                self._leave(job, session)

    def result(self, key: Hashable) -> Any:
        """A finished result, or None."""
        with self._lock:
            return self._results.get(key)

    def status(self) -> dict[str, int]:
        """Counts for a status line: running, queued, results kept."""
        with self._lock:
            return {
                "running": len(self._running),
                "queued": len(self._queue),
                "results": len(self._results),
            }

    def clear_results(self) -> None:
        with self._lock:
            self._results.clear()

    def join(self, timeout: float | None = None) -> None:
        """Wait for every started thread (tests and scripts)."""
        deadline = None if timeout is None else self.clock() + timeout
        for thread in list(self._threads):
            thread.join(None if deadline is None else max(0.0, deadline - self.clock()))

    # --- inside, under the lock -----------------------------------------------------------------

    def _alive(self, job: Job) -> bool:
        now = self.clock()
        return not job.stop_requested and any(
            now - seen <= self.abandon_seconds for seen in job.waiters.values()
        )

    def _leave(self, job: Job, session: str) -> None:
        job.waiters.pop(session, None)
        if not job.waiters:
            job.stop_requested = True
            self._schedule()

    def _schedule(self) -> None:
        for job in [job for job in self._queue if not self._alive(job)]:
            self._queue.remove(job)
            self._finish(job, CANCELLED)
        while self._queue and len(self._running) < self.max_running:
            job = self._queue.pop(0)
            job.state = RUNNING
            self._running.add(job)
            thread = threading.Thread(target=self._run, args=(job,), daemon=True)
            self._threads = [alive for alive in self._threads if alive.is_alive()]
            self._threads.append(thread)
            thread.start()
        for place, job in enumerate(self._queue, start=1):
            job.position = place

    def _finish(self, job: Job, state: str) -> None:
        job.state, job.position, job.work = state, 0, None
        self._running.discard(job)
        if self._active.get(job.key) is job:
            del self._active[job.key]
        for session in [session for session, held in self._by_session.items() if held is job]:
            del self._by_session[session]

    def _run(self, job: Job) -> None:
        def on_progress(snapshot: Any) -> None:
            job.latest = snapshot

        def should_stop() -> bool:
            with self._lock:
                return not self._alive(job)

        state, result, error = DONE, None, None
        try:
            result = job.work(on_progress, should_stop)
        except BaseException as raised:  # reported to the waiters, never lost in the thread
            state, error = (CANCELLED if should_stop() else FAILED), raised
        with self._lock:
            if state == DONE and job.members:  # each member's result, found by its own key
                job.result = result
                for member, member_result in zip(job.members, result, strict=True):
                    self._results[member] = member_result
                    self._results.move_to_end(member)
                while len(self._results) > self.max_results:
                    self._results.popitem(last=False)
            elif state == DONE:
                job.result = result
                self._results[job.key] = result
                while len(self._results) > self.max_results:
                    self._results.popitem(last=False)
            job.error = error
            job.latest = None  # the snapshot is no longer needed
            self._finish(job, state)
            self._schedule()
