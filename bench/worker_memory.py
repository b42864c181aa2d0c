"""Worker memory: RSS of `sms-bridge run --once` while it drains a large queue.

    .venv/bin/python -m bench.worker_memory [--messages 50000] [--idle-seconds 5]

Starts the sandbox (no injected latency) and, in one run:
  1. baseline  an idle worker (``sms-bridge run``, forever mode, empty queue) sampled for
               ``--idle-seconds``, then stopped with SIGTERM
  2. drain     ``--messages`` queued rows drained by ``sms-bridge run --once`` at the default
               concurrency
Both are subprocesses sampled with psutil every ``--interval`` seconds. Prints the peak RSS,
the "steady" RSS (median of the samples in the second half of the drain), RSS at 25/50/75/100 %
of the drain (growth shows a leak), the drain's rate and CPU, and the sandbox's RSS (it keeps
every message). Figures only; bounded by --timeout.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
from pathlib import Path

from bench._outbound_support import (
    Sampler,
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


def at_fraction(samples: list[tuple[float, float, float]], fraction: float) -> float:
    if not samples:
        return 0.0
    index = min(len(samples) - 1, int(fraction * (len(samples) - 1)))
    return samples[index][1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--messages", type=int, default=50_000, help="messages to drain")
    p.add_argument("--idle-seconds", type=float, default=5.0, help="length of the idle baseline")
    p.add_argument("--interval", type=float, default=0.2, help="sampling interval (s)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds the drain may take")
    p.add_argument("--dir", type=Path, default=None, help="where the SQLite files go (temp)")
    args = p.parse_args(argv)
    print(f"worker memory, {args.messages:,} messages; {load_note()}")
    sandbox = start_sandbox()
    try:
        sandbox.reset(0)
        with tempfile.TemporaryDirectory(prefix="worker-memory-", dir=args.dir) as tmp:
            idle_db = Path(tmp) / "idle.db"
            make_db(idle_db).close()
            with tempfile.TemporaryFile(mode="w+") as log:
                proc = start_worker(worker_env(idle_db, sandbox.url), once=False, log=log)
                idle = Sampler(proc.pid, args.interval).start()
                time.sleep(args.idle_seconds)
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(30)
                idle.stop()
                if code != 0:
                    raise SystemExit(f"idle worker exited {code}: {tail(log)}")
            db = Path(tmp) / "drain.db"
            store = make_db(db)
            loaded = enqueue_bulk(store, args.messages, tag="memory")
            print(f"  queued {args.messages:,} rows in {loaded:.1f} s ({load_note()})")
            sandbox_rss0 = sandbox.rss_mb()
            with tempfile.TemporaryFile(mode="w+") as log:
                t0 = time.monotonic()
                proc = start_worker(worker_env(db, sandbox.url), once=True, log=log)
                drain = Sampler(proc.pid, args.interval).start()
                try:
                    code = proc.wait(args.timeout)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait(5)
                    drain.stop()
                wall = time.monotonic() - t0
                if code != 0:
                    raise SystemExit(f"worker exited {code}: {tail(log)}")
            counts = status_counts(store)
            store.close()
            sandbox_rss = sandbox.rss_mb()
    finally:
        sandbox.stop()

    idle_rss = [s[1] for s in idle.samples[len(idle.samples) // 2 :]]
    drain_rss = [s[1] for s in drain.samples]
    steady = [s[1] for s in drain.samples[len(drain.samples) // 2 :]]
    print()
    print(f"RSS in MB (psutil, every {args.interval:g} s)")
    print(
        f"  baseline idle worker : {pct(idle_rss, 50):.1f} (median of the last half of "
        f"{args.idle_seconds:g} s), peak {idle.peak_rss():.1f}"
    )
    print(
        f"  draining {args.messages:,}   : peak {max(drain_rss, default=0):.1f}, steady "
        f"{pct(steady, 50):.1f} (median of the second half), "
        + ", ".join(
            f"{int(f * 100)}% {at_fraction(drain.samples, f):.1f}" for f in (0.25, 0.5, 0.75, 1)
        )
    )
    print(
        f"  drain: {wall:.1f} s, {args.messages / wall:.0f} msg/s, worker CPU "
        f"{drain.cpu_seconds():.1f} s ({drain.cpu_seconds() / wall * 100:.0f}%), "
        f"{len(drain.samples)} samples; outcome {counts}"
    )
    print(f"  sandbox RSS: {sandbox_rss0:.1f} before the drain, {sandbox_rss:.1f} after")
    print(f"({load_note()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
