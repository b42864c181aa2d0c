"""The worker's daily retention job (bridge/runner.py): scheduled at [retention] run_at on a
thread of its own, run once for all workers (sms_job_runs), its counts in the log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.domain.models import EnqueueRequest
from bridge.runner import Runner
from tests.outbound.support import local_settings, prepare_db


def _jobs(runner: Runner) -> list[object]:
    return [j.job_func.func for j in runner.scheduler.jobs if hasattr(j.job_func, "func")]


def test_scheduled_daily_in_the_background_unless_disabled(tmp_path: Path) -> None:
    store = prepare_db(tmp_path / "r.db")
    on = Runner(
        local_settings(tmp_path / "r.db", tmp_path / "mail", retention_run_at="02:45"), store
    )
    off = Runner(
        local_settings(tmp_path / "r.db", tmp_path / "mail", retention_enabled="false"), store
    )
    try:
        on.schedule_jobs()
        (job,) = [j for j in on.scheduler.jobs if j.job_func.func is on.retention_job]
        assert job.unit == "days" and job.at_time is not None
        assert job.at_time.strftime("%H:%M") == "02:45"
        assert on.retention not in _jobs(on)  # never on the sending loop itself
        off.schedule_jobs()
        assert off.retention_job not in _jobs(off)
    finally:
        on.worker.pool.shutdown()
        off.worker.pool.shutdown()
        store.close()


def test_one_worker_purges_and_logs_the_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = prepare_db(tmp_path / "r.db")
    then = datetime.now(UTC) - timedelta(days=100)
    old = store.enqueue(
        EnqueueRequest(sender_code="HR", body="old", to_number="+14155550123"), then
    )
    store.cancel(old, then, reason="dup")
    recent = store.enqueue(
        EnqueueRequest(sender_code="HR", body="new", to_number="+14155550123"), then
    )
    store.cancel(recent, datetime.now(UTC), reason="dup")
    settings = local_settings(tmp_path / "r.db", tmp_path / "mail", retention_batch_rows="1")
    first = Runner(settings, store)
    second = Runner(settings, store)
    second.name = "other-worker"
    try:
        with caplog.at_level(logging.INFO, logger="bridge.runner"):
            first.retention()
            second.retention()  # the same day: the first one ran it
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retention")]
        assert len(lines) == 1, lines
        assert lines[0].startswith("retention: purged 1 message(s) final before")
        purged, kept = store.get(old), store.get(recent)
        assert purged is not None and purged.body == "[purged]" and purged.purged_at is not None
        assert kept is not None and kept.body == "new" and kept.purged_at is None
    finally:
        first.worker.pool.shutdown()
        second.worker.pool.shutdown()
        store.close()
