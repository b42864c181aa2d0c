"""The store contract on SQLite (always runs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.store import Store, open_store
from tests.store.store_contract import StoreContract


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'contract.db'}"))
    store.install(datetime.now(UTC))
    yield store
    store.close()


class TestSQLiteStore(StoreContract):
    def test_wal_mode_and_busy_timeout(self, store: Store) -> None:
        with store.dialect.transaction("pragma", write=False) as tx:
            assert tx.scalar("PRAGMA journal_mode") == "wal"
            assert int(tx.scalar("PRAGMA busy_timeout")) >= 1000
