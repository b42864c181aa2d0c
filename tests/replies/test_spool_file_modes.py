"""The spool holds webhooks (numbers and message bodies): its directory is created 0700 and
every file in it 0600, even under a permissive umask."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.replies.spool import Spool, SpoolEntry

T0 = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(directory: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in sorted(directory.iterdir())}


@pytest.mark.usefixtures("permissive_umask")
def test_spool_directory_0700_and_files_0600(tmp_path: Path) -> None:
    directory = tmp_path / "var" / "spool"
    spool = Spool(directory)
    for n in range(3):
        spool.append("inbound", {"From": [f"+1555000000{n}"], "Body": [f"body {n}"]}, T0)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700

    calls: list[str] = []

    def apply(entry: SpoolEntry) -> None:
        calls.append(entry.id)
        if len(calls) == 1:
            raise ValueError("a bug")  # -> rejected.jsonl
        if len(calls) == 3:
            raise sqlite3.OperationalError("database is locked")  # stops, progress kept

    report = spool.replay(apply, lambda exc: isinstance(exc, sqlite3.OperationalError))
    assert (report.applied, report.rejected, report.remaining) == (1, 1, 1)
    spool.append("inbound", {"From": ["+15550000009"], "Body": ["later"]}, T0)

    found = modes(directory)
    names = set(found)
    assert {"inbound.jsonl", "rejected.jsonl", "append.lock", "replay.lock"} <= names
    assert any(n.startswith("replay-") and n.endswith(".jsonl") for n in names)
    assert any(n.endswith(".done") for n in names), names
    assert {name: mode for name, mode in found.items() if mode != 0o600} == {}
