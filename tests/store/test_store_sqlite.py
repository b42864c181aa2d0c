"""The store contract on SQLite (always runs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.domain.models import EnqueueRequest
from bridge.store import Store, open_store
from bridge.store.dialect import Tx
from bridge.store.sqlite_dialect import SQLiteDialect
from tests.store.batch_contract import BatchContract
from tests.store.cost_contract import CostContract
from tests.store.retention_contract import RetentionContract
from tests.store.store_contract import StoreContract, contract_now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'contract.db'}"))
    store.install(datetime.now(UTC))
    yield store
    store.close()


class TestSQLiteBatches(BatchContract):
    pass


class TestSQLiteCost(CostContract):
    pass


class TestSQLiteRetention(RetentionContract):
    pass


class TestSQLiteStore(StoreContract):
    def test_wal_mode_and_busy_timeout(self, store: Store) -> None:
        with store.dialect.transaction("pragma", write=False) as tx:
            assert tx.scalar("PRAGMA journal_mode") == "wal"
            assert int(tx.scalar("PRAGMA busy_timeout")) >= 1000


class _StampedByItsOwnClock(SQLiteDialect):
    """SQLite stamping what it queues as sms_api.enqueue does on Oracle: created_at, the due
    time and the QUEUED event take the database's clock at the call (microseconds and all),
    whatever ``now`` the caller passes."""

    def enqueue(self, tx: Tx, request: EnqueueRequest, now: datetime) -> int:
        return super().enqueue(tx, request, datetime.now(UTC))


class TestSQLiteStoreStampedAsOnOracle(StoreContract):
    """The contract again, with Oracle's stamping of enqueue: a test that takes its ``now``
    for the stamp of what it queues (which only SQLite honours) fails here, not first on a
    real Oracle."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = Store(_StampedByItsOwnClock(tmp_path / "stamped.db"))
        store.install(datetime.now(UTC))
        yield store
        store.close()


def test_the_contracts_now_is_over_a_second_ahead_in_whole_seconds() -> None:
    # Just before a second turns: clock + 1 s cut to whole seconds would be 1 µs ahead.
    clock = datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=UTC)
    now = contract_now(clock)
    assert now.microsecond == 0 and now - clock > timedelta(seconds=1)
    whole = clock.replace(microsecond=0)
    assert contract_now(whole) - whole == timedelta(seconds=2)


def test_install_adds_a_column_an_older_database_lacks(tmp_path: Path) -> None:
    """A database from before sms_events.callback_key: db install adds it (and its index)."""
    import sqlite3

    path = tmp_path / "old.db"
    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    store.install(datetime.now(UTC))
    store.close()
    with sqlite3.connect(path) as conn:  # make it look like the older schema
        conn.execute("DROP INDEX sms_events_callback_ux")
        conn.execute("ALTER TABLE sms_events DROP COLUMN callback_key")
    conn.close()
    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    try:
        report = store.install(datetime.now(UTC))
        assert "added column sms_events.callback_key" in report.notes
        with store.dialect.transaction("check", write=False) as tx:
            columns = {r["name"] for r in tx.rows("PRAGMA table_info(sms_events)")}
            indexes = {r["name"] for r in tx.rows("PRAGMA index_list(sms_events)")}
        assert "callback_key" in columns and "sms_events_callback_ux" in indexes
    finally:
        store.close()
