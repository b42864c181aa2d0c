"""Store.queue_snapshot on SQLite (always runs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.store import Store, open_store
from tests.metrics.metrics_contract import MetricsStoreContract


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'metrics.db'}"))
    opened.install(datetime.now(UTC))
    yield opened
    opened.close()


class TestSQLiteMetricsStore(MetricsStoreContract):
    pass
