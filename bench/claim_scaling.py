"""Claim scaling: does claiming cost grow with the history of final rows?

    .venv/bin/python -m bench.claim_scaling [--small 10000] [--large 1000000] [--repeats 300]

Builds two SQLite queues that differ only in history: ``--small`` and ``--large`` final rows
(mostly DELIVERED, also UNDELIVERED/FAILED/SUPPRESSED/INVALID, all of the benchmark's sender, all
with next_attempt_at in the past) written directly with one INSERT ... SELECT over a recursive
CTE, plus the same ready set queued through the real enqueue path: ``--ready`` QUEUED rows due
now and ``--deferred`` QUEUED rows due in an hour. Then, on each, times ``Store.claim_batch`` of
``--batch`` rows (metered, as the worker calls it) ``--repeats`` times, putting the claimed rows
back to QUEUED between claims (untimed) so the ready set stays the same, and the idle probes
``Store.any_ready`` / ``Store.ready_senders``. A third queue (``--backlog``) has the small
history but a large ready set, to show what the claim's cost does depend on. Prints p50/p99 per
size, the large/small ratio (goal < 1.5, design §3), and EXPLAIN QUERY PLAN of every statement
a claim and the probes issue (captured from the connection, with their real bound values).
Figures only.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil

from bench._outbound_support import (
    SENDER,
    TO,
    enqueue_bulk,
    load_note,
    make_db,
    pct,
    utcnow,
)
from bridge.domain import segments
from bridge.store import Store

HISTORY_SQL = """
INSERT INTO sms_outbound (sender_code, to_number, body, priority, status, status_reason,
                          next_attempt_at, attempts, provider_sid, provider_status,
                          num_segments, encoding, created_at, updated_at, submitted_at, final_at)
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < :rows),
     t(n, ts) AS (
        SELECT n, strftime('%Y-%m-%dT%H:%M:%S', :epoch + n * :step, 'unixepoch')
                  || '.000000+00:00'
          FROM c)
SELECT :sender, :to, 'history message ' || n, 1 + n % 3,
       CASE n % 20 WHEN 0 THEN 'UNDELIVERED' WHEN 1 THEN 'FAILED' WHEN 2 THEN 'SUPPRESSED'
                   WHEN 3 THEN 'INVALID' ELSE 'DELIVERED' END,
       NULL, ts, 1, 'SM' || printf('%032x', n), 'delivered', 1, 'GSM-7', ts, ts, ts, ts
  FROM t
"""

RESET_SQL = """
UPDATE sms_outbound
   SET status = 'QUEUED', attempts = 0, claimed_by = NULL, claimed_at = NULL, lease_until = NULL
 WHERE status = 'SENDING'
"""


def build(path: Path, history: int, ready: int, deferred: int) -> tuple[Store, float]:
    store = make_db(path)
    started = time.perf_counter()
    conn: sqlite3.Connection = store.dialect._connection()  # type: ignore[attr-defined]
    conn.execute("BEGIN IMMEDIATE")
    # History spread over the year before the benchmark's clock, one row every `step` seconds.
    step = max(1, 365 * 86400 // max(1, history))
    epoch = int(utcnow().timestamp()) - 366 * 86400
    conn.execute(
        HISTORY_SQL,
        {"rows": history, "epoch": epoch, "step": step, "sender": SENDER, "to": TO},
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")  # as `sms-bridge db install` leaves it: no stale statistics either way
    enqueue_bulk(store, ready, tag="ready")
    if deferred:
        later = utcnow() + timedelta(hours=1)
        enqueue_bulk(store, deferred, tag="deferred")
        with store.dialect.transaction("bench defer") as tx:
            tx.execute(
                "UPDATE sms_outbound SET next_attempt_at = :later"
                " WHERE status = 'QUEUED' AND body LIKE 'deferred%'",
                {"later": later},
            )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # both sizes start from a clean WAL
    return store, time.perf_counter() - started


def put_back(store: Store) -> None:
    with store.dialect.transaction("bench reset") as tx:
        tx.execute(RESET_SQL)


def measure(store: Store, repeats: int, batch: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"claim": [], "any_ready": [], "ready_senders": []}

    def claim() -> int:
        return len(
            store.claim_batch(
                SENDER, batch, utcnow(), lease_seconds=120, worker="bench",
                segments_of=lambda body: segments.count(body).segments,
            )
        )  # fmt: skip

    for _ in range(5):  # warm the page cache and the statement cache
        claim()
        put_back(store)
    for _ in range(repeats):
        t0 = time.perf_counter()
        got = claim()
        timings["claim"].append((time.perf_counter() - t0) * 1000)
        assert got == batch, f"claimed {got}, expected {batch}"
        put_back(store)
        t0 = time.perf_counter()
        store.any_ready(utcnow())
        timings["any_ready"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        store.ready_senders(utcnow())
        timings["ready_senders"].append((time.perf_counter() - t0) * 1000)
    return timings


def plans(store: Store, batch: int) -> list[tuple[str, list[str]]]:
    """EXPLAIN QUERY PLAN of each statement one claim and the two probes run."""
    conn: sqlite3.Connection = store.dialect._connection()  # type: ignore[attr-defined]
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        store.any_ready(utcnow())
        store.ready_senders(utcnow())
        store.claim_batch(
            SENDER, batch, utcnow(), lease_seconds=120, worker="bench",
            segments_of=lambda body: segments.count(body).segments,
        )  # fmt: skip
    finally:
        conn.set_trace_callback(None)
    put_back(store)
    out: list[tuple[str, list[str]]] = []
    done: set[str] = set()
    for sql in seen:
        head = sql.strip().split(None, 1)[0].upper()
        if head not in {"SELECT", "UPDATE", "INSERT"}:
            continue
        if " IN (" in sql:  # the re-read by primary key: two ids show the plan
            before, ids = sql.split(" IN (", 1)
            sql = before + " IN (" + ",".join(ids.split(",")[:2]).rstrip(")") + ")"
        text = " ".join(sql.split())
        key = re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", text)  # one entry per statement shape
        if key in done:
            continue
        done.add(key)
        rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        out.append((text[:150], [str(r[3]) for r in rows] or ["(no table access to plan)"]))
    return out


def summary(name: str, timings: dict[str, list[float]]) -> dict[str, Any]:
    return {
        "history": name,
        **{f"{k}_p50": pct(v, 50) for k, v in timings.items()},
        **{f"{k}_p99": pct(v, 99) for k, v in timings.items()},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--small", type=int, default=10_000, help="final rows in the small history")
    p.add_argument("--large", type=int, default=1_000_000, help="final rows in the large history")
    p.add_argument("--ready", type=int, default=2_000, help="QUEUED rows due now (both sizes)")
    p.add_argument(
        "--backlog", type=int, default=50_000,
        help="a third queue: the small history with this many ready rows (0 = skip)",
    )  # fmt: skip
    p.add_argument("--deferred", type=int, default=1_000, help="QUEUED rows due in an hour")
    p.add_argument("--batch", type=int, default=100, help="rows per claim")
    p.add_argument("--repeats", type=int, default=300, help="timed claims per size")
    p.add_argument("--dir", type=Path, default=None, help="where the SQLite files go (temp)")
    args = p.parse_args(argv)
    me = psutil.Process()

    with tempfile.TemporaryDirectory(prefix="claim-scaling-", dir=args.dir) as tmp:
        results = []
        plan_sets = {}
        print(f"claim scaling on SQLite; {load_note()}")
        configs = [("small", args.small, args.ready), ("large", args.large, args.ready)]
        if args.backlog:
            configs.append(("backlog", args.small, args.backlog))
        for label, history, ready in configs:
            path = Path(tmp) / f"{label}.db"
            cpu0 = sum(me.cpu_times()[:2])
            store, built = build(path, history, ready, args.deferred)
            size_mb = sum(f.stat().st_size for f in Path(tmp).glob(f"{label}.db*")) / 2**20
            print(
                f"  built {label}: {history:,} history + {ready:,} ready + "
                f"{args.deferred:,} deferred rows in {built:.1f} s ({size_mb:.0f} MB)"
            )
            t0 = time.perf_counter()
            cpu1 = sum(me.cpu_times()[:2])
            timings = measure(store, args.repeats, args.batch)
            wall = time.perf_counter() - t0
            cpu = sum(me.cpu_times()[:2]) - cpu1
            row = summary(f"{label} {history:,}/{ready:,}", timings)
            row["cpu_pct"] = cpu / wall * 100
            row["build_cpu_s"] = cpu1 - cpu0
            results.append(row)
            plan_sets[label] = plans(store, args.batch)
            store.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    print()
    print(f"{args.repeats} timed claims of {args.batch} rows per size (ms; CPU = this process)")
    cols = ("claim", "any_ready", "ready_senders")
    head = f"{'config history/ready':>26}"
    head += "".join(f"{c + ' p50':>18}{c + ' p99':>18}" for c in cols)
    print(head + f"{'CPU %':>8}")
    for r in results:
        line = f"{r['history']:>26}" + "".join(
            f"{r[c + '_p50']:>18.3f}{r[c + '_p99']:>18.3f}" for c in cols
        )
        print(line + f"{r['cpu_pct']:>8.0f}")
    small, large = results[:2]
    for other, name in ((large, "large/small"), *((r, "backlog/small") for r in results[2:])):
        for c in cols:
            print(
                f"ratio {name} {c:<14} p50 {other[c + '_p50'] / small[c + '_p50']:.2f}"
                f"   p99 {other[c + '_p99'] / small[c + '_p99']:.2f}"
            )
    print(f"({load_note()})")
    print()
    print("EXPLAIN QUERY PLAN (large history):")
    for sql, plan in plan_sets["large"]:
        print(f"  {sql}")
        for step in plan:
            print(f"      -> {step}")
    if [p for _, p in plan_sets["large"]] != [p for _, p in plan_sets["small"]]:
        print("NOTE: the small history's plans differ:")
        for sql, plan in plan_sets["small"]:
            print(f"  {sql}\n      -> " + "\n      -> ".join(plan))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
