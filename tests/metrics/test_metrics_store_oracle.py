"""Store.queue_snapshot on Oracle, when SMS_BRIDGE_TEST_ORACLE_DSN names a database (the
store contract's fixtures; skipped with it otherwise)."""

from __future__ import annotations

import pytest

from tests.metrics.metrics_contract import MetricsStoreContract
from tests.store.test_store_oracle import installed_store, store

pytestmark = pytest.mark.oracle
__all__ = ["installed_store", "store"]


class TestOracleMetricsStore(MetricsStoreContract):
    pass
