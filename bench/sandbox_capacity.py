"""Sandbox capacity: is the local Twilio stand-in ever the bottleneck?

    .venv/bin/python -m bench.sandbox_capacity [--seconds 5] [--processes 2] [--threads 8]

Starts the sandbox as a subprocess on loopback, then measures, in one run:
  1. baseline   GET IncomingPhoneNumbers.json (auth + JSON, no state change)
  2. creates    POST Messages.json, no latency injected (target: >= 1,000/s)
  3. in flight  POST Messages.json with a fixed injected latency and many concurrent clients;
                the sandbox's own gauge reports how many requests it held at once (target: >= 64)
Load comes from processes x threads, each with its own keep-alive connection, bounded in time
and count. Prints throughput, latency p50/p95/p99, and the sandbox's CPU and RSS. Figures only:
nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench._util import LoadResult, ProcessMeter, Request, run_load

REPO = Path(__file__).resolve().parents[1]
ACCOUNT = "AC" + "b" * 32
TOKEN = "bench-token"
FROM = "+15005550006"


def start_sandbox(threads: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--threads", str(threads),
         "--account-sid", ACCOUNT, "--auth-token", TOKEN, "--number", FROM],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.match(r"sandbox ready at (\S+)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"sandbox did not start: {line!r}")
    return proc, match.group(1)


def control(url: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url + path, data=data), timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def measure(
    name: str, url: str, request: Request, meter: ProcessMeter, args: argparse.Namespace,
    processes: int, threads: int, faults: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    control(url, "/_sandbox/reset", {})  # empties the sandbox and restores its start-up faults
    if faults:
        control(url, "/_sandbox/faults", faults)
    cpu0, t0 = meter.cpu_seconds(), time.monotonic()
    result: LoadResult = run_load(
        url, request, processes=processes, threads=threads,
        seconds=args.seconds, max_requests=args.max_requests,
    )  # fmt: skip
    cpu = (meter.cpu_seconds() - cpu0) / (time.monotonic() - t0) * 100
    health = control(url, "/_sandbox/health")
    return {
        "phase": name,
        "clients": processes * threads,
        "requests": result.requests,
        "errors": result.errors,
        "throughput": round(result.throughput, 1),
        "p50_ms": round(result.p(50), 2),
        "p95_ms": round(result.p(95), 2),
        "p99_ms": round(result.p(99), 2),
        "max_in_flight": health["max_in_flight"],
        "sandbox_cpu_pct": round(cpu, 1),
        "sandbox_rss_mb": round(meter.rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    p.add_argument("--max-requests", type=int, default=50_000, help="cap per phase")
    p.add_argument("--processes", type=int, default=2, help="load processes")
    p.add_argument("--threads", type=int, default=8, help="connections per load process")
    p.add_argument("--latency-ms", type=float, default=250.0, help="latency of phase 3")
    p.add_argument("--inflight-clients", type=int, default=96, help="clients in phase 3")
    p.add_argument("--sandbox-threads", type=int, default=256, help="sandbox --threads")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(argv)

    proc, url = start_sandbox(args.sandbox_threads)
    try:
        meter = ProcessMeter(proc.pid)
        auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
        root = f"/2010-04-01/Accounts/{ACCOUNT}"
        baseline = Request("GET", f"{root}/IncomingPhoneNumbers.json", b"", {"Authorization": auth})
        body = urlencode({"To": "+15558675310", "From": FROM, "Body": "Capacity check"}).encode()
        create = Request(
            "POST", f"{root}/Messages.json", body,
            {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        rows = [
            measure("baseline GET numbers", url, baseline, meter, args,
                    args.processes, args.threads),
            measure("create, no latency", url, create, meter, args, args.processes, args.threads),
        ]  # fmt: skip
        per_process = max(1, args.inflight_clients // args.processes)
        rows.append(
            measure(f"create, {args.latency_ms:g} ms latency", url, create, meter, args,
                    args.processes, per_process, {"latency_ms": args.latency_ms})
        )  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(15)
        if proc.stdout is not None:
            proc.stdout.close()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"sandbox capacity ({os.cpu_count()} CPUs, {args.seconds:g} s per phase, loopback)")
    header = (
        f"{'phase':<28}{'clients':>8}{'requests':>9}{'errors':>7}{'req/s':>9}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'in-flight':>10}{'CPU %':>7}{'RSS MB':>8}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['phase']:<28}{r['clients']:>8}{r['requests']:>9}{r['errors']:>7}"
            f"{r['throughput']:>9.0f}{r['p50_ms']:>8.2f}{r['p95_ms']:>8.2f}{r['p99_ms']:>8.2f}"
            f"{r['max_in_flight']:>10}{r['sandbox_cpu_pct']:>7.0f}{r['sandbox_rss_mb']:>8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
