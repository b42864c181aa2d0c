"""The retention job's daily run over a long purged history, with and without its indexes.

    .venv/bin/python -m bench.retention_purge [--history 200000] [--backlog 5000]

One SQLite file holds ``--history`` messages purged on earlier days, ``--backlog`` final
messages past the cut-off (today's work) and as many final messages within the retention
period (not due). The file is copied: one copy as installed (sms_outbound_purge_ix,
sms_inbound_purge_ix), one with those indexes dropped (the baseline: the layout before them,
where each run walked the primary key through every row it had purged before). On each copy
the dry run, then the real run: seconds and CPU seconds of each, rows purged, and the speed-up
of the indexed copy. Timings are printed, never asserted; Oracle cannot run here (its plan is
the same idea: a range scan of the unpurged entries instead of the whole history).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bridge.config import DatabaseSettings
from bridge.domain.models import Sender
from bridge.store import Store, open_store

INDEXES = ("sms_outbound_purge_ix", "sms_inbound_purge_ix")
CHUNK = 10_000  # rows per insert transaction while building the file

INSERT = """
INSERT INTO sms_outbound (sender_code, to_number, body, priority, status, next_attempt_at,
                          attempts, created_at, updated_at, submitted_at, final_at, purged_at)
VALUES ('BENCH', :to_number, :body, 2, 'DELIVERED', :at, 1, :at, :at, :at, :at, :purged_at)
"""


def build(path: Path, history: int, backlog: int, now: datetime) -> None:
    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    try:
        store.install(now)
        store.save_sender(Sender(code="BENCH", from_number="+15005550006"), now)
        old, recent = now - timedelta(days=200), now - timedelta(days=10)
        groups: list[tuple[int, datetime, datetime | None, str]] = [
            (history, old, now - timedelta(days=100), "[purged]"),
            (backlog, now - timedelta(days=95), None, "Your shift starts at 7"),
            (backlog, recent, None, "Your shift starts at 8"),
        ]
        for count, at, purged_at, body in groups:
            for start in range(0, count, CHUNK):
                rows = [
                    {
                        "to_number": f"+1415{(start + i) % 10_000_000:07d}",
                        "body": body,
                        "at": at,
                        "purged_at": purged_at,
                    }
                    for i in range(min(CHUNK, count - start))
                ]
                with store.dialect.transaction("bench") as tx:
                    tx.executemany(INSERT, rows)
    finally:
        store.close()


def timed(job: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = job()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run(path: Path, now: datetime, cutoff: datetime) -> dict[str, float]:
    store: Store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    try:

        def purge(dry_run: bool) -> int:
            result = store.purge(
                now, outbound_before=cutoff, inbound_before=cutoff, dry_run=dry_run
            )
            return result.messages

        dry, dry_s, dry_cpu = timed(lambda: purge(True))
        done, run_s, run_cpu = timed(lambda: purge(False))
        again, again_s, _ = timed(lambda: purge(False))  # tomorrow with nothing new
    finally:
        store.close()
    return {
        "dry": dry,
        "dry_s": dry_s,
        "dry_cpu": dry_cpu,
        "purged": done,
        "run_s": run_s,
        "run_cpu": run_cpu,
        "again": again,
        "again_s": again_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=200_000, help="rows purged before")
    parser.add_argument("--backlog", type=int, default=5_000, help="rows due today")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    cutoff = now - timedelta(days=90)
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as tmp:
        indexed = Path(tmp) / "indexed.db"
        print(f"building {args.history:,} purged + {2 * args.backlog:,} final rows ...", flush=True)
        _, build_s, _ = timed(lambda: build(indexed, args.history, args.backlog, now))
        print(f"built in {build_s:.1f} s", flush=True)
        baseline = Path(tmp) / "baseline.db"
        shutil.copyfile(indexed, baseline)
        with sqlite3.connect(baseline) as conn:
            for name in INDEXES:
                conn.execute(f"DROP INDEX {name}")
        figures = {"baseline (no purge index)": run(baseline, now, cutoff)}
        figures["indexed (this version)"] = run(indexed, now, cutoff)
    print()
    print(
        f"{'layout':<27} {'dry run s':>9} {'CPU s':>6} {'purged':>7} {'run s':>7} {'CPU s':>6}"
        f" {'next day s':>10}"
    )
    for name, f in figures.items():
        print(
            f"{name:<27} {f['dry_s']:>9.3f} {f['dry_cpu']:>6.3f} {int(f['purged']):>7,}"
            f" {f['run_s']:>7.3f} {f['run_cpu']:>6.3f} {f['again_s']:>10.4f}"
        )
    base, new = figures["baseline (no purge index)"], figures["indexed (this version)"]
    if base["purged"] != new["purged"] or new["purged"] != args.backlog:
        print(f"MISMATCH: purged {base['purged']} vs {new['purged']}, expected {args.backlog}")
    print(
        f"speed-up: dry run {base['dry_s'] / new['dry_s']:.1f}x, run"
        f" {base['run_s'] / new['run_s']:.1f}x, next day with nothing due"
        f" {base['again_s'] / new['again_s']:.1f}x"
    )


if __name__ == "__main__":
    main()
