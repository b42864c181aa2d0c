"""Shared fixtures: a controlled clock and small builders used across the suites; and the
typed-binds layer around every statement the store runs (tests/store/sql_checks.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bridge.store.oracle_dialect import OracleTx
from bridge.store.sqlite_dialect import SQLiteTx
from tests.store import sql_checks

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def now() -> datetime:
    # Close to the real clock (Oracle's sms_api stamps created_at with its own UTC clock), but
    # fixed for the duration of a test.
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="session", autouse=True)
def _typed_binds_checked() -> Iterator[None]:
    """Every execute/executemany/rows of a Tx (row and scalar go through rows) is analysed
    first: an untyped bind, bind names that differ from the placeholders, or a driver-typed
    bind of the wrong type raise inside the call."""
    with pytest.MonkeyPatch.context() as patch:
        for tx_class in (SQLiteTx, OracleTx):
            for name in ("execute", "executemany", "rows"):
                method = getattr(tx_class, name)
                patch.setattr(
                    tx_class, name, sql_checks.checked(method, many=name == "executemany")
                )
        yield


@pytest.fixture(autouse=True)
def _typed_bind_problems_fail_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """A problem the code under test swallowed (a thread, a broad handler) still fails it."""
    sql_checks.PROBLEMS.clear()
    yield
    problems, failed = list(sql_checks.PROBLEMS), request.node.stash.get(_CALL_FAILED, False)
    sql_checks.PROBLEMS.clear()
    if problems and not failed:
        pytest.fail(problems[0], pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if call.when == "call":
        item.stash[_CALL_FAILED] = bool(getattr(report, "failed", False))
    return report
