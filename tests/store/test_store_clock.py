"""The store's clock: the database's on Oracle (measured offset), the host's on SQLite."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.runner import Runner
from bridge.store import open_store
from bridge.store.clock import DATABASE_NOW_SQL, StoreClock
from tests.outbound.support import local_settings, prepare_db

T0 = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)


class Fake:
    """A host clock and a monotonic clock that tests move, and a database clock `skew` ahead."""

    def __init__(self, skew: timedelta) -> None:
        self.host_now = T0
        self.mono = 100.0
        self.skew = skew
        self.reads = 0
        self.fail = False

    def host(self) -> datetime:
        return self.host_now

    def monotonic(self) -> float:
        return self.mono

    def database(self) -> datetime:
        self.reads += 1
        if self.fail:
            raise OSError("listener down")
        # Oracle's SYS_EXTRACT_UTC(SYSTIMESTAMP) comes back without a zone.
        return (self.host_now + self.skew).replace(tzinfo=None)


def test_now_is_the_database_clock_measured_once_then_refreshed() -> None:
    fake = Fake(timedelta(seconds=-90))  # the database is 90 s behind the host
    clock = StoreClock(fake.database, host=fake.host, monotonic=fake.monotonic)
    assert clock.follows_database
    assert clock.now() == T0 - timedelta(seconds=90)
    fake.host_now += timedelta(seconds=10)
    assert clock.now() == T0 + timedelta(seconds=10 - 90) and fake.reads == 1
    # After the refresh period a new measurement is taken (off the caller's path).
    fake.skew = timedelta(seconds=5)
    fake.mono += 301
    clock.now()
    for thread in threading.enumerate():
        if thread.name == "store-clock":
            thread.join(5)
    assert fake.reads == 2 and clock.now() == fake.host_now + timedelta(seconds=5)


def test_a_failed_reading_keeps_the_offset_and_is_retried_soon() -> None:
    fake = Fake(timedelta(seconds=30))
    clock = StoreClock(fake.database, host=fake.host, monotonic=fake.monotonic)
    assert clock.offset() == timedelta(seconds=30)
    fake.fail = True
    clock.refresh()
    assert clock.offset() == timedelta(seconds=30)  # kept
    fake.fail = False
    fake.mono += 31  # RETRY_SECONDS, not another 300 s
    clock.now()
    for thread in threading.enumerate():
        if thread.name == "store-clock":
            thread.join(5)
    assert fake.reads == 3


def test_a_large_offset_is_logged_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    fake = Fake(timedelta(seconds=3.5))
    with caplog.at_level(logging.INFO, logger="bridge.store.clock"):
        StoreClock(fake.database, host=fake.host, monotonic=fake.monotonic).now()
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "3.5 s ahead of this host's" in record.getMessage()


def test_sqlite_follows_the_host_and_oracle_asks_the_database(tmp_path: Path) -> None:
    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'c.db'}"))
    store.install(datetime.now(UTC))
    try:
        assert not store.clock.follows_database and store.clock.offset() == timedelta(0)
        assert abs(store.now() - datetime.now(UTC)) < timedelta(seconds=5)
    finally:
        store.close()
    assert "SYS_EXTRACT_UTC(SYSTIMESTAMP)" in DATABASE_NOW_SQL["oracle"]
    assert "sqlite" not in DATABASE_NOW_SQL


def test_the_worker_and_its_jobs_take_the_store_clock(tmp_path: Path) -> None:
    """A Runner without a clock of its own claims, leases and stamps with the store's."""
    db = tmp_path / "w.db"
    store = prepare_db(db)
    fake = Fake(timedelta(hours=1))
    store.clock = StoreClock(fake.database, host=fake.host, monotonic=fake.monotonic)
    runner = Runner(local_settings(db, tmp_path / "mail"), store)
    try:
        assert runner.clock() == T0 + timedelta(hours=1)
        assert runner.worker.clock() == T0 + timedelta(hours=1)
    finally:
        runner.worker.shutdown()
        store.close()


@pytest.mark.parametrize(("skew", "status"), [(0.2, "clock offset +0.200 s"), (-3.0, "WARN ")])
def test_check_shows_the_offset_and_warns_over_two_seconds(
    tmp_path: Path, skew: float, status: str
) -> None:
    from bridge.cli.checks import _database_line

    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'c.db'}"))
    store.install(datetime.now(UTC))
    fake = Fake(timedelta(seconds=skew))
    store.clock = StoreClock(fake.database, host=fake.host, monotonic=fake.monotonic)
    try:
        line = _database_line(store)
    finally:
        store.close()
    assert status in line and "schema version 1" in line
    if skew < 0:
        assert line.startswith("WARN ") and "3.0 s behind this host's" in line


def test_no_code_takes_the_host_clock_for_a_timestamp() -> None:
    """Only the store's clock reads the host's wall clock (and the demo, which is SQLite-only):
    a datetime.now() elsewhere would compare a host time with a database-stamped one."""
    import ast

    root = Path(__file__).resolve().parents[2]
    allowed = {"bridge/store/clock.py", "bridge/demo/walkthrough.py"}
    found = []
    for package in ("bridge", "inbound"):
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in {"now", "utcnow", "today"}
                    and isinstance(node.value, ast.Name)
                    and node.value.id in {"datetime", "date"}
                    and rel not in allowed
                ):
                    found.append(f"{rel}:{node.lineno}")
    assert found == []


def test_the_offset_is_timed_around_the_query_not_the_connect() -> None:
    """A slow pool connect before the query is not halved into the offset."""
    fake = Fake(timedelta(0))

    def measure() -> tuple[datetime, datetime, datetime]:
        fake.host_now += timedelta(seconds=6)  # connecting takes 6 s
        before = fake.host_now
        value = fake.host_now.replace(tzinfo=None)  # the database agrees with the host
        after = fake.host_now
        return value, before, after

    clock = StoreClock(measure, host=fake.host, monotonic=fake.monotonic)
    assert clock.offset() == timedelta(0)  # untimed, it would have been +3 s
