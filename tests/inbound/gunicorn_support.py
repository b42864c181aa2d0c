"""The inbound service under real gunicorn, for the end-to-end suites: the shipped
``deploy/gunicorn.conf.py`` and ``inbound.app:get_app()``, on a free loopback port, with only
the environment a test gives it (plus the process's own non-SMS_BRIDGE variables)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve_env(*, port: int, workers: int = 2, **settings: str) -> dict[str, str]:
    """The process environment without SMS_BRIDGE_* (and a stray PROMETHEUS_MULTIPROC_DIR),
    bound to ``port``, with ``settings`` as SMS_BRIDGE_<KEY> (``database_url="sqlite:///..."``)."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SMS_BRIDGE_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    return {
        **inherited,
        "SMS_BRIDGE_SERVE_BIND": f"127.0.0.1:{port}",
        "SMS_BRIDGE_SERVE_WORKERS": str(workers),
        "SMS_BRIDGE_SERVE_ACCESS_LOG": "",
        **{f"SMS_BRIDGE_{k.upper()}": v for k, v in settings.items()},
    }


def healthy(served: Gunicorn) -> bool:
    return requests.get(f"{served.url}/health", timeout=2).status_code == 200


@dataclass
class Gunicorn:
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path
    log_file: IO[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log_file.close()


def start_gunicorn(
    cwd: Path,
    env: Mapping[str, str],
    port: int,
    *,
    ready: Callable[[Gunicorn], bool] | None = None,
    timeout: float = 30.0,
) -> Gunicorn:
    """Start gunicorn and wait until ``ready(it)`` (default: /health answers 200); its output
    goes to ``cwd/gunicorn.log``, shown when it does not start."""
    log_path = cwd / "gunicorn.log"
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(CONFIG), "inbound.app:get_app()"],
        cwd=cwd,
        env=dict(env),
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    served = Gunicorn(proc, f"http://127.0.0.1:{port}", log_path, log_file)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if (ready or healthy)(served):
                return served
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            served.stop()
            raise RuntimeError(f"gunicorn did not start:\n{served.log()}")
        time.sleep(0.1)
