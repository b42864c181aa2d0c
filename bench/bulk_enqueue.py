"""Bulk enqueue: 10,000 messages through each path (SQLite), against one-at-a-time, one run.

    .venv/bin/python -m bench.bulk_enqueue [--count 10000] [--quick]

Paths, each on a fresh SQLite file, every message with its own correlation key:

- ``POST /sms/batch``, 10 calls of 1,000, against a real gunicorn (deploy/gunicorn.conf.py,
  2 gthread workers, one keep-alive connection); its baseline is ``POST /sms`` one message a
  call on another gunicorn (``--quick``: 1/10 of the calls, extrapolated, and said so);
- ``sms-bridge enqueue --csv`` of a 10,000-line file, as a process (start-up included);
- ``Store.enqueue_many`` in-process (10 calls of 1,000, what both of the above call); its
  baseline is ``Store.enqueue`` one message a call.

Prints for each: messages/s, total seconds, p50/p95 per call (where there are calls), CPU
seconds of every process doing the work (gunicorn's arbiter and workers plus this client; the
CLI process; this process), peak RSS of that process (tree), sampled every 20 ms, and the
speed-up against its one-at-a-time baseline. The Oracle path (one executemany per 500 items
over an anonymous block calling sms_api.enqueue) cannot run here: no Oracle.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench._util import ProcessMeter, percentile
from bridge.apikeys import Scope, generate
from bridge.cli.progress import ProgressLine
from bridge.config import DatabaseSettings
from bridge.domain.batches import MAX_REST_ITEMS
from bridge.domain.models import EnqueueRequest, Sender
from bridge.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
SENDER_NUMBER = "+15005550006"


class BenchError(RuntimeError):
    """A path that did not queue what it was given (printed as one line)."""


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    cpu: float
    rss_mb: float
    calls_ms: list[float] = field(default_factory=list)
    baseline: str | None = None  # the name of the one-at-a-time path it is compared with
    note: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def _store(path: Path) -> Store:
    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    now = datetime.now(UTC)
    store.install(now)
    store.save_sender(Sender(code="HR", from_number=SENDER_NUMBER, mps=100), now)
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


def _items(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {"to": r.to_number, "message": r.body, "sender": "HR", "correlationKey": r.correlation_key}
        for r in _requests(count, tag)
    ]


def _rows(path: Path) -> int:
    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    try:
        with store.dialect.transaction("count", write=False) as tx:
            return int(tx.scalar("SELECT COUNT(*) AS n FROM sms_outbound"))
    finally:
        store.close()


class PeakRss:
    """Samples the RSS of a process tree every 20 ms in a thread; ``peak`` in MiB."""

    def __init__(self, sample: Callable[[], float]) -> None:
        self.sample = sample
        self.peak = sample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            # A process of the tree may end between listing and reading.
            with suppress(psutil.Error):
                self.peak = max(self.peak, self.sample())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _own_cpu() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def _own_rss() -> float:
    return float(psutil.Process().memory_info().rss / 2**20)


def _progress(name: str) -> ProgressLine:
    return ProgressLine(sys.stderr, prefix=f"  .. {name}: ", interval=2.0)


# -- in-process ---------------------------------------------------------------------------


def run_store_one(root: Path, count: int) -> Result:
    store = _store(root / "store-one.db")
    requests = _requests(count, "one")
    now = store.now()
    calls: list[float] = []
    progress = _progress("Store.enqueue")
    cpu0 = _own_cpu()
    with PeakRss(_own_rss) as rss:
        started = time.perf_counter()
        for n, request in enumerate(requests, 1):
            t = time.perf_counter()
            store.enqueue(request, now)
            calls.append((time.perf_counter() - t) * 1000)
            if n % 500 == 0:
                progress(f"{n:,}/{count:,}")
        seconds = time.perf_counter() - started
    progress(f"{count:,}/{count:,}\n")
    store.close()
    return Result("Store.enqueue, 1 a call", count, seconds, _own_cpu() - cpu0, rss.peak, calls)


def run_store_many(root: Path, count: int) -> Result:
    store = _store(root / "store-many.db")
    requests = _requests(count, "many")
    now = store.now()
    calls: list[float] = []
    cpu0 = _own_cpu()
    with PeakRss(_own_rss) as rss:
        started = time.perf_counter()
        for start in range(0, count, MAX_REST_ITEMS):
            t = time.perf_counter()
            batch = store.create_batch("REST", now)
            answers = store.enqueue_many(
                requests[start : start + MAX_REST_ITEMS], now, batch_id=batch
            )
            calls.append((time.perf_counter() - t) * 1000)
            refused = [a for a in answers if not isinstance(a, int)]
            if refused:
                raise BenchError(f"Store.enqueue_many refused {len(refused)}: {refused[0]}")
        seconds = time.perf_counter() - started
    store.close()
    name = f"Store.enqueue_many, {MAX_REST_ITEMS:,} a call"
    return Result(name, count, seconds, _own_cpu() - cpu0, rss.peak, calls, "Store.enqueue")


# -- the CLI ------------------------------------------------------------------------------


def run_csv(root: Path, count: int) -> Result:
    db = root / "csv.db"
    _store(db).close()
    lines = root / "in.csv"
    with lines.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["to", "body", "correlation_key"])
        for r in _requests(count, "csv"):
            writer.writerow([r.to_number, r.body, r.correlation_key])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
    env["SMS_BRIDGE_DATABASE_URL"] = f"sqlite:///{db}"
    args = [str(BIN / "sms-bridge"), "enqueue", "--csv", str(lines), "--sender", "HR"]
    args += ["--source-system", "BENCH", "--quiet"]
    started = time.perf_counter()
    proc = psutil.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with PeakRss(lambda: proc.memory_info().rss / 2**20) as rss:
        # wait4 gives this child's own CPU and peak RSS (not those of earlier children).
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    _, err = proc.communicate()
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise BenchError(f"enqueue --csv exited {proc.returncode}: {tail[0]}")
    if (rows := _rows(db)) != count:
        raise BenchError(f"enqueue --csv queued {rows:,} of {count:,}")
    peak = max(rss.peak, usage.ru_maxrss / 1024)  # ru_maxrss is KiB on Linux
    name = "sms-bridge enqueue --csv (process)"
    return Result(name, count, seconds, usage.ru_utime + usage.ru_stime, peak, [], "Store.enqueue")


# -- gunicorn -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn with the shipped config and ``inbound.app:get_app()`` on its own SQLite file,
    and an API key (send, read, raw-numbers) made in that file before it starts."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.db = workdir / f"{name}.db"
        store = _store(self.db)
        key = generate()
        scopes = [Scope.SEND, Scope.READ, Scope.RAW_NUMBERS]
        store.create_api_key("bench", key.prefix, key.hash, scopes, store.now())
        store.close()
        self.headers = {"Authorization": f"Bearer {key.key}", "Content-Type": "application/json"}
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
        env.update(
            SMS_BRIDGE_DATABASE_URL=f"sqlite:///{self.db}",
            SMS_BRIDGE_INBOUND_PUBLIC_URL=f"http://127.0.0.1:{self.port}",
            SMS_BRIDGE_INBOUND_SPOOL_DIR=str(workdir / f"{name}-spool"),
            SMS_BRIDGE_TWILIO_AUTH_TOKEN="bench-auth-token-0123456789abcdef",
            SMS_BRIDGE_SERVE_BIND=f"127.0.0.1:{self.port}",
            SMS_BRIDGE_SERVE_WORKERS="2",
            SMS_BRIDGE_SERVE_ACCESS_LOG="",
            SMS_BRIDGE_SERVE_LOG_LEVEL="warning",
            PYTHONPATH=str(ROOT),
        )
        self.log_path = workdir / f"{name}.log"
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(CONFIG), "inbound.app:get_app()"],
            cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.meter = ProcessMeter(self.proc.pid)
        deadline = time.monotonic() + 30
        while not self._healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:]
                raise BenchError(f"gunicorn ({name}) did not start: {(tail or ['no log'])[0]}")
            time.sleep(0.1)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def _healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            conn.request("GET", "/health")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def post(self, path: str, payload: object) -> dict[str, Any]:
        self.conn.request("POST", path, json.dumps(payload).encode(), self.headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 202:
            raise BenchError(
                f"{path} answered {response.status}: {body[:200].decode(errors='replace')}"
            )
        answer: dict[str, Any] = json.loads(body)
        return answer

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


@contextmanager
def served(name: str, workdir: Path) -> Iterator[Server]:
    server = Server(name, workdir)
    try:
        yield server
    finally:
        server.stop()


def _measure_http(
    server: Server, name: str, count: int, calls: int, send: Callable[[int], None]
) -> Result:
    """``send(i)`` for each call i, timed; CPU of the gunicorn tree and of this client."""
    timings: list[float] = []
    progress = _progress(name)
    cpu0 = server.meter.cpu_seconds() + _own_cpu()
    with PeakRss(server.meter.rss_mb) as rss:
        started = time.perf_counter()
        for i in range(calls):
            t = time.perf_counter()
            send(i)
            timings.append((time.perf_counter() - t) * 1000)
            if (i + 1) % max(1, calls // 20) == 0:
                progress(f"{i + 1:,}/{calls:,} calls")
        seconds = time.perf_counter() - started
    progress(f"{calls:,}/{calls:,} calls\n")
    cpu = server.meter.cpu_seconds() + _own_cpu() - cpu0
    return Result(name, count, seconds, cpu, rss.peak, timings)


def run_rest_one(root: Path, count: int, quick: bool) -> Result:
    calls = max(1, count // 10) if quick else count
    items = _items(calls, "rest-one")
    with served("rest-one", root) as server:
        for item in _items(20, "warm-up"):  # imports, connections, both workers
            server.post("/sms", item)

        def send(i: int) -> None:
            server.post("/sms", items[i])

        result = _measure_http(server, "POST /sms, 1 a call", calls, calls, send)
    if (rows := _rows(server.db)) != calls + 20:
        raise BenchError(f"POST /sms queued {rows - 20:,} of {calls:,}")
    if quick:
        # The rate of the calls made stands for all: seconds and CPU scaled to ``count``.
        scale = count / calls
        result.count, result.seconds, result.cpu = count, result.seconds * scale, result.cpu * scale
        result.note = f"--quick: {calls:,} calls made, extrapolated to {count:,}"
    return result


def run_rest_batch(root: Path, count: int) -> Result:
    items = _items(count, "rest-batch")
    calls = (count + MAX_REST_ITEMS - 1) // MAX_REST_ITEMS
    with served("rest-batch", root) as server:
        server.post("/sms/batch", {"items": _items(20, "warm-up")})
        server.post("/sms/batch", {"items": _items(20, "warm-up-2")})

        def send(i: int) -> None:
            chunk = items[i * MAX_REST_ITEMS : (i + 1) * MAX_REST_ITEMS]
            answer = server.post("/sms/batch", {"items": chunk, "label": f"bench {i}"})
            if answer["rejected"]:
                first = next(r for r in answer["items"] if "error" in r)
                raise BenchError(f"POST /sms/batch refused {answer['rejected']}: {first}")

        name = f"POST /sms/batch, {MAX_REST_ITEMS:,} a call"
        result = _measure_http(server, name, count, calls, send)
    if (rows := _rows(server.db)) != count + 40:
        raise BenchError(f"POST /sms/batch queued {rows - 40:,} of {count:,}")
    result.baseline = "POST /sms"
    return result


# -- report -------------------------------------------------------------------------------


def _print(results: list[Result]) -> None:
    rates = {r.name.split(",")[0]: r.rate for r in results if r.baseline is None}
    print(
        f"\n  {'path':<38} {'msg/s':>7} {'seconds':>8} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'CPU s':>6} {'peak RSS':>9}  speed-up"
    )
    for r in results:
        ordered = sorted(r.calls_ms)
        p50 = f"{percentile(ordered, 50):8.2f}" if ordered else f"{'-':>8}"
        p95 = f"{percentile(ordered, 95):8.2f}" if ordered else f"{'-':>8}"
        speed = "1.0x (baseline)"
        if r.baseline is not None:
            speed = f"{r.rate / rates[r.baseline]:.1f}x {r.baseline}, 1 a call"
        print(
            f"  {r.name:<38} {r.rate:7,.0f} {r.seconds:8.2f} {p50} {p95}"
            f" {r.cpu:6.2f} {r.rss_mb:6.0f} MiB  {speed}"
        )
        if r.note:
            print(f"  {'':<38} ({r.note})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages per path")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="POST /sms one at a time for 1/10 of --count only, the rest extrapolated",
    )
    args = parser.parse_args()
    count: int = args.count
    cpus, load = os.cpu_count(), os.getloadavg()[0]
    print(
        f"bulk enqueue: {count:,} messages per path, SQLite, {cpus} cores"
        f" (load average {load:.1f} at start), python {sys.version.split()[0]}"
    )
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="sms-bench-bulk-") as tmp:
            root = Path(tmp)
            results.append(run_rest_one(root, count, args.quick))
            results.append(run_rest_batch(root, count))
            results.append(run_store_one(root, count))
            results.append(run_store_many(root, count))
            results.append(run_csv(root, count))
    except BenchError as exc:
        print(f"bulk_enqueue: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bulk_enqueue: interrupted (every process it started was stopped)", file=sys.stderr)
        return 130
    _print(results)
    print(
        "  Oracle (enqueue_many: one executemany per 500 items over an anonymous block calling"
        "\n  sms_api.enqueue): not measured, no Oracle on this machine"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
