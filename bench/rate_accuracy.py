"""Rate accuracy: do senders metered at 1, 10 and 100 segments/s send at those rates, shared by
two worker processes, and never burst past what their token bucket allows?

    .venv/bin/python -m bench.rate_accuracy [--seconds 60] [--rates 1 10 100]
                                            [--latency-ms 50] [--io async]

One SQLite file, one sender per rate (``mps`` = the rate; bodies of one GSM-7 segment, so a
send is a segment), each queued with more than it can send in the run. Two ``sms-bridge run``
processes (the service loop, not --once) share the file and the senders' buckets
(bridge/store/token_bucket.py: refilled at ``mps``, holding at most 0.9 s of it, at least one
token, the rest a margin for the spread of creates) for ``--seconds``, then are stopped with
SIGTERM. The sandbox stamps every
create when it does the work (``/_sandbox/requests``, ``at``, after ``--latency-ms`` of
injected latency); per sender, from its first create on:

  rate      creates in the ``--seconds`` after its first, / ``--seconds`` (target: within
            +-5 % of mps)
  max/1s    the most creates in any one-second window, sliding (the promise: at most a
            second's burst + a second of refill, max(1, mps) + mps = 2 x mps, in a window it
            starts full; from then on a steady state of about mps)
  steady    the same after the first two seconds, against the same allowance
  claim/1s  the most rows claimed in any one-second window (sms_outbound.claimed_at, the
            bucket's own side): the sandbox's figure adds the spread of the create latency

Figures only; nothing passes or fails on them.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import IO

from bench._outbound_support import (
    FROM,
    TO,
    load_note,
    make_db,
    open_db,
    start_sandbox,
    start_worker,
    tail,
    utcnow,
    worker_env,
)
from bridge.domain.models import EnqueueRequest, Sender
from bridge.store import Store


def sender_code(rate: float) -> str:
    return f"R{rate:g}".replace(".", "_")


def load(store: Store, rates: list[float], seconds: float) -> None:
    now = utcnow()
    for rate in rates:
        store.save_sender(Sender(code=sender_code(rate), from_number=FROM, mps=rate), now)
    with store.dialect.transaction("bench enqueue") as tx:
        for rate in rates:
            code = sender_code(rate)
            for i in range(int(rate * seconds * 1.5) + 20):  # never runs dry in the run
                request = EnqueueRequest(
                    sender_code=code, body=f"{code} message {i}", to_number=TO, priority=2
                )
                store.dialect.enqueue(tx, request, now)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most of ``times`` (sorted seconds) within any ``window``-long interval."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0, help="measured seconds per sender")
    p.add_argument("--rates", type=float, nargs="+", default=[1.0, 10.0, 100.0])
    p.add_argument("--latency-ms", type=float, default=50.0, help="fixed injected latency")
    p.add_argument("--workers", type=int, default=2, help="worker processes sharing the file")
    p.add_argument("--io", choices=["async", "threads"], default=None, help="[bridge] io")
    p.add_argument("--dir", type=Path, default=None, help="where the SQLite file goes (temp)")
    args = p.parse_args(argv)

    print(
        f"rate accuracy: senders at {', '.join(f'{r:g}' for r in args.rates)} segments/s,"
        f" {args.workers} workers, {args.seconds:g} s; {load_note()}"
    )
    sandbox = start_sandbox()
    logs: list[IO[str]] = []
    try:
        sandbox.reset(args.latency_ms)
        with tempfile.TemporaryDirectory(prefix="rate-accuracy-", dir=args.dir) as tmp:
            db = Path(tmp) / "rates.db"
            store = make_db(db)
            load(store, args.rates, args.seconds)
            store.close()
            overrides = {"BRIDGE_POLL_MAX_SECONDS": "0.2"}
            if args.io:
                overrides["BRIDGE_IO"] = args.io
            env = worker_env(db, sandbox.url, **overrides)
            procs = []
            for _ in range(args.workers):
                log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed below
                logs.append(log)
                procs.append(start_worker(env, once=False, log=log))
            # Every sender's window starts at its first create: wait for the slowest to
            # start, then for the whole window, and a second for the last answers.
            started = time.monotonic()
            time.sleep(args.seconds + 1)
            while time.monotonic() - started < args.seconds + 30:
                firsts = first_creates(sandbox.requests())
                if len(firsts) == len(args.rates) and all(
                    latest_wall(sandbox.requests()) - f >= args.seconds for f in firsts.values()
                ):
                    break
                time.sleep(1)
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc, log in zip(procs, logs, strict=True):
                if proc.wait(60) != 0:
                    raise SystemExit(f"worker exited {proc.returncode}: {tail(log)}")
            claims = claims_by_sender(db)
        created = creates_by_sender(sandbox.requests())
    finally:
        sandbox.stop()
        for log in logs:
            log.close()

    print()
    print(
        f"{'sender':<8}{'mps':>6}{'sent':>7}{'rate/s':>9}{'error':>8}{'max/1s':>8}"
        f"{'steady':>8}{'allowed':>9}{'claim/1s':>9}  verdict"
    )
    for rate in args.rates:
        times = created.get(sender_code(rate), [])
        if not times:
            print(f"{sender_code(rate):<8}{rate:>6g}  no creates")
            continue
        first = times[0]
        window = [t for t in times if t - first < args.seconds]
        achieved = len(window) / args.seconds
        error = (achieved - rate) / rate * 100
        burst = max_in_window(window)
        steady = max_in_window([t for t in window if t - first >= 2.0])
        allowed = max(1.0, rate) + rate  # the promise: a second's burst and a second of refill
        claimed = max_in_window(claims.get(sender_code(rate), []))
        verdict = ("rate ok" if abs(error) <= 5 else "rate OFF") + (
            ", bursts ok" if burst <= allowed else ", burst over the bucket at the sandbox"
        )
        if claimed > allowed:
            verdict += ", CLAIMS over the bucket"
        print(
            f"{sender_code(rate):<8}{rate:>6g}{len(window):>7}{achieved:>9.2f}{error:>+7.1f}%"
            f"{burst:>8}{steady:>8}{allowed:>9g}{claimed:>9}  {verdict}"
        )
    print(f"({load_note()})")
    return 0


def claims_by_sender(db: Path) -> dict[str, list[float]]:
    """When each sent row was claimed (the token bucket's side), per sender, sorted."""
    store = open_db(db)
    try:
        with store.dialect.transaction("bench claims", write=False) as tx:
            rows = tx.rows(
                "SELECT sender_code, claimed_at FROM sms_outbound WHERE status = 'SUBMITTED'"
            )
    finally:
        store.close()
    out: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        out[str(row["sender_code"])].append(row["claimed_at"].timestamp())
    return {code: sorted(times) for code, times in out.items()}


def _seconds(at: str) -> float:
    return datetime.fromisoformat(at).timestamp()


def creates_by_sender(requests: list[dict[str, object]]) -> dict[str, list[float]]:
    """Accepted creates' sandbox times per sender (its code leads every body), sorted."""
    out: dict[str, list[float]] = defaultdict(list)
    for r in requests:
        params = r.get("params")
        if r.get("kind") != "create" or r.get("status") != 201 or not isinstance(params, dict):
            continue
        out[str(params.get("Body", "")).split(" ", 1)[0]].append(_seconds(str(r["at"])))
    return {code: sorted(times) for code, times in out.items()}


def first_creates(requests: list[dict[str, object]]) -> dict[str, float]:
    return {code: times[0] for code, times in creates_by_sender(requests).items()}


def latest_wall(requests: list[dict[str, object]]) -> float:
    return max((_seconds(str(r["at"])) for r in requests if r.get("at")), default=0.0)


if __name__ == "__main__":
    raise SystemExit(main())
