"""Outbound throughput: how fast does `sms-bridge run --once` drain a queue against slow Twilio?

    .venv/bin/python -m bench.outbound_throughput [--messages 5000] [--sequential-messages 200]
                                                  [--latency-ms 100] [--also-concurrency 100]
                                                  [--io async --io threads] [--no-bare]

Starts the sandbox as a subprocess on loopback with ``--latency-ms`` of fixed injected latency
on every API request, then, each on a fresh SQLite queue (sender mps 100,000 so metering never
caps the run):
  1. baseline    a sequential sender (``[bridge] concurrency = 1``) draining
                 ``--sequential-messages`` (fewer than the main run, to keep it short; the
                 figure is a rate, so the sizes need not match)
  2. default     the default concurrency draining ``--messages``, once per ``--io`` path
                 (``[bridge] io``: async, the default, and threads)
  3. optional    each ``--also-concurrency`` value draining ``--messages`` (each I/O path),
                 and ``--also-processes`` N worker processes (default concurrency each)
                 sharing one queue (``conc`` is then per process; CPU is summed, RSS the
                 largest)
  4. bare        the twilio library alone, no database (bench._bare_clients, a subprocess),
                 at each concurrency of 2-3: ``sync`` (create from threads, the bridge's
                 requests client), ``async`` (create_async on one event loop, the bridge's
                 aiohttp client) and ``light`` (create from threads over a minimal
                 http.client HttpClient, the other candidate): ``--messages`` creates each
The worker runs as a subprocess (``python -m bridge.cli run --once --quiet``). Wall time runs
from spawning the worker to its exit, which happens after every row is SUBMITTED; the "active"
rate excludes interpreter start-up (first claimed_at to last submitted_at, from the rows).
Prints msg/s, the speed-up over the baseline (goal >= 30x and >= 300 msg/s), the worker's CPU
(user+sys, psutil) and peak RSS, the sandbox's CPU (to show it is not the bottleneck) and the
sandbox-side request duration; then every run against the physical limit at its concurrency
(concurrency / latency: 64 in flight at 100 ms is 640 msg/s) and as a ratio of the bare
synchronous library at the same concurrency, with CPU ms per message (goal for the default
worker: >= 85 % of the limit and >= 1.3x bare sync). Figures only; bounded by --timeout per
phase.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench._outbound_support import (
    REPO,
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
    latency_ms: float, timeout: float, processes: int = 1, io: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    sandbox.reset(latency_ms)
    db = tmp / f"{label}.db"
    store = make_db(db)
    loaded = enqueue_bulk(store, messages, tag=label)
    overrides = {} if concurrency is None else {"BRIDGE_CONCURRENCY": str(concurrency)}
    if io is not None:
        overrides["BRIDGE_IO"] = io
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
        "io": io or BridgeSettings().io,
        "processes": processes,
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
    p.add_argument(
        "--io", action="append", choices=["async", "threads"], default=[],
        help="I/O paths of the concurrent runs (repeatable; default both, async first)",
    )  # fmt: skip
    p.add_argument("--no-bare", action="store_true", help="skip the bare-library runs")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per phase at most")
    p.add_argument("--dir", type=Path, default=None, help="where the SQLite files go (temp)")
    args = p.parse_args(argv)

    print(f"outbound throughput, {args.latency_ms:g} ms injected latency; {load_note()}")
    sandbox = start_sandbox()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="outbound-throughput-", dir=args.dir) as tmp:
            paths = args.io or ["async", "threads"]
            first = paths[0]
            phases: list[tuple[str, int, int | None, int, str]] = [
                ("sequential", args.sequential_messages, 1, 1, first),
                ("default", args.messages, None, 1, first),
                *((io, args.messages, None, 1, io) for io in paths[1:]),
                *(
                    (f"c{c} {io}", args.messages, c, 1, io)
                    for c in args.also_concurrency
                    for io in paths
                ),
                *((f"{n} procs", args.messages, None, n, first) for n in args.also_processes),
            ]
            for label, messages, concurrency, processes, io in phases:
                row = drain(
                    sandbox, Path(tmp), label.replace(" ", "-"), messages, concurrency,
                    args.latency_ms, args.timeout, processes, io,
                )  # fmt: skip
                row["phase"] = label
                rows.append(row)
                print(
                    f"  {label}: {messages} msgs in {row['wall_s']:.1f} s "
                    f"({row['load_before']} before, {row['load_after']} after)"
                )
        bare: dict[tuple[str, int], dict[str, float]] = {}
        levels = sorted({r["concurrency"] for r in rows if r["concurrency"] > 1})
        for concurrency in [] if args.no_bare else levels:
            for kind in BARE_KINDS:
                bare[kind, concurrency] = bare_run(
                    sandbox, kind, concurrency, args.messages, args.latency_ms, args.timeout
                )
                print(
                    f"  bare {kind} c{concurrency}: {bare[kind, concurrency]['rate']:.0f} msg/s"
                    f" ({load_note()})"
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
    print()
    print_against_limits(rows, bare, args.latency_ms)
    print(f"({load_note()})")
    return 0


BARE_KINDS = ("sync", "async", "light")


def bare_run(
    sandbox: Sandbox, kind: str, concurrency: int, messages: int, latency_ms: float,
    timeout: float,
) -> dict[str, float]:  # fmt: skip
    """The bare library (bench._bare_clients) in a process of its own, against the sandbox."""
    sandbox.reset(latency_ms)
    done = subprocess.run(
        [sys.executable, "-m", "bench._bare_clients", sandbox.url, kind, str(concurrency),
         str(messages)],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"bare {kind} exited {done.returncode}: {done.stderr[-1500:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def print_against_limits(
    rows: list[dict[str, Any]], bare: dict[tuple[str, int], dict[str, float]], latency_ms: float
) -> None:
    """Each run against concurrency / latency and the bare sync library at its concurrency."""
    print(
        f"against the physical limit (concurrency / {latency_ms:g} ms) and the bare synchronous"
        " library at the same concurrency (x bare); 'active' excludes interpreter start-up:"
    )
    print(
        f"  {'run':<16}{'conc':>5}{'msg/s':>8}{'active/s':>9}{'% limit':>8}{'act %':>7}"
        f"{'x bare':>8}{'act x':>7}{'CPU ms/msg':>11}"
    )
    limit_of = {c: c / (latency_ms / 1000) for c in {r["concurrency"] for r in rows}}
    for r in rows:
        if r["processes"] != 1:
            continue
        c = r["concurrency"]
        sync = bare.get(("sync", c))
        vs = (
            f"{r['rate'] / sync['rate']:>8.2f}{r['active_rate'] / sync['rate']:>7.2f}"
            if sync
            else f"{'-':>8}{'-':>7}"
        )
        print(
            f"  {'worker ' + r['phase']:<16}{c:>5}{r['rate']:>8.0f}{r['active_rate']:>9.0f}"
            f"{r['rate'] / limit_of[c] * 100:>7.0f}%{r['active_rate'] / limit_of[c] * 100:>6.0f}%"
            f"{vs}{r['worker_cpu_s'] / r['messages'] * 1000:>11.2f}"
        )
    for (kind, c), b in sorted(bare.items(), key=lambda item: (item[0][1], item[0][0])):
        sync = bare[("sync", c)]
        limit = c / (latency_ms / 1000)
        print(
            f"  {'bare ' + kind:<16}{c:>5}{b['rate']:>8.0f}{'':>9}{b['rate'] / limit * 100:>7.0f}%"
            f"{'':>7}{b['rate'] / sync['rate']:>8.2f}{'':>7}{b['cpu_ms']:>11.2f}"
            + (f"  ({int(b['errors'])} errors)" if b["errors"] else "")
        )
    default = next((r for r in rows if r["phase"] == "default"), None)
    sync = bare.get(("sync", default["concurrency"])) if default else None
    if default and sync:
        limit = limit_of[default["concurrency"]]
        print(
            f"goal (default worker, {default['io']}): >= 85 % of {limit:.0f} msg/s and >= 1.3x"
            f" bare sync ({sync['rate']:.0f} msg/s) -> {default['rate'] / limit * 100:.0f} %"
            f" wall / {default['active_rate'] / limit * 100:.0f} % active,"
            f" {default['rate'] / sync['rate']:.2f}x wall / "
            f"{default['active_rate'] / sync['rate']:.2f}x active"
        )


if __name__ == "__main__":
    raise SystemExit(main())
