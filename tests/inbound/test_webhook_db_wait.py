"""The webhooks' bounded database wait ([inbound] webhook_db_wait_ms), in process: the setting,
how each engine bounds its waits by it, and the webhook and /health on a locked SQLite file."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import falcon.testing
import oracledb
import pytest

from bridge.config import load_settings
from bridge.errors import ConfigError
from bridge.replies.spool import Spool
from bridge.store import Store
from bridge.store.dialect import DatabaseWaitExceeded, wait_budget_ms
from bridge.store.oracle_dialect import OracleDialect
from inbound.app import create_app
from tests.inbound.conftest import inbound_form, make_settings, post_signed
from tests.store.test_oracle_driver_calls import RecordingConnection, RecordingPool, make_dialect


@pytest.mark.parametrize("value", ["99", "3001", "0", "-5"])
def test_a_wait_out_of_range_is_one_line_naming_the_key_and_where(
    tmp_path: Path, value: str
) -> None:
    config = tmp_path / "sms-bridge.toml"
    config.write_text(f"[inbound]\nwebhook_db_wait_ms = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, {})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"[inbound] webhook_db_wait_ms in {config}: {int(value)} must be")
    assert "between 100 and 3000" in message
    with pytest.raises(ConfigError, match="environment variable SMS_BRIDGE_INBOUND_WEBHOOK_DB"):
        load_settings(None, {"SMS_BRIDGE_INBOUND_WEBHOOK_DB_WAIT_MS": value})


def test_the_default_wait_is_2_s_and_settable() -> None:
    assert load_settings(None, {}).inbound.webhook_db_wait_ms == 2000
    env = {"SMS_BRIDGE_INBOUND_WEBHOOK_DB_WAIT_MS": "500"}
    assert load_settings(None, env).inbound.webhook_db_wait_ms == 500


class HeldLock:
    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None)

    def __enter__(self) -> HeldLock:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def busy_timeout(store: Store) -> int:
    conn = store.dialect._connection()  # type: ignore[attr-defined]
    return int(conn.execute("PRAGMA busy_timeout").fetchone()[0])


def test_sqlite_waits_for_the_write_lock_only_what_is_left_then_restores(
    store: Store, tmp_path: Path
) -> None:
    assert busy_timeout(store) == 2000  # [database] busy_timeout_ms of the tests' settings
    with HeldLock(tmp_path / "inbound.db"):
        started = time.monotonic()
        with store.bounded_wait(300):
            assert store.schema_version() == 1  # reads never wait for the write lock (WAL)
            with pytest.raises(sqlite3.OperationalError, match="locked") as caught:
                store.probe_write()
            took = time.monotonic() - started
            assert 0.25 < took < 1.0, took
            assert store.is_unavailable(caught.value)
            with pytest.raises(DatabaseWaitExceeded) as used_up:
                store.schema_version()  # the wait is used up: not even a read waits
            assert store.is_unavailable(used_up.value)
    assert busy_timeout(store) == 2000
    store.probe_write()  # the lock released: the probe passes, and changes nothing
    assert store.schema_version() == 1


def test_nested_waits_keep_the_earlier_deadline_and_each_thread_has_its_own(
    store: Store,
) -> None:
    assert wait_budget_ms() is None
    with store.bounded_wait(200):
        with store.bounded_wait(5000):
            left = wait_budget_ms()
            assert left is not None and left <= 200
        seen: list[int | None] = []
        other = threading.Thread(target=lambda: seen.append(wait_budget_ms()))
        other.start()
        other.join()
        assert seen == [None]  # another thread (another request) is not bounded by this one
    assert wait_budget_ms() is None


def test_a_webhook_on_a_locked_file_is_spooled_within_its_wait(
    store: Store, tmp_path: Path, now: datetime
) -> None:
    settings = make_settings(tmp_path / "inbound.db", tmp_path / "spool", webhook_db_wait_ms=300)
    spool = Spool(settings.inbound.spool_dir)
    client = falcon.testing.TestClient(create_app(settings, store, clock=lambda: now, spool=spool))
    with HeldLock(tmp_path / "inbound.db"):
        started = time.monotonic()
        answer = post_signed(client, "/twilio/inbound", inbound_form("Thanks"))
        took = time.monotonic() - started
        assert answer.status_code == 200 and answer.text.endswith("<Response/>")
        assert took < 1.0, took
        assert spool.pending() == 1
        health = client.simulate_get("/health")
        assert health.status_code == 503
        assert (health.json["status"], health.json["database"]) == ("degraded", "read-only")
        assert health.json["spooled"] == 1
    assert client.simulate_get("/health").status_code == 200


# -- Oracle, against the recording pool of tests/store/test_oracle_driver_calls.py ------------


class TimedPool(RecordingPool):
    """Records the pool's wait_timeout each acquire ran with."""

    def __init__(self) -> None:
        super().__init__()
        self.wait_timeout = 10_000
        self.waits: list[int] = []

    def acquire(self) -> RecordingConnection:
        self.waits.append(self.wait_timeout)
        return super().acquire()


def oracle_dialect() -> tuple[OracleDialect, TimedPool]:
    dialect, _ = make_dialect()
    pool = TimedPool()
    dialect.pool = pool  # type: ignore[assignment]
    dialect._pool_wait_ms = 10_000
    dialect._acquire_lock = threading.Lock()
    return dialect, pool


def test_oracle_bounds_each_round_trip_by_what_is_left_of_the_wait() -> None:
    dialect, pool = oracle_dialect()  # [database] call_timeout_ms 12000
    with dialect.transaction("inbound") as tx:
        tx.execute("SELECT 1 FROM dual")
    assert pool.conn.call_timeout == 12_000  # unbounded: the configured call timeout
    with dialect.bounded_wait(1500), dialect.transaction("inbound") as tx:
        tx.execute("SELECT 1 FROM dual")
        first = pool.conn.call_timeout
        time.sleep(0.2)
        tx.rows("SELECT 1 FROM dual")
        second = pool.conn.call_timeout
    # Half of what is left: a thin call that times out may wait one more call_timeout for
    # the answer to its break, so a round trip can take twice its call_timeout.
    assert 650 < first <= 750 and second <= first - 75, (first, second)
    assert (pool.conn.commits, pool.released) == (2, 2)
    # The pool's wait: its own for an unbounded caller, what is left for a bounded one.
    assert pool.waits[0] == 10_000 and 1400 < pool.waits[1] <= 1500, pool.waits
    assert pool.wait_timeout == 10_000  # put back


def test_oracle_with_the_wait_used_up_fails_as_an_outage_and_gives_the_connection_back() -> None:
    dialect, pool = oracle_dialect()
    with dialect.bounded_wait(100):
        time.sleep(0.15)
        with pytest.raises(DatabaseWaitExceeded) as caught, dialect.transaction("inbound"):
            pass
    assert dialect.is_unavailable(caught.value)
    assert pool.acquired == pool.released  # never asked the pool, or gave it back
    with dialect.bounded_wait(150):
        with pytest.raises(DatabaseWaitExceeded), dialect.transaction("inbound") as tx:
            tx.execute("SELECT 1 FROM dual")
            time.sleep(0.2)
            tx.execute("SELECT 1 FROM dual")  # no time left for this round trip
        # The rollback still got its floor, and the connection went back to the pool.
        assert pool.conn.rollbacks == 1 and pool.conn.call_timeout == 250
    assert (pool.conn.commits, pool.acquired, pool.released) == (0, 1, 1)


def test_oracle_limits_the_pools_wait_for_the_inbound_service() -> None:
    dialect, pool = oracle_dialect()
    dialect.limit_connection_wait(2000)
    assert pool.wait_timeout == 2000
    dialect.limit_connection_wait(5000)  # never lengthened
    assert pool.wait_timeout == 2000
    with dialect.bounded_wait(1000), dialect.transaction("inbound"):
        pass
    assert 900 < pool.waits[-1] <= 1000 and pool.wait_timeout == 2000


def test_oracle_bounded_callers_waiting_for_the_pool_each_stop_at_their_own_deadline() -> None:
    dialect, pool = oracle_dialect()
    dialect._acquire_lock.acquire()  # another bounded caller is inside the pool's wait
    try:
        started = time.monotonic()
        with (
            dialect.bounded_wait(200),
            pytest.raises(DatabaseWaitExceeded),
            dialect.transaction("inbound"),
        ):
            pass
        assert 0.15 < time.monotonic() - started < 0.5
    finally:
        dialect._acquire_lock.release()
    assert pool.acquired == 0


@pytest.mark.parametrize("code", ["DPY-4024", "DPY-4011", "DPY-4005", "DPI-1067", "ORA-03156",
                                  "ORA-24457", "ORA-24459"])  # fmt: skip
def test_oracle_timeouts_of_both_modes_are_outages(code: str) -> None:
    dialect, _ = make_dialect()
    assert dialect.is_unavailable(oracledb.DatabaseError(SimpleNamespace(full_code=code)))
