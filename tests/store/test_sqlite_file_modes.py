"""The SQLite database holds every number and message: `db install` creates it 0600, and SQLite
gives its -wal and -shm files the same mode, whatever a permissive umask would allow."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.store import open_store


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # what sqlite3 alone would turn into 0644 files
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_install_creates_the_database_and_its_wal_and_shm_0600(tmp_path: Path) -> None:
    db = tmp_path / "data" / "sms-bridge.db"
    store = open_store(DatabaseSettings(url=f"sqlite:///{db}"))
    try:
        store.install(datetime.now(UTC))  # writes the schema and the demo senders
        wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
        assert wal.exists() and shm.exists()  # WAL mode, the connection still open
        assert {p.name: mode(p) for p in (db, wal, shm)} == {
            db.name: 0o600,
            wal.name: 0o600,
            shm.name: 0o600,
        }
    finally:
        store.close()


@pytest.mark.usefixtures("permissive_umask")
def test_install_leaves_an_existing_files_mode_alone(tmp_path: Path) -> None:
    db = tmp_path / "sms-bridge.db"
    db.touch()
    db.chmod(0o640)  # an operator's choice (say, a backup group): `db check` warns instead
    store = open_store(DatabaseSettings(url=f"sqlite:///{db}"))
    try:
        store.install(datetime.now(UTC))
    finally:
        store.close()
    assert mode(db) == 0o640
