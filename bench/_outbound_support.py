"""Shared helpers for the outbound-worker benchmarks: the sandbox and the worker as subprocesses,
a SQLite queue, bulk enqueue, process sampling and the machine's load.

Everything runs on loopback. Benchmarks print figures; nothing here passes or fails on time.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psutil

from bench._util import percentile
from bridge.config import DatabaseSettings
from bridge.domain.models import EnqueueRequest, Sender
from bridge.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
ACCOUNT = "AC" + "5eed0bad" * 4
TOKEN = "outbound-bench-token"
FROM = "+15005550006"
TO = "+14155550100"  # a valid NANP number phonenumbers accepts as (fixed line or) mobile
SENDER = "BENCH"
# Callbacks would go to the bridge's inbound URL; nothing listens on the discard port, and the
# sandbox's lifecycle is pushed an hour out anyway so it never POSTs during a run.
CALLBACK_URL = "http://127.0.0.1:9"


def load_note() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- the sandbox ----------------------------------------------------------------------------


@dataclass
class Sandbox:
    proc: subprocess.Popen[str]
    url: str
    log: IO[str]
    meter: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.meter = psutil.Process(self.proc.pid)

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(self.url + path, data=data)
        with opener.open(request, timeout=60) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def reset(self, latency_ms: float) -> None:
        self.control("/_sandbox/reset", {})
        latency: dict[str, Any] = (
            {"dist": "fixed", "value": latency_ms} if latency_ms > 0 else {"dist": "none"}
        )
        self.control("/_sandbox/faults", {"replace": True, "latency_ms": latency})

    def messages(self) -> list[dict[str, Any]]:
        return list(self.control("/_sandbox/messages")["messages"])

    def requests(self) -> list[dict[str, Any]]:
        return list(self.control("/_sandbox/requests")["requests"])

    def cpu_seconds(self) -> float:
        t = self.meter.cpu_times()
        return t.user + t.system

    def rss_mb(self) -> float:
        return self.meter.memory_info().rss / 2**20

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


def start_sandbox(threads: int = 256) -> Sandbox:
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by Sandbox.stop
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--threads", str(threads),
         "--account-sid", ACCOUNT, "--auth-token", TOKEN, "--number", FROM,
         "--queued-delay", "3600", "--seed", "7"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            match = re.match(r"sandbox ready at (http://\S+)", line)
            if match:
                return Sandbox(proc, match.group(1), log)
            if not line:
                break
    proc.kill()
    proc.wait(5)
    log.seek(0)
    raise SystemExit(f"sandbox did not start: {log.read()[-2000:]}")


# -- the database ---------------------------------------------------------------------------


def open_db(path: Path) -> Store:
    return open_store(DatabaseSettings(url=f"sqlite:///{path}"))


def make_db(path: Path, *, mps: float = 100_000.0) -> Store:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = open_db(path)
    now = utcnow()
    store.install(now)
    store.save_sender(Sender(code=SENDER, from_number=FROM, mps=mps), now)
    return store


def enqueue_bulk(store: Store, count: int, *, tag: str = "bench", chunk: int = 5_000) -> float:
    """Queue ``count`` messages through the dialect's own enqueue (the same checks and SQL as
    ``Store.enqueue``), ``chunk`` per transaction so loading is fast. Returns seconds taken."""
    started = time.perf_counter()
    done = 0
    while done < count:
        n = min(chunk, count - done)
        now = utcnow()
        with store.dialect.transaction("bench enqueue") as tx:
            for i in range(done, done + n):
                request = EnqueueRequest(
                    sender_code=SENDER, body=f"{tag} message {i}", to_number=TO, priority=2
                )
                store.dialect.enqueue(tx, request, now)
        done += n
    return time.perf_counter() - started


def status_counts(store: Store) -> dict[str, int]:
    with store.dialect.transaction("bench counts", write=False) as tx:
        rows = tx.rows("SELECT status, COUNT(*) AS n FROM sms_outbound GROUP BY status")
    return {str(r["status"]): int(r["n"]) for r in rows}


# -- the worker -----------------------------------------------------------------------------


def worker_env(db_path: Path, sandbox_url: str, **overrides: str) -> dict[str, str]:
    """The worker's environment: ``overrides`` are SECTION_KEY=value, e.g. BRIDGE_CONCURRENCY."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
    env.update(
        {
            "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{db_path}",
            "SMS_BRIDGE_TWILIO_BASE_URL": sandbox_url,
            "SMS_BRIDGE_TWILIO_ACCOUNT_SID": ACCOUNT,
            "SMS_BRIDGE_TWILIO_AUTH_TOKEN": TOKEN,
            "SMS_BRIDGE_TWILIO_TIMEOUT": "10",
            "SMS_BRIDGE_INBOUND_PUBLIC_URL": CALLBACK_URL,
            "SMS_BRIDGE_MAIL_MAILDIR": str(db_path.parent / "mail"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"SMS_BRIDGE_{k.upper()}": v for k, v in overrides.items()})
    return env


def worker_command(*, once: bool) -> list[str]:
    return [sys.executable, "-m", "bridge.cli", "run", "--quiet", *(["--once"] if once else [])]


def start_worker(env: dict[str, str], *, once: bool, log: IO[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        worker_command(once=once), cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=log, text=True,
    )  # fmt: skip


class Sampler:
    """Samples a process's RSS (MB) and CPU seconds every ``interval`` seconds in a thread."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []  # (t, rss MB, cpu s)
        self.main_thread_cpu = 0.0  # CPU seconds of the process's main thread (tid == pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.proc.oneshot():
                    rss = self.proc.memory_info().rss / 2**20
                    t = self.proc.cpu_times()
                    for th in self.proc.threads():
                        if th.id == self.proc.pid:
                            self.main_thread_cpu = th.user_time + th.system_time
                self.samples.append((time.monotonic() - self.started, rss, t.user + t.system))
            except psutil.Error:
                return
            self._stop.wait(self.interval)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def cpu_seconds(self) -> float:
        return self.samples[-1][2] if self.samples else 0.0

    def peak_rss(self) -> float:
        return max((s[1] for s in self.samples), default=0.0)


def pct(values: list[float], q: float) -> float:
    return percentile(sorted(values), q)


def tail(log: IO[str], chars: int = 1500) -> str:
    log.seek(0)
    return log.read()[-chars:]
