"""The store contract on Oracle, when SMS_BRIDGE_TEST_ORACLE_DSN names a database.

DSN format: oracle://user:password@host:port/service (deploy/oracle-ci has a recipe with
Oracle Database Free). Each test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest

from bridge.config import DatabaseSettings
from bridge.store import Store, open_store
from tests.store.batch_contract import BatchContract
from tests.store.cost_contract import CostContract
from tests.store.retention_contract import RetentionContract
from tests.store.store_contract import StoreContract

DSN = os.environ.get("SMS_BRIDGE_TEST_ORACLE_DSN", "")

pytestmark = pytest.mark.oracle

if not DSN:
    # One skip line for the module, with the reason, instead of one per contract test.
    pytest.skip(
        "Oracle contract tests need SMS_BRIDGE_TEST_ORACLE_DSN="
        "oracle://user:password@host:port/service (see deploy/oracle-ci)",
        allow_module_level=True,
    )

# Every table the suite (or an earlier HR run in the same schema) can leave rows in, each after
# the tables whose foreign keys reference it: otherwise ORA-02292 (hr_demo_certifications
# references sms_outbound, sms_inbound and hr_demo_employees). sms_schema_version is the
# install's own row. tests/plsql/test_plsql_delete_order.py checks this list against the
# foreign keys of plsql/, without Oracle.
TABLES_CHILD_FIRST = [
    "hr_demo_certifications",
    "sms_events",
    "sms_inbound",
    "sms_outbound",
    "sms_batches",
    "sms_optouts",
    "sms_keywords",
    "sms_api_keys",
    "sms_senders",
    "sms_contacts",
    "sms_job_runs",
    "sms_number_lookups",
    "hr_demo_phones",
    "hr_demo_employees",
    "fin_demo_clients",
    "fin_demo_staff",
]


@pytest.fixture(scope="module")
def installed_store() -> Iterator[Store]:
    from datetime import UTC

    store = open_store(DatabaseSettings(url=DSN), client_identifier="sms-bridge-tests")
    store.install(datetime.now(UTC))
    yield store
    store.close()


@pytest.fixture
def store(installed_store: Store) -> Store:
    with installed_store.dialect.transaction("reset") as tx:
        for table in TABLES_CHILD_FIRST:
            tx.execute(f"DELETE FROM {table}")
    return installed_store


class TestOracleStore(StoreContract):
    pass


class TestOracleBatches(BatchContract):
    pass


class TestOracleCost(CostContract):
    pass


class TestOracleRetention(RetentionContract):
    pass
