"""The worker survives a database it cannot write: one alert (rate-limited), no crash, and it
carries on once the database is back."""

from __future__ import annotations

import mailbox
import sqlite3
from pathlib import Path

from bridge.config import load_settings
from bridge.runner import Runner
from tests.outbound.support import enqueue_many, local_settings, prepare_db, run_once


def test_database_outage_alerts_once_and_recovers(tmp_path: Path) -> None:
    db = tmp_path / "down.db"
    store = prepare_db(db)
    enqueue_many(store, 3)
    store.close()
    env = {
        "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{db}",
        "SMS_BRIDGE_DATABASE_BUSY_TIMEOUT_MS": "200",
        "SMS_BRIDGE_MAIL_MAILDIR": str(tmp_path / "mail"),
        "SMS_BRIDGE_MAIL_ADMINS": "ops@example.com",
        "SMS_BRIDGE_BRIDGE_POLL_MAX_SECONDS": "0.2",
        # Nothing may be sent while the database is locked; a closed port proves it.
        "SMS_BRIDGE_TWILIO_BASE_URL": "http://127.0.0.1:9",
    }
    settings = load_settings(None, env)
    from bridge.store import open_store

    store = open_store(settings.database)
    runner = Runner(settings, store)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock: an outage
    try:
        assert runner.guarded(runner.worker.step) == 0
        assert runner.guarded(runner.worker.step) == 0  # second failure: no second mail
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    box = list(mailbox.Maildir(tmp_path / "mail", create=False))
    assert [m["Subject"] for m in box] == ["[sms-bridge ALERT] The bridge cannot use its database"]
    assert "database is locked" in str(box[0].get_payload(0))
    # The database is back: the same worker claims and goes on (Twilio is unreachable here,
    # so the sends fail before leaving and are queued again for a retry, never lost).
    assert runner.guarded(runner.worker.step) == 3
    while runner.worker.in_flight:
        runner.worker.collect(block=True)
    runner.worker.shutdown()
    statuses = {m.status.value for m in (store.get(i) for i in (1, 2, 3)) if m is not None}
    assert statuses == {"QUEUED"}
    store.close()


def test_run_once_ends_with_an_error_during_an_outage(tmp_path: Path) -> None:
    db = tmp_path / "down.db"
    store = prepare_db(db)
    enqueue_many(store, 2)
    store.close()
    env = {
        "PATH": "/usr/bin:/bin",
        "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{db}",
        "SMS_BRIDGE_DATABASE_BUSY_TIMEOUT_MS": "200",
        "SMS_BRIDGE_MAIL_MAILDIR": str(tmp_path / "mail"),
        "SMS_BRIDGE_MAIL_ADMINS": "ops@example.com",
        "SMS_BRIDGE_BRIDGE_POLL_MAX_SECONDS": "0.2",
        "SMS_BRIDGE_TWILIO_BASE_URL": "http://127.0.0.1:9",
        # Credentials, or the start check stops the worker first (exit 2, a config error);
        # the refused start check only warns.
        "SMS_BRIDGE_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "SMS_BRIDGE_TWILIO_AUTH_TOKEN": "token",
    }
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        proc = run_once(env, timeout=60)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert proc.returncode == 1
    assert "the database is unavailable" in proc.stderr


def test_a_bug_in_a_step_is_alerted_as_itself_not_as_a_database_outage(tmp_path: Path) -> None:
    db = tmp_path / "bug.db"
    store = prepare_db(db)
    settings = local_settings(db, tmp_path / "mail", bridge_poll_max_seconds="0.05")
    runner = Runner(settings, store)

    def broken_step() -> int:
        raise KeyError("sender_code")

    assert runner.guarded(broken_step) == 0
    box = list(mailbox.Maildir(tmp_path / "mail", create=False))
    assert [m["Subject"] for m in box] == ["[sms-bridge ALERT] The bridge hit an unexpected error"]
    assert "KeyError" in str(box[0].get_payload(0))
    assert runner.guarded(lambda: 2) == 2  # the next good step clears the failure
    runner.worker.shutdown()
    store.close()
