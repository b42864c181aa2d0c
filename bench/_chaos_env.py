"""The chaos suite's laboratory: one temporary directory per scenario holding a real SQLite file
(made by ``sms-bridge db install``), the sandbox, the inbound service (``sms-bridge serve``) and
``sms-bridge run`` workers as subprocesses, each in its own process group so a kill -9 or a
Ctrl-C never leaves one behind. Everything listens on loopback, on ports picked free.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ACCOUNT = "AC" + "c4a05c4a" * 4
TOKEN = "chaos-suite-auth-token"
FROM = "+15005550006"
SENDER = "CHAOS"
# Fifty recipients phonenumbers accepts (415-555-01xx): recovery lists by To, as with people.
NUMBERS = tuple(f"+1415555{100 + i:04d}" for i in range(50))
NON_FINAL = ("QUEUED", "SENDING")


def say(text: str) -> None:
    """A progress line (stderr, so the figures on stdout stay clean)."""
    print(f"  .. {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChaosError(RuntimeError):
    """The laboratory itself failed (a process did not start): one line for the operator."""


@dataclass
class Child:
    """A subprocess in its own session (process group), with its output in a file."""

    name: str
    proc: subprocess.Popen[str]
    log_path: Path
    log: IO[str]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal_group(self, sig: int) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def kill9(self) -> None:
        self.signal_group(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.proc.wait(5)
        else:
            self.signal_group(signal.SIGKILL)  # stragglers of a dead leader (gunicorn workers)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if not self.log.closed:
            self.log.close()

    def tail(self, chars: int = 600) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-chars:].strip().replace("\n", " | ")


def control_call(base: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(base + path, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with opener.open(request, timeout=60) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


class Lab:
    """One scenario's world. Use as a context manager: every child is stopped on exit."""

    def __init__(
        self,
        name: str,
        *,
        seed: int,
        callbacks: bool = True,
        twilio_timeout: float = 2.0,
        bridge: Mapping[str, object] | None = None,
        sandbox_args: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.seed = seed
        self.callbacks = callbacks
        self.dir = Path(tempfile.mkdtemp(prefix=f"sms-chaos-{name}-"))
        self.db = self.dir / "bridge.db"
        self.serve_port = free_port()
        self.serve_url = f"http://127.0.0.1:{self.serve_port}"
        # Callbacks off: Twilio is told a public URL where nothing listens (refused at once),
        # as when the inbound service is down or unreachable for the whole run.
        self.public_url = self.serve_url if callbacks else f"http://127.0.0.1:{free_port()}"
        self.twilio_timeout = twilio_timeout
        self.bridge = {
            "concurrency": 16,
            "batch_size": 50,
            "lease_seconds": max(5, int(2 * twilio_timeout + 1)),
            "reconcile_after_seconds": 1.0,
            "retry_base_seconds": 0.5,
            "retry_max_seconds": 2.0,
            "max_attempts": 50,
            "poll_min_seconds": 0.1,
            "poll_max_seconds": 0.3,
            **(bridge or {}),
        }
        self.sandbox_args = sandbox_args
        self.children: list[Child] = []
        self.sandbox_url = ""
        self.config = self.dir / "sms-bridge.toml"
        self.serve: Child | None = None
        self.access_log = self.dir / "serve.log"
        self._worker_serial = 0

    # -- life cycle ----------------------------------------------------------------------

    def __enter__(self) -> Lab:
        try:
            self.start_sandbox()
            self.write_config()
            self.cli("db", "install")
            self.cli(
                "sender", SENDER, "--from-number", FROM, "--mps", "100000", "--help-text",
                "Chaos help",
            )  # fmt: skip
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        if os.environ.get("SMS_CHAOS_KEEP"):
            print(f"  .. kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _spawn(self, name: str, argv: list[str], env: Mapping[str, str]) -> Child:
        log_path = self.dir / f"{name}.log"
        log = log_path.open("w")
        proc = subprocess.Popen(
            argv, cwd=self.dir, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )  # fmt: skip
        child = Child(name, proc, log_path, log)
        self.children.append(child)
        return child

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start_sandbox(self) -> None:
        argv = [
            sys.executable, "-m", "sandbox", "--port", "0", "--account-sid", ACCOUNT,
            "--auth-token", TOKEN, "--number", FROM, "--seed", str(self.seed),
            "--inbound-url", f"{self.public_url}/twilio/inbound",
            "--accepted-delay", "0.1", "--queued-delay", "0.2", "--sending-delay", "0.2",
            "--delivery-delay", "0.3", "--callback-workers", "8", "--callback-timeout", "10",
            *self.sandbox_args,
        ]  # fmt: skip
        log_path = self.dir / "sandbox.log"
        log = log_path.open("w")
        proc = subprocess.Popen(
            argv, cwd=REPO, env=self.env(), stdout=subprocess.PIPE, stderr=log, text=True,
            start_new_session=True,
        )  # fmt: skip
        child = Child("sandbox", proc, log_path, log)
        self.children.append(child)
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                line = proc.stdout.readline()
                match = re.match(r"sandbox ready at (http://\S+)", line)
                if match:
                    self.sandbox_url = match.group(1)
                    return
                if not line:
                    break
        raise ChaosError(f"the sandbox did not start: {child.tail()}")

    def write_config(self) -> None:
        (self.dir / "twilio.token").write_text(TOKEN)
        bridge = "\n".join(
            f"{k} = {json.dumps(v) if isinstance(v, str) else v}" for k, v in self.bridge.items()
        )
        self.config.write_text(
            f"""[database]
url = "sqlite:///{self.db}"

[twilio]
account_sid = "{ACCOUNT}"
auth_token_file = "{self.dir / "twilio.token"}"
base_url = "{self.sandbox_url}"
timeout = {self.twilio_timeout}

[inbound]
public_url = "{self.public_url}"
spool_dir = "{self.dir / "spool"}"

[mail]
transport = "maildir"
maildir = "{self.dir / "mail"}"

[bridge]
{bridge}
""",
            encoding="utf-8",
        )

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(BIN / "sms-bridge"), "--config", str(self.config), *args],
            cwd=self.dir, env=self.env(), capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise ChaosError(
                f"sms-bridge {' '.join(args)} exited {done.returncode}: "
                f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}"
            )
        return done

    def start_serve(self, workers: int = 2) -> Child:
        env = self.env()
        env["SMS_BRIDGE_SERVE_ACCESS_LOG"] = "-"  # into serve.log, with the error log
        argv = [
            str(BIN / "sms-bridge"), "--config", str(self.config), "serve",
            "--port", str(self.serve_port), "--workers", str(workers),
        ]  # fmt: skip
        child = self._spawn("serve", argv, env)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                    f"{self.serve_url}/health", timeout=2
                ) as answer:
                    if answer.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if not child.alive() or time.monotonic() > deadline:
                raise ChaosError(f"sms-bridge serve did not start: {child.tail()}")
            time.sleep(0.1)
        self.serve = child
        return child

    def start_worker(self) -> Child:
        self._worker_serial += 1
        env = self.env()
        env["SMS_BRIDGE_BRIDGE_WORKER_NAME"] = f"chaos-{self._worker_serial}"
        argv = [str(BIN / "sms-bridge"), "--config", str(self.config), "run", "--quiet"]
        return self._spawn(f"worker-{self._worker_serial}", argv, env)

    # -- the sandbox ---------------------------------------------------------------------

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return control_call(self.sandbox_url, path, body)

    def faults(self, **faults: Any) -> None:
        self.control("/_sandbox/faults", faults)

    def sandbox_messages(self) -> list[dict[str, Any]]:
        return list(self.control("/_sandbox/messages?direction=outbound-api")["messages"])

    def sandbox_callbacks(self) -> list[dict[str, Any]]:
        return list(self.control("/_sandbox/callbacks?kind=status")["callbacks"])

    # -- the database --------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    def enqueue(self, rows: list[tuple[str, str]]) -> None:
        """Queue (to, body) rows through the store's own enqueue, 500 per transaction."""
        from bridge.config import DatabaseSettings
        from bridge.domain.models import EnqueueRequest
        from bridge.store import open_store

        store = open_store(DatabaseSettings(url=f"sqlite:///{self.db}"))
        try:
            for start in range(0, len(rows), 500):
                now = datetime.now(UTC)
                with store.dialect.transaction("chaos enqueue") as tx:
                    for to, body in rows[start : start + 500]:
                        request = EnqueueRequest(sender_code=SENDER, body=body, to_number=to)
                        store.dialect.enqueue(tx, request, now)
        finally:
            store.close()

    def outbound_rows(self) -> list[sqlite3.Row]:
        with self.connect() as conn:
            return list(
                conn.execute(
                    "SELECT id, to_number, body, status, status_reason, provider_sid, attempts"
                    " FROM sms_outbound ORDER BY id"
                )
            )

    def pending(self) -> tuple[int, int]:
        """(QUEUED, SENDING) row counts."""
        with self.connect() as conn:
            counts = dict(
                conn.execute(
                    "SELECT status, COUNT(*) FROM sms_outbound"
                    " WHERE status IN ('QUEUED', 'SENDING') GROUP BY status"
                ).fetchall()
            )
        return int(counts.get("QUEUED", 0)), int(counts.get("SENDING", 0))

    def count(self, table: str) -> int:
        with self.connect() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def access_times(self) -> list[tuple[int, float]]:
        """(status, ms) of every webhook gunicorn answered, from its access log (server side:
        from the request read to the answer written)."""
        if not self.access_log.exists():
            return []
        pattern = re.compile(r'"POST /twilio/\S* HTTP/[\d.]+" (\d{3}) \S+ (\d+)ms')
        found = []
        if self.serve is not None:
            self.serve.log.flush()
        for line in self.access_log.read_text(errors="replace").splitlines():
            match = pattern.search(line)
            if match:
                found.append((int(match.group(1)), float(match.group(2))))
        return found

    def count_spooled(self) -> int:
        """Webhooks waiting in the spool (the inbound service's /health)."""
        return int(control_call(self.serve_url, "/health").get("spooled", 0))
