"""Helpers for the sandbox suite: the sandbox subprocess, a webhook receiver, the control API and
the Message schema check. Fixtures live in conftest.py."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import requests

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "tests" / "data" / "twilio_message_schema.json"

ACCOUNT_SID = "AC" + "1234abcd" * 4
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
NUMBER_A = "+15005550006"
NUMBER_B = "+15017122661"
SERVICE_SID = "MG" + "feedface" * 4
SERVICE_NUMBERS = ("+15017122662", "+15017122663")
HANDSET = "+15558675310"
OTHER_HANDSET = "+15558675311"


# -- the sandbox process ------------------------------------------------------------------
@dataclass
class SandboxProcess:
    proc: subprocess.Popen[str]
    url: str
    stderr: Any
    log: str = ""  # what the sandbox wrote to stderr, available after stop()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.seek(0)
        self.log = self.stderr.read()
        self.stderr.close()
        return code


def start_sandbox(*args: str, timeout: float = 20.0) -> SandboxProcess:
    stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by SandboxProcess.stop
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            match = re.match(r"sandbox ready at (http://\S+)", line)
            if match:
                return SandboxProcess(proc, match.group(1), stderr)
            if not line and proc.poll() is not None:
                break
    proc.kill()
    proc.wait(5)
    stderr.seek(0)
    message = stderr.read()
    proc.stdout.close()
    stderr.close()
    raise RuntimeError(f"sandbox did not start: {message}")


# -- a webhook receiver -------------------------------------------------------------------
@dataclass
class Received:
    path: str
    url: str
    headers: dict[str, str]
    params: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class Receiver:
    """A threaded HTTP server on 127.0.0.1:0 that records every POST it gets."""

    def __init__(self) -> None:
        self.records: list[Received] = []
        self.cond = threading.Condition()
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                record = Received(
                    path=self.path.split("?")[0],
                    url=receiver.url + self.path,
                    headers=dict(self.headers.items()),
                    params=dict(parse_qsl(body, keep_blank_values=True)),
                )
                with receiver.cond:
                    receiver.records.append(record)
                    receiver.cond.notify_all()
                payload = b"<Response/>"
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def clear(self) -> None:
        with self.cond:
            self.records.clear()
            self.status = 200

    def wait_for(
        self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.records):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver timed out; got {self.records!r}")
                self.cond.wait(left)
            return list(self.records)


class Control:
    """The sandbox's control API."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.trust_env = False

    def get(self, path: str, **params: str) -> Any:
        response = self.http.get(self.url + path, params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return self.http.post(self.url + path, data=json.dumps(body or {}), timeout=10)

    def faults(self, **patch: Any) -> dict[str, Any]:
        response = self.post("/_sandbox/faults", patch)
        assert response.status_code == 200, response.text
        return dict(response.json()["faults"])

    def pricing(self, **patch: Any) -> dict[str, Any]:
        response = self.post("/_sandbox/pricing", patch)
        assert response.status_code == 200, response.text
        return dict(response.json()["pricing"])

    def messages(self, **params: str) -> list[dict[str, Any]]:
        return list(self.get("/_sandbox/messages", **params)["messages"])

    def requests(self, **params: str) -> list[dict[str, Any]]:
        return list(self.get("/_sandbox/requests", **params)["requests"])

    def callbacks(self, **params: str) -> list[dict[str, Any]]:
        return list(self.get("/_sandbox/callbacks", **params)["callbacks"])

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A raw Twilio API call, authenticated, for shapes the library hides."""
        url = f"{self.url}/2010-04-01/Accounts/{ACCOUNT_SID}{path}"
        kwargs.setdefault("auth", (ACCOUNT_SID, AUTH_TOKEN))
        return self.http.request(method, url, timeout=10, **kwargs)

    def close(self) -> None:
        self.http.close()


# -- the Message schema derived from Twilio's reference -----------------------------------
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
}


def schema_problems(record: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Differences between a Message JSON and the derived schema (empty when it conforms)."""
    problems = []
    props: dict[str, Any] = schema["properties"]
    missing = set(schema["required"]) - set(record)
    extra = set(record) - set(props)
    if missing:
        problems.append(f"missing fields {sorted(missing)}")
    if extra:
        problems.append(f"fields not in Twilio's Message {sorted(extra)}")
    for name, spec in props.items():
        if name not in record:
            continue
        value = record[name]
        if value is None:
            if "null" not in spec["type"]:
                problems.append(f"{name} is null")
            continue
        allowed = tuple(t for k in spec["type"] if k != "null" for t in _JSON_TYPES[k])
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            problems.append(f"{name}={value!r} is not {spec['type']}")
            continue
        if "enum" in spec and value not in spec["enum"]:
            problems.append(f"{name}={value!r} not in {spec['enum']}")
        if "pattern" in spec and not re.search(spec["pattern"], value):
            problems.append(f"{name}={value!r} does not match {spec['pattern']}")
        if spec.get("format") == "date-time-rfc-2822":
            try:
                parsedate_to_datetime(value)
            except (TypeError, ValueError):
                problems.append(f"{name}={value!r} is not an RFC 2822 date")
    return problems


def wait_until(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``probe`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {result!r})")
        time.sleep(0.02)
