"""The opt-out sync runs beside the sending loop, never on it (bridge/outbound/background.py):
its first run may read 13 months of Twilio's history."""

from __future__ import annotations

import threading
import time

from bridge.outbound.background import BackgroundJob


def test_a_tick_returns_at_once_and_never_starts_a_second_run() -> None:
    release, runs = threading.Event(), []

    def slow() -> None:
        runs.append(threading.current_thread().name)
        release.wait(5)

    job = BackgroundJob("optout-sync", slow)
    started = time.monotonic()
    job()
    job()  # the previous run is still going: nothing
    assert time.monotonic() - started < 0.5  # the loop was not held up
    deadline = time.monotonic() + 2
    while not runs and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runs == ["optout-sync"] and job.running
    release.set()
    job.join(2)
    assert not job.running
    job()  # after it ended, the next tick runs it again
    job.join(2)
    assert runs == ["optout-sync", "optout-sync"]


def test_the_runner_schedules_the_opt_out_sync_in_the_background(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bridge.runner import Runner
    from tests.outbound.support import local_settings, prepare_db

    store = prepare_db(tmp_path / "bg.db")
    runner = Runner(local_settings(tmp_path / "bg.db", tmp_path / "mail"), store)
    try:
        runner.schedule_jobs()
        jobs = [j.job_func.func for j in runner.scheduler.jobs if hasattr(j.job_func, "func")]
        assert runner.optout_job in jobs and runner.optout_sync not in jobs
    finally:
        runner.worker.pool.shutdown()
        store.close()
