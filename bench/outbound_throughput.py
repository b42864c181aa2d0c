"""Outbound throughput: how fast does `sms-bridge run --once` drain a queue against slow Twilio?

    .venv/bin/python -m bench.outbound_throughput [--messages 5000] [--sequential-messages 200]
                                                  [--latency-ms 100] [--also-concurrency 64]

Starts the sandbox as a subprocess on loopback with ``--latency-ms`` of fixed injected latency
on every API request, then, each on a fresh SQLite queue (sender mps 100,000 so metering never
caps the run):
  1. baseline    a sequential sender (``[bridge] concurrency = 1``) draining
                 ``--sequential-messages`` (fewer than the main run, to keep it short; the
                 figure is a rate, so the sizes need not match)
  2. default     the default concurrency draining ``--messages``
  3. optional    each ``--also-concurrency`` value draining ``--messages``, and
                 ``--also-processes`` N worker processes (default concurrency each) sharing
                 one queue (``conc`` is then per process; CPU is summed, RSS the largest)
The worker runs as a subprocess (``python -m bridge.cli run --once --quiet``). Wall time runs
from spawning the worker to its exit, which happens after every row is SUBMITTED; the "active"
rate excludes interpreter start-up (first claimed_at to last submitted_at, from the rows).
Prints msg/s, the speed-up over the baseline (goal >= 30x and >= 300 msg/s), the worker's CPU
(user+sys, psutil) and peak RSS, the sandbox's CPU (to show it is not the bottleneck) and the
sandbox-side request duration. Figures only; bounded by --timeout per phase.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench._outbound_support import (
    Sampler,
    Sandbox,
    enqueue_bulk,
    load_note,
    make_db,
    pct,
    start_sandbox,
    start_worker,
    status_counts,
    tail,
    worker_env,
)
from bridge.config import BridgeSettings


def drain(
    sandbox: Sandbox, tmp: Path, label: str, messages: int, concurrency: int | None,
    latency_ms: float, timeout: float, processes: int = 1,
) -> dict[str, Any]:  # fmt: skip
    sandbox.reset(latency_ms)
    db = tmp / f"{label}.db"
    store = make_db(db)
    loaded = enqueue_bulk(store, messages, tag=label)
    overrides = {} if concurrency is None else {"BRIDGE_CONCURRENCY": str(concurrency)}
    env = worker_env(db, sandbox.url, **overrides)
    load_before = load_note()
    with tempfile.TemporaryFile(mode="w+") as log:
        sb_cpu0 = sandbox.cpu_seconds()
        t0 = time.monotonic()
        procs = [start_worker(env, once=True, log=log) for _ in range(processes)]
        samplers = [Sampler(proc.pid).start() for proc in procs]
        try:
            codes = [proc.wait(timeout) for proc in procs]
        except Exception:
            for proc in procs:
                proc.kill()
                proc.wait(5)
            raise
        wall = time.monotonic() - t0
        for sampler in samplers:
            sampler.stop()
        sb_cpu = sandbox.cpu_seconds() - sb_cpu0
        if any(codes):
            raise SystemExit(f"worker exited {codes}: {tail(log)}")
    counts = status_counts(store)
    with store.dialect.transaction("bench span", write=False) as tx:
        span = tx.row(
            "SELECT MIN(claimed_at) AS claimed_at, MAX(submitted_at) AS submitted_at"
            " FROM sms_outbound"
        )
        batches = tx.row(
            "SELECT COUNT(DISTINCT CASE WHEN status = 'SENDING' THEN event_at END) AS claims,"
            " COUNT(DISTINCT CASE WHEN status = 'SUBMITTED' THEN event_at END) AS submits"
            " FROM sms_events"
        )
    store.close()
    assert span is not None and batches is not None
    active = (span["submitted_at"] - span["claimed_at"]).total_seconds()
    created = [r for r in sandbox.requests() if r["kind"] == "create"]
    per_body = Counter(r["params"].get("Body") for r in created)
    durations = [float(r["duration_ms"]) for r in created]
    return {
        "phase": label,
        "concurrency": concurrency or BridgeSettings().concurrency,
        "messages": messages,
        "submitted": counts.get("SUBMITTED", 0),
        "other": {k: v for k, v in counts.items() if k != "SUBMITTED"},
        "duplicates": sum(n - 1 for n in per_body.values() if n > 1),
        "enqueue_s": loaded,
        "wall_s": wall,
        "rate": messages / wall,
        "active_s": active,
        "active_rate": messages / active if active > 0 else 0.0,
        "worker_cpu_s": sum(x.cpu_seconds() for x in samplers),
        "worker_cpu_pct": sum(x.cpu_seconds() for x in samplers) / wall * 100,
        "worker_peak_rss": max(x.peak_rss() for x in samplers),
        "main_thread_cpu_s": sum(x.main_thread_cpu for x in samplers),
        "claims": int(batches["claims"]),
        "submit_batches": int(batches["submits"]),
        "sandbox_cpu_pct": sb_cpu / wall * 100,
        "sandbox_p50": pct(durations, 50),
        "sandbox_p99": pct(durations, 99),
        "load_before": load_before,
        "load_after": load_note(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--messages", type=int, default=5_000, help="messages in the concurrent runs")
    p.add_argument(
        "--sequential-messages", type=int, default=200, help="messages in the concurrency-1 run"
    )
    p.add_argument("--latency-ms", type=float, default=100.0, help="fixed injected latency")
    p.add_argument(
        "--also-concurrency", type=int, action="append", default=[],
        help="extra runs at this concurrency (repeatable)",
    )  # fmt: skip
    p.add_argument(
        "--also-processes", type=int, action="append", default=[],
        help="extra runs with this many worker processes at the default concurrency (repeatable)",
    )  # fmt: skip
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per phase at most")
    p.add_argument("--dir", type=Path, default=None, help="where the SQLite files go (temp)")
    args = p.parse_args(argv)

    print(f"outbound throughput, {args.latency_ms:g} ms injected latency; {load_note()}")
    sandbox = start_sandbox()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="outbound-throughput-", dir=args.dir) as tmp:
            phases: list[tuple[str, int, int | None, int]] = [
                ("sequential", args.sequential_messages, 1, 1),
                ("default", args.messages, None, 1),
                *((f"c{c}", args.messages, c, 1) for c in args.also_concurrency),
                *((f"{n} procs", args.messages, None, n) for n in args.also_processes),
            ]
            for label, messages, concurrency, processes in phases:
                row = drain(
                    sandbox, Path(tmp), label.replace(" ", "-"), messages, concurrency,
                    args.latency_ms, args.timeout, processes,
                )  # fmt: skip
                row["phase"] = label
                rows.append(row)
                print(
                    f"  {label}: {messages} msgs in {row['wall_s']:.1f} s "
                    f"({row['load_before']} before, {row['load_after']} after)"
                )
    finally:
        sandbox.stop()

    print()
    head = (
        f"{'phase':<11}{'conc':>5}{'msgs':>6}{'wall s':>8}{'msg/s':>8}{'active/s':>9}"
        f"{'x base':>8}{'wkr CPU%':>9}{'wkr CPUs':>9}{'wkr RSS':>8}{'sbx CPU%':>9}"
        f"{'sbx p50':>8}{'sbx p99':>8}{'dup':>5}  outcome"
    )
    print(head)
    base = rows[0]["rate"]
    base_active = rows[0]["active_rate"]
    for r in rows:
        outcome = f"{r['submitted']} SUBMITTED" + "".join(
            f", {n} {s}" for s, n in sorted(r["other"].items())
        )
        print(
            f"{r['phase']:<11}{r['concurrency']:>5}{r['messages']:>6}{r['wall_s']:>8.2f}"
            f"{r['rate']:>8.1f}{r['active_rate']:>9.1f}{r['rate'] / base:>8.1f}"
            f"{r['worker_cpu_pct']:>9.0f}{r['worker_cpu_s']:>9.2f}{r['worker_peak_rss']:>8.1f}"
            f"{r['sandbox_cpu_pct']:>9.0f}{r['sandbox_p50']:>8.1f}{r['sandbox_p99']:>8.1f}"
            f"{r['duplicates']:>5}  {outcome}"
        )
    print()
    print("where the worker's CPU goes (claims and submit batches counted from sms_events):")
    for r in rows:
        print(
            f"  {r['phase']:<11} main thread {r['main_thread_cpu_s']:.2f} s of"
            f" {r['worker_cpu_s']:.2f} s CPU; {r['claims']} claim transactions"
            f" ({r['messages'] / max(1, r['claims']):.1f} rows each),"
            f" {r['submit_batches']} SUBMITTED batches"
            f" ({r['messages'] / max(1, r['submit_batches']):.1f} rows each)"
        )
    d = rows[1]
    print(
        f"default vs sequential: {d['rate'] / base:.1f}x wall"
        f" ({d['active_rate'] / base_active:.1f}x active); goal >= 30x and >= 300 msg/s"
        f" -> {d['rate']:.0f} msg/s wall,"
        f" {d['active_rate']:.0f} msg/s active"
    )
    per_msg_ms = d["worker_cpu_s"] / d["messages"] * 1000
    print(
        f"worker CPU per message (default run, incl. start-up): {per_msg_ms:.2f} ms; "
        f"ceiling at 100% of one core ~ {1000 / per_msg_ms:.0f} msg/s"
    )
    print(f"({load_note()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
