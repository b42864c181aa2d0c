"""Serve the sandbox with gunicorn: one gthread worker holding all state, many threads.

One worker process keeps the sandbox's state in memory (no sharing between processes); its
thread pool gives real concurrency (injected latency holds a thread, so ``threads`` bounds how
many requests can be in flight). Keep-alive connections wait in gunicorn's poller, not in a
thread. The state is built in the worker (``load`` runs after the fork), and the ready line is
printed once the worker can serve, with the real port when ``--port 0`` was asked for.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from sandbox.app import WSGIApp, create_app
from sandbox.faults import FaultSettings
from sandbox.service import Sandbox
from sandbox.settings import SandboxSettings

READY_PREFIX = "sandbox ready at "


class SandboxServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, settings: SandboxSettings, faults: FaultSettings) -> None:
        self.settings = settings
        self.faults = faults
        self.sandbox: Sandbox | None = None
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        host = f"[{s.host}]" if ":" in s.host else s.host
        options: dict[str, Any] = {
            "bind": f"{host}:{s.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": s.threads,
            "worker_connections": max(1000, s.threads * 4),
            "keepalive": math.ceil(s.keepalive),  # gunicorn takes whole seconds
            "graceful_timeout": math.ceil(s.graceful_timeout),
            "timeout": 60,
            "backlog": 2048,
            "loglevel": "warning",
            "accesslog": None,
            "errorlog": "-",
            "proc_name": "sms-bridge-sandbox",
            "post_worker_init": self._post_worker_init,
            "worker_exit": self._worker_exit,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        # Runs in the worker after the fork: threads started here live in the serving process.
        self.sandbox = Sandbox(self.settings, self.faults)
        self.sandbox.start()
        return create_app(self.sandbox)

    @staticmethod
    def _post_worker_init(worker: Any) -> None:
        host, port = worker.sockets[0].getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"{READY_PREFIX}http://{shown}:{port}", flush=True)

    @staticmethod
    def _worker_exit(server: Any, worker: Any) -> None:
        sandbox = getattr(worker.app, "sandbox", None)
        if isinstance(sandbox, Sandbox):
            sandbox.stop()


def serve(settings: SandboxSettings, faults: FaultSettings) -> int:
    """Run until SIGTERM/SIGINT; returns the process exit status."""
    try:
        SandboxServer(settings, faults).run()
    except SystemExit as exc:  # gunicorn's arbiter leaves through sys.exit
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.stdout.flush()
    return 0
