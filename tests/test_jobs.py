"""The job manager with stand-in work (no TensorFlow): sharing, queueing, abandoning, results."""

import threading
import time

import pytest

from explorer import jobs

ABANDON = 0.2


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class Work:
    """Counts calls; runs `steps` steps of `pause` seconds, reporting each, until told to stop."""

    def __init__(self, steps=10_000, pause=0.005, fail=False):
        self.steps, self.pause, self.fail = steps, pause, fail
        self.calls = 0
        self.stopped_at = None
        self.release = threading.Event()

    def __call__(self, on_progress, should_stop):
        self.calls += 1
        for step in range(self.steps):
            if should_stop():
                self.stopped_at = time.monotonic()
                raise RuntimeError("stopped")
            on_progress({"step": step})
            time.sleep(self.pause)
        if self.fail:
            raise ValueError("the work failed")
        return f"result after {self.steps} steps"


def keep_touching(manager, job, session, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end and job.active:
        manager.touch(job, session)
        time.sleep(0.02)


def test_two_sessions_share_one_training_and_both_get_its_result():
    manager = jobs.JobManager(max_running=2, abandon_seconds=ABANDON)
    work = Work(steps=20)
    first = manager.submit("A1", "alice", work)
    second = manager.submit("A1", "bob", work)
    assert first is second
    keep_touching(manager, first, "alice", 5)
    assert first.state == jobs.DONE and first.result == "result after 20 steps"
    assert work.calls == 1
    again = manager.submit("A1", "carol", Work())
    assert again.state == jobs.DONE and again.result == first.result


def test_an_abandoned_training_stops_within_the_abandon_time():
    manager = jobs.JobManager(max_running=2, abandon_seconds=ABANDON)
    work = Work()
    job = manager.submit("A1", "alice", work)
    keep_touching(manager, job, "alice", 0.3)
    last_seen = time.monotonic()
    wait_until(lambda: not job.active)
    assert job.state == jobs.CANCELLED
    assert work.stopped_at - last_seen < ABANDON + 0.1
    assert manager.status() == {"running": 0, "queued": 0, "results": 0}


def test_a_shared_training_goes_on_while_one_session_still_waits():
    manager = jobs.JobManager(max_running=2, abandon_seconds=ABANDON)
    work = Work(steps=100)
    job = manager.submit("A1", "alice", work)
    manager.submit("A1", "bob", work)
    manager.leave("alice")  # Cancel in one tab
    keep_touching(manager, job, "bob", 5)
    assert job.state == jobs.DONE and work.stopped_at is None


def test_cancel_stops_a_training_nobody_else_waits_for():
    manager = jobs.JobManager(max_running=2, abandon_seconds=10)
    work = Work()
    job = manager.submit("A1", "alice", work)
    wait_until(lambda: job.latest is not None)
    manager.leave("alice")
    wait_until(lambda: not job.active, timeout=1)
    assert job.state == jobs.CANCELLED


def test_a_new_train_replaces_the_sessions_old_one():
    manager = jobs.JobManager(max_running=2, abandon_seconds=10)
    old = manager.submit("A1", "alice", Work())
    new = manager.submit("A2", "alice", Work(steps=5))
    wait_until(lambda: not old.active, timeout=1)
    assert old.state == jobs.CANCELLED
    keep_touching(manager, new, "alice", 5)
    assert new.state == jobs.DONE


def test_later_trainings_queue_in_order_and_show_their_place():
    manager = jobs.JobManager(max_running=1, abandon_seconds=ABANDON)
    works = [Work(steps=15) for _ in range(3)]
    submitted = [manager.submit(f"run{i}", f"s{i}", work) for i, work in enumerate(works)]
    assert [job.state for job in submitted] == [jobs.RUNNING, jobs.QUEUED, jobs.QUEUED]
    assert [job.position for job in submitted] == [0, 1, 2]
    threads = [
        threading.Thread(target=keep_touching, args=(manager, job, f"s{i}", 10))
        for i, job in enumerate(submitted)
    ]
    for thread in threads:
        thread.start()
    wait_until(lambda: submitted[1].state == jobs.RUNNING and submitted[2].position == 1)
    assert submitted[0].state == jobs.DONE
    for thread in threads:
        thread.join()
    assert all(job.state == jobs.DONE for job in submitted)


def test_a_queued_training_whose_waiters_left_never_starts():
    manager = jobs.JobManager(max_running=1, abandon_seconds=ABANDON)
    first = manager.submit("run0", "s0", Work(steps=40))
    queued_work = Work()
    queued = manager.submit("run1", "s1", queued_work)
    keep_touching(manager, first, "s0", 5)
    assert queued.state == jobs.CANCELLED and queued_work.calls == 0


def test_progress_keeps_only_the_newest_snapshot():
    manager = jobs.JobManager(max_running=1, abandon_seconds=10)
    job = manager.submit("A1", "alice", Work(steps=10_000, pause=0))
    wait_until(lambda: job.latest is not None and job.latest["step"] > 100)
    assert isinstance(job.latest, dict)  # one snapshot, replaced, never a growing queue
    manager.leave("alice")
    wait_until(lambda: not job.active)
    assert job.latest is None  # let go once the job ends


def test_a_failed_training_reports_its_error():
    manager = jobs.JobManager(max_running=1, abandon_seconds=10)
    job = manager.submit("A1", "alice", Work(steps=3, fail=True))
    wait_until(lambda: not job.active)
    assert job.state == jobs.FAILED and "the work failed" in str(job.error)


def test_finished_results_are_bounded():
    manager = jobs.JobManager(max_running=2, abandon_seconds=10, max_results=3)
    for index in range(5):
        job = manager.submit(f"run{index}", "alice", Work(steps=1, pause=0))
        wait_until(lambda job=job: not job.active)
    assert manager.status()["results"] == 3
    assert manager.result("run0") is None and manager.result("run4") is not None


def test_a_stopping_training_is_not_revived_by_a_new_request():
    manager = jobs.JobManager(max_running=2, abandon_seconds=10)
    old = manager.submit("A1", "alice", Work())
    manager.leave("alice")
    new = manager.submit("A1", "bob", Work(steps=3))
    assert new is not old
    wait_until(lambda: not new.active and not old.active)
    assert old.state == jobs.CANCELLED and new.state == jobs.DONE


def test_max_trainings_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXPLORER_MAX_TRAININGS", "3")
    assert jobs.default_max_running() == 3
    monkeypatch.setenv("EXPLORER_MAX_TRAININGS", "many")
    with pytest.raises(ValueError, match=r"EXPLORER_MAX_TRAININGS.*'many'"):
        jobs.default_max_running()


def test_a_group_keeps_each_members_result_under_its_own_key():
    manager = jobs.JobManager(max_running=1, abandon_seconds=10)

    def work(on_progress, should_stop):
        return ["first", "second"]

    job = manager.submit(("group", ("a", "b")), "s1", work, members=["a", "b"])
    wait_until(lambda: job.state == jobs.DONE)
    assert job.result == ["first", "second"]
    assert manager.result("a") == "first" and manager.result("b") == "second"
    alone = manager.submit("b", "s2", lambda *_: "trained again")
    assert alone.state == jobs.DONE and alone.result == "second"  # no second training
    again = manager.submit(("group", ("b", "a")), "s3", work, members=["b", "a"])
    assert again.state == jobs.DONE and again.result == ["second", "first"]
