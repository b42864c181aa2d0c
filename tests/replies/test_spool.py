"""The durable spool: order, fsync'd appends, duplicates, resuming, rejects, concurrency."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bridge.replies.spool import Spool, SpoolEntry

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def form(n: int) -> dict[str, list[str]]:
    return {"MessageSid": [f"SM{n}"], "Body": [f"body {n}"], "Blank": [""]}


def down(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError)


def test_replay_in_order_and_empties_the_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for n in range(5):
        spool.append("inbound", form(n), T0, query={"id": str(n)})
    assert spool.pending() == 5
    seen: list[SpoolEntry] = []
    report = spool.replay(seen.append, down)
    assert [e.form["MessageSid"] for e in seen] == [[f"SM{n}"] for n in range(5)]
    assert seen[0].form["Blank"] == [""] and seen[0].query == {"id": "0"}
    assert seen[0].received_at == T0
    assert (report.applied, report.remaining) == (5, 0)
    assert spool.pending() == 0 and not list(tmp_path.glob("*.jsonl"))


def test_duplicates_are_ignored(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for n in (1, 2, 1, 1):
        spool.append("inbound", form(n), T0)
    seen: list[str] = []
    report = spool.replay(lambda e: seen.append(e.form["MessageSid"][0]), down)
    assert seen == ["SM1", "SM2"] and report.duplicates == 2


def test_database_down_again_keeps_the_rest_and_resumes(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for n in range(4):
        spool.append("inbound", form(n), T0)
    applied: list[str] = []
    outage = [True]

    def flaky(entry: SpoolEntry) -> None:
        if entry.form["MessageSid"] == ["SM2"] and outage:
            outage.clear()  # the database is down once, when SM2 comes
            raise sqlite3.OperationalError("database is locked")
        applied.append(entry.form["MessageSid"][0])

    first = spool.replay(flaky, down)
    assert (first.applied, first.remaining) == (2, 2)
    spool.append("inbound", form(9), T0)  # arrives while the replay is pending
    second = spool.replay(flaky, down)
    assert applied == ["SM0", "SM1", "SM2", "SM3", "SM9"]  # nothing twice, order kept
    assert (second.applied, second.remaining) == (3, 0) and spool.pending() == 0


def test_bad_entries_are_rejected_not_lost(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append("inbound", form(1), T0)
    with (tmp_path / "inbound.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"id": "torn", "kind": "inb')  # a crash in the middle of a write
    spool.append("inbound", form(2), T0)

    def apply(entry: SpoolEntry) -> None:
        if entry.form["MessageSid"] == ["SM1"]:
            raise ValueError("a bug")

    report = spool.replay(apply, down)
    assert (report.applied, report.rejected) == (1, 2)
    rejected = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert {r["reason"].split(":")[0] for r in rejected} == {"ValueError", "unreadable spool line"}
    assert spool.pending() == 0


def _append_many(directory: str, worker: int) -> None:
    spool = Spool(directory)
    for n in range(50):
        spool.append("inbound", {"MessageSid": [f"SM{worker}-{n}"], "Body": ["x" * 500]}, T0)


def test_concurrent_appends_from_processes_stay_whole_lines(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    seen: list[str] = []
    report = Spool(tmp_path).replay(lambda e: seen.append(e.form["MessageSid"][0]), down)
    assert report.rejected == 0 and len(seen) == 150 and len(set(seen)) == 150
    for w in range(3):  # each process's own entries keep their order
        mine = [s for s in seen if s.startswith(f"SM{w}-")]
        assert mine == [f"SM{w}-{n}" for n in range(50)]
