"""Serve the sandbox: a threaded HTTP/1.1 server (one thread per keep-alive connection).

Why not gunicorn: measured on the 2-core target, gunicorn's gthread worker spends most of each
request in hand-offs between its poller and its thread pool (selector re-registration, wake-up
pipes), and reached ~700 creates/s where this server does well over 1,000 (docs/benchmarks.md).
Here a connection's thread simply blocks on its socket between requests: a recv and a send per
request. State stays in this one process. ``threads`` bounds the connections served at once
(each holds a thread, so injected latency can hold that many requests in flight); further
connections wait in the listen backlog.

The ready line is printed once the socket listens, with the real port when port 0 was asked for.
SIGTERM/SIGINT stop accepting, give in-flight requests ``graceful_timeout`` seconds, then exit.
"""

from __future__ import annotations

import errno
import signal
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from io import BytesIO
from types import FrameType
from typing import Any

from sandbox.app import WSGIApp, create_app
from sandbox.faults import FaultSettings
from sandbox.service import Sandbox
from sandbox.settings import SandboxSettings

READY_PREFIX = "sandbox ready at "
SOCKET_KEY = "sandbox.socket"


class WSGIHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, translating each request to one WSGI call."""

    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.keepalive)  # idle keep-alive connections close
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # the peer went away, or an injected reset closed the socket
            self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; every method goes to the app.
        if name.startswith("do_"):
            return self._run_wsgi
        raise AttributeError(name)

    def _run_wsgi(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length),
            "SERVER_NAME": str(self.server.server_address[0]),
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            SOCKET_KEY: self.connection,
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[name] = value
        status_line: list[str] = []
        headers: list[tuple[str, str]] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> Any:
            status_line[:] = [status]
            headers[:] = response_headers
            return lambda data: None

        try:
            chunks = self.server.app(environ, start_response)
            payload = b"".join(chunks)
        except ConnectionResetError:  # the app reset the connection: answer nothing
            self.close_connection = True
            return
        if self.headers.get("Connection", "").lower() == "close":
            self.close_connection = True
        head = [f"{self.protocol_version} {status_line[0]}"]
        head += [f"{k}: {v}" for k, v in headers if k.lower() != "content-length"]
        head.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            head.append("Connection: close")
        # One send for head and body: fewer syscalls, and no Nagle delay between them.
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no access log: it would cost more than the request


class SandboxHTTPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True  # idle keep-alive connections must not hold up the exit
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, settings: SandboxSettings, app: WSGIApp) -> None:
        self.app = app
        self.keepalive = settings.keepalive
        self._slots = threading.BoundedSemaphore(settings.threads)
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        self.address_family = family
        super().__init__((settings.host, settings.port), WSGIHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()  # at most `threads` connections served at once
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def listen_error(host: str, port: int, exc: OSError) -> str:
    """One line for a socket that could not be bound, naming host:port."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the address is in use (pick another --port, or 0)"
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {where}: --host does not resolve ({exc.strerror})"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def serve(settings: SandboxSettings, faults: FaultSettings) -> int:
    """Run until SIGTERM/SIGINT; returns the process exit status."""
    sandbox = Sandbox(settings, faults)
    try:
        server = SandboxHTTPServer(settings, create_app(sandbox))
    except OSError as exc:
        print(f"sandbox: {listen_error(settings.host, settings.port, exc)}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    sandbox.start()
    accept = threading.Thread(target=server.serve_forever, name="sandbox-accept", daemon=True)
    accept.start()
    host, port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{host}]" if ":" in host else host
    print(f"{READY_PREFIX}http://{shown}:{port}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()  # stop accepting
        deadline = time.monotonic() + settings.graceful_timeout
        while sandbox.in_flight > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        sandbox.stop()  # also wakes injected sleeps still running
        server.server_close()
        accept.join(2)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
