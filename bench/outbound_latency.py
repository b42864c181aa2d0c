"""Outbound latency: enqueue-to-Twilio time at a steady rate against a long-running worker.

    .venv/bin/python -m bench.outbound_latency [--rate 20] [--seconds 30] [--idle-seconds 6]

Starts the sandbox (``--latency-ms`` injected, default 0) and, per phase, a fresh SQLite queue
and ``sms-bridge run`` (forever mode) as a subprocess. The worker first idles for
``--idle-seconds`` (long enough for adaptive polling to back off to its ceiling), then this
process enqueues through ``Store.enqueue`` at ``--rate`` msg/s for ``--seconds``; at the end the
worker gets SIGTERM. Latency per message = the sandbox's creation time (``/_sandbox/messages``
history[0].at: ISO-8601 with microseconds; ``date_created`` is RFC 2822 to the second) minus
the row's created_at (the clock passed to enqueue, just before its commit). Same host, same
clock. Phases, in one run:
  1. adaptive     the default poll_min/poll_max (back-off when idle)
  2. no back-off  poll_max_seconds forced to poll_min_seconds (baseline)
Also printed: the first message after the idle period (it pays the backed-off interval), the
sandbox's own request duration (the floor), and the worker's CPU while idle (second half of
the idle period) and at the rate.
Goal to report against: p99 < 1 s on SQLite. Figures only.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench._outbound_support import (
    SENDER,
    TO,
    Sampler,
    Sandbox,
    load_note,
    make_db,
    pct,
    start_sandbox,
    start_worker,
    status_counts,
    tail,
    utcnow,
    worker_env,
)
from bridge.config import BridgeSettings
from bridge.domain.models import EnqueueRequest


def phase(
    sandbox: Sandbox, tmp: Path, label: str, args: argparse.Namespace, **overrides: str
) -> dict[str, Any]:
    sandbox.reset(args.latency_ms)
    db = tmp / f"{label}.db"
    store = make_db(db)
    env = worker_env(db, sandbox.url, **overrides)
    created: dict[str, datetime] = {}
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = start_worker(env, once=False, log=log)
        sampler = Sampler(proc.pid).start()
        try:
            time.sleep(args.idle_seconds / 2)  # start-up, then back-off
            idle_cpu0 = sampler.cpu_seconds()
            time.sleep(args.idle_seconds / 2)
            idle_cpu = sampler.cpu_seconds()
            idle_at = time.monotonic()
            count = int(args.rate * args.seconds)
            started = time.monotonic()
            for i in range(count):
                delay = started + i / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                body = f"{label} latency {i}"
                now = utcnow()
                store.enqueue(EnqueueRequest(sender_code=SENDER, body=body, to_number=TO), now)
                created[body] = now
            sent_for = time.monotonic() - started
            busy_cpu0 = sampler.cpu_seconds()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if set(status_counts(store)) == {"SUBMITTED"}:
                    break
                time.sleep(0.1)
            busy_cpu = sampler.cpu_seconds()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(30)
            except Exception:
                proc.kill()
                code = proc.wait(5)
            sampler.stop()
        if code != 0:
            raise SystemExit(f"worker exited {code}: {tail(log)}")
    counts = status_counts(store)
    store.close()
    messages = sandbox.messages()
    at_twilio = {
        m["body"]: datetime.fromisoformat(m["history"][0]["at"])
        for m in messages
        if m["body"] in created
    }
    lat = [(at_twilio[b] - created[b]).total_seconds() * 1000 for b in created if b in at_twilio]
    first = f"{label} latency 0"
    durations = [float(r["duration_ms"]) for r in sandbox.requests() if r["kind"] == "create"]
    return {
        "phase": label,
        "sent": len(created),
        "at_twilio": len(at_twilio),
        "duplicates": len(messages) - len({m["body"] for m in messages}),
        "counts": counts,
        "rate": len(created) / sent_for,
        "p50": pct(lat, 50),
        "p90": pct(lat, 90),
        "p99": pct(lat, 99),
        "max": max(lat, default=0.0),
        "first_ms": lat[0] if first in at_twilio else float("nan"),
        "over_1s": sum(1 for x in lat if x > 1000),
        "sandbox_p50": pct(durations, 50),
        "sandbox_p99": pct(durations, 99),
        "idle_cpu_pct": (idle_cpu - idle_cpu0) / (args.idle_seconds / 2) * 100,
        "busy_cpu_pct": (busy_cpu0 - idle_cpu) / max(1e-9, sent_for) * 100,
        "rss": sampler.peak_rss(),
        "drain_cpu_s": busy_cpu - busy_cpu0,
        "idle_at": idle_at,
        "load": load_note(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rate", type=float, default=20.0, help="messages per second enqueued")
    p.add_argument("--seconds", type=float, default=30.0, help="length of the steady phase")
    p.add_argument("--idle-seconds", type=float, default=6.0, help="idle time before the rate")
    p.add_argument("--latency-ms", type=float, default=0.0, help="injected Twilio latency")
    p.add_argument("--dir", type=Path, default=None, help="where the SQLite files go (temp)")
    args = p.parse_args(argv)
    defaults = BridgeSettings()
    print(
        f"outbound latency at {args.rate:g} msg/s for {args.seconds:g} s, "
        f"{args.latency_ms:g} ms injected; {load_note()}"
    )
    sandbox = start_sandbox()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="outbound-latency-", dir=args.dir) as tmp:
            rows.append(phase(sandbox, Path(tmp), "adaptive", args))
            print(f"  adaptive done ({rows[-1]['load']})")
            no_backoff = {"BRIDGE_POLL_MAX_SECONDS": str(defaults.poll_min_seconds)}
            rows.append(phase(sandbox, Path(tmp), "no-backoff", args, **no_backoff))
            print(f"  no-backoff done ({rows[-1]['load']})")
    finally:
        sandbox.stop()
    print()
    print(
        f"poll_min {defaults.poll_min_seconds:g} s, poll_max {defaults.poll_max_seconds:g} s "
        "(adaptive) / poll_max = poll_min (no-backoff); latencies in ms"
    )
    print(
        f"{'phase':<12}{'sent':>6}{'at twilio':>10}{'msg/s':>7}{'p50':>8}{'p90':>8}{'p99':>8}"
        f"{'max':>8}{'>1 s':>6}{'first':>8}{'sbx p50':>8}{'sbx p99':>8}{'idle CPU%':>10}"
        f"{'busy CPU%':>10}{'RSS MB':>8}{'dup':>5}"
    )
    for r in rows:
        print(
            f"{r['phase']:<12}{r['sent']:>6}{r['at_twilio']:>10}{r['rate']:>7.1f}{r['p50']:>8.0f}"
            f"{r['p90']:>8.0f}{r['p99']:>8.0f}{r['max']:>8.0f}{r['over_1s']:>6}"
            f"{r['first_ms']:>8.0f}{r['sandbox_p50']:>8.1f}{r['sandbox_p99']:>8.1f}"
            f"{r['idle_cpu_pct']:>10.1f}{r['busy_cpu_pct']:>10.1f}{r['rss']:>8.1f}"
            f"{r['duplicates']:>5}"
        )
    print("goal: p99 < 1000 ms on SQLite ('first' = the first message after the idle period)")
    print(f"({load_note()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
