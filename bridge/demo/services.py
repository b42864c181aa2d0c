"""The processes ``make demo`` runs: the Twilio sandbox and the inbound service (gunicorn).

Both are real subprocesses on loopback ports the OS picks; each is stopped with SIGTERM.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox(
    account_sid: str, token: str, numbers: list[str], inbound_url: str, log: Path
) -> Iterator[str]:
    """The local Twilio; yields its base URL."""
    args = [
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        "0",
        "--account-sid",
        account_sid,
        "--auth-token",
        token,
        "--inbound-url",
        inbound_url,
        "--queued-delay",
        "0.1",
        "--sending-delay",
        "0.1",
        "--delivery-delay",
        "0.3",
    ]
    for number in numbers:
        args += ["--number", number]
    with log.open("w") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            assert proc.stdout is not None
            ready = re.search(r"(http://\S+)", proc.stdout.readline())
            if ready is None:
                raise RuntimeError(f"the sandbox did not start (see {log})")
            yield ready.group(1)
        finally:
            _stop(proc)
            if proc.stdout is not None:
                proc.stdout.close()


@contextmanager
def inbound_service(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """``sms-bridge serve`` (gunicorn, 2 workers); yields its URL once /health answers."""
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bridge.cli", "serve", "--port", str(port), "--workers", "2"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(url + "/health", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the inbound service did not start (see {log})")
                time.sleep(0.2)
            yield url
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
