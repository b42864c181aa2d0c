"""Digests are sent once for all workers, over the window since the last one (sms_job_runs)."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.domain.statuses import Status
from bridge.runner import Runner
from tests.outbound.support import enqueue_many, local_settings, prepare_db


def test_two_workers_send_one_error_digest_and_a_restart_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "digest.db"
    store = prepare_db(db)
    settings = local_settings(db, tmp_path / "mail", mail_error_digest_minutes="15")
    clock = {"now": datetime.now(UTC)}

    def fail_one(at: datetime) -> None:
        (message_id,) = enqueue_many(store, 1, tag=str(at))
        store.finalize(message_id, Status.FAILED, at, error_code=30008, reason="unknown error")

    fail_one(clock["now"] - timedelta(minutes=1))
    workers = [Runner(settings, store, clock=lambda: clock["now"]) for _ in range(2)]
    try:
        for runner in workers:
            runner.digest()  # both schedulers fire; one sends
        box = mailbox.Maildir(tmp_path / "mail", create=False)
        assert len(box) == 1
        # A failure between two digests, then "worker A" restarts: the next digest, sent by
        # whichever worker, starts where the last one ended.
        fail_one(clock["now"] + timedelta(minutes=5))
        clock["now"] += timedelta(minutes=15)
        restarted = Runner(settings, store, clock=lambda: clock["now"])
        restarted.digest()
        workers[1].digest()
        assert len(box) == 2
        subjects = sorted(str(m["Subject"]) for m in box)
        # Each failure reported exactly once: one error in each digest.
        assert all(" 1 message error(s), " in s for s in subjects), subjects
        restarted.worker.shutdown()
    finally:
        for runner in workers:
            runner.worker.shutdown()
        store.close()


def test_a_digest_whose_mail_or_read_failed_is_covered_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "giveback.db"
    store = prepare_db(db)
    now = datetime.now(UTC)
    (message_id,) = enqueue_many(store, 1)
    store.finalize(message_id, Status.FAILED, now - timedelta(minutes=1), error_code=30008)
    smtp_down = local_settings(
        db,
        tmp_path / "mail",
        mail_transport="smtp",
        mail_smtp_host="127.0.0.1",
        mail_smtp_port="9",  # nothing listens: the mail fails
        mail_smtp_security="none",
    )
    runner = Runner(smtp_down, store, clock=lambda: now)
    try:
        runner.digest()
        every = timedelta(minutes=smtp_down.mail.error_digest_minutes)
        # Given back: the run after it starts where this one started.
        later = now + every
        assert store.take_job_run("error_digest", later, every, "other") == now - every

        # A read that fails (a database blip) is given back too, and the error still raised.
        def broken(*args: object) -> list[object]:
            raise RuntimeError("database blip")

        monkeypatch.setattr(store, "errors_since", broken)
        blipped = Runner(smtp_down, store, clock=lambda: later + every)
        with pytest.raises(RuntimeError):
            blipped.digest()
        blipped.worker.shutdown()
        assert store.take_job_run("error_digest", later + every * 2, every, "x") == later
    finally:
        runner.worker.shutdown()
        store.close()
