"""Bulk enqueue: 10,000 messages per path (SQLite), against one-at-a-time in the same run.

Paths: ``Store.enqueue`` one by one (the baseline), ``Store.enqueue_many`` (what the REST batch
and the CSV import call), ``sms-bridge enqueue --csv`` as a process, and ``POST /sms/batch`` in
10 calls of 1,000 through the Falcon app in-process (the app's own cost; no socket, no
gunicorn). Prints messages per second, total seconds, CPU seconds and peak RSS. The Oracle
path (one executemany over sms_api.enqueue per 500 items) cannot run here: no Oracle.

    .venv/bin/python -m bench.bulk_enqueue [--count 10000]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import falcon.testing
import psutil

from bridge.apikeys import Scope, generate
from bridge.config import DatabaseSettings, load_settings
from bridge.domain.models import EnqueueRequest, Sender
from bridge.store import Store, open_store
from inbound.app import create_app

CLI = Path(sys.executable).with_name("sms-bridge")


def _store(path: Path) -> Store:
    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    now = datetime.now(UTC)
    store.install(now)
    store.save_sender(Sender(code="HR", from_number="+15005550006", mps=100), now)
    return store


def _requests(count: int, tag: str) -> list[EnqueueRequest]:
    return [
        EnqueueRequest(
            sender_code="HR",
            body=f"Shift {n} moved to 9:00 ({tag})",
            to_number=f"+1415{n % 10_000_000:07d}",
            source_system="BENCH",
            correlation_key=f"{tag}-{n}",
        )
        for n in range(count)
    ]


def _measure(name: str, count: int, run: Callable[[], object]) -> dict[str, float | str]:
    process = psutil.Process()
    cpu0 = process.cpu_times()
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    cpu1 = process.cpu_times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    cpu += (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    rss = process.memory_info().rss / 2**20
    print(f"  {name:<34} {count / elapsed:>9,.0f} msg/s  {elapsed:6.2f} s  cpu {cpu:6.2f} s"
          f"  rss {rss:5.0f} MiB", flush=True)  # fmt: skip
    return {"name": name, "rate": count / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    count = parser.parse_args().count
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"bulk enqueue, {count:,} messages per path, SQLite, {os.cpu_count()} cores:")

        one = _store(root / "one.db")
        now = one.now()
        results.append(
            _measure(
                "Store.enqueue one by one (base)",
                count,
                lambda: [one.enqueue(r, now) for r in _requests(count, "one")],
            )
        )
        one.close()

        many = _store(root / "many.db")
        batch = many.create_batch("REST", now)
        results.append(
            _measure(
                "Store.enqueue_many",
                count,
                lambda: many.enqueue_many(_requests(count, "many"), now, batch_id=batch),
            )
        )
        many.close()

        csv_db = root / "csv.db"
        _store(csv_db).close()
        lines = root / "in.csv"
        with lines.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["to", "body", "correlation_key"])
            for r in _requests(count, "csv"):
                writer.writerow([r.to_number, r.body, r.correlation_key])
        env = {**os.environ, "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{csv_db}"}
        args = [str(CLI), "enqueue", "--csv", str(lines), "--sender", "HR"]
        args += ["--source-system", "BENCH", "--quiet"]

        def run_csv() -> None:
            done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"bulk_enqueue: the CSV import failed: {done.stderr.strip()}")

        results.append(_measure("sms-bridge enqueue --csv (process)", count, run_csv))

        api_db = root / "api.db"
        api_store = _store(api_db)
        settings = load_settings(
            None,
            {
                "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{api_db}",
                "SMS_BRIDGE_TWILIO_AUTH_TOKEN": "bench-only",
                "SMS_BRIDGE_INBOUND_SPOOL_DIR": str(root / "spool"),
            },
        )
        generated = generate()
        api_store.create_api_key(
            "bench",
            generated.prefix,
            generated.hash,
            [Scope.SEND, Scope.READ, Scope.RAW_NUMBERS],
            now,
        )
        key = generated.key
        client = falcon.testing.TestClient(create_app(settings, api_store))
        items = [
            {"to": r.to_number, "message": r.body, "sender": "HR", "correlationKey": key_}
            for r in _requests(count, "api")
            for key_ in [r.correlation_key]
        ]

        def run_api() -> None:
            for start in range(0, count, 1000):
                result = client.simulate_post(
                    "/sms/batch",
                    json={"items": items[start : start + 1000]},
                    headers={"Authorization": f"Bearer {key}"},
                )
                if result.status_code != 202 or result.json["rejected"]:
                    raise SystemExit(f"bulk_enqueue: POST /sms/batch: {result.text[:300]}")

        results.append(_measure("POST /sms/batch x1000 (in-process)", count, run_api))
        api_store.close()
    base = float(results[0]["rate"])
    for r in results[1:]:
        print(f"  {r['name']:<34} {float(r['rate']) / base:5.1f}x the one-by-one baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
