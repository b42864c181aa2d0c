"""The bare twilio library, no database: how fast can one process create messages at a given
concurrency? Run as a subprocess by ``bench.outbound_throughput`` so that its CPU is its own:

    python -m bench._bare_clients URL KIND CONCURRENCY MESSAGES

KIND:
  sync    ``messages.create`` from CONCURRENCY threads, the bridge's synchronous client
          (bridge.outbound.twilio_http: requests, keep-alive pool)
  async   ``messages.create_async`` on one event loop, CONCURRENCY in flight, the bridge's
          asynchronous client (bridge.outbound.async_http: aiohttp)
  light   ``messages.create`` from CONCURRENCY threads over a minimal ``HttpClient`` of
          ``http.client`` (one keep-alive connection per thread): the "lighter HttpClient
          under the library" candidate, measured only (no proxy support, no TLS options)

A warm-up round of CONCURRENCY creates opens the connections first. Prints one JSON line:
rate (msg/s over the timed creates), CPU ms per create (user+sys of this process), errors.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode, urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bench._outbound_support import ACCOUNT, CALLBACK_URL, FROM, TO, TOKEN
from bridge.config import Secret, TwilioSettings
from bridge.outbound.async_http import make_async_twilio_client
from bridge.outbound.twilio_http import _Environment, make_twilio_client, rewrite_url


class LightHttpClient(HttpClient):  # type: ignore[misc]  # twilio ships no type hints
    """``http.client`` under the library: one keep-alive connection per thread."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(None, False, timeout)
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.local = threading.local()

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        path = rewrite_url(self.base_url, url)[len(self.base_url) :]
        if params:
            path += "?" + urlencode(params, doseq=True)
        sent = dict(headers or {})
        if auth:
            sent["Authorization"] = (
                "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            )
        body = urlencode(data or {}, doseq=True)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        answer = conn.getresponse()
        return Response(answer.status, answer.read().decode(), dict(answer.getheaders()))


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def create_args(i: int) -> dict[str, Any]:
    return {"to": TO, "from_": FROM, "body": f"bare message {i}", "status_callback": CALLBACK_URL}


def threaded(client: Client, concurrency: int, messages: int) -> dict[str, float]:
    errors = 0

    def one(i: int) -> None:
        nonlocal errors
        try:
            client.messages.create(**create_args(i))
        except Exception:  # counted: the figure says so
            errors += 1

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(concurrency)))  # warm-up: every connection opened
        cpu0, t0 = cpu_seconds(), time.monotonic()
        list(pool.map(one, range(concurrency, concurrency + messages)))
        return timed(t0, cpu0, messages, errors)


def on_loop(url: str, concurrency: int, messages: int) -> dict[str, float]:
    settings = TwilioSettings(account_sid=ACCOUNT, auth_token=Secret(TOKEN), base_url=url)

    async def run() -> dict[str, float]:
        client = make_async_twilio_client(settings, environment={})
        errors = 0
        lock = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            nonlocal errors
            async with lock:
                try:
                    await client.messages.create_async(**create_args(i))
                except Exception:
                    errors += 1

        await asyncio.gather(*(one(i) for i in range(concurrency)))
        cpu0, t0 = cpu_seconds(), time.monotonic()
        await asyncio.gather(*(one(i) for i in range(concurrency, concurrency + messages)))
        result = timed(t0, cpu0, messages, errors)
        await client.http_client.close()
        return result

    return asyncio.run(run())


def timed(t0: float, cpu0: float, messages: int, errors: int) -> dict[str, float]:
    wall = time.monotonic() - t0
    return {
        "rate": messages / wall,
        "cpu_ms": (cpu_seconds() - cpu0) / messages * 1000,
        "errors": errors,
    }


KINDS: dict[str, Callable[[str, int, int], dict[str, float]]] = {
    "sync": lambda url, c, n: threaded(
        make_twilio_client(ACCOUNT, TOKEN, base_url=url, environment={}), c, n
    ),
    "async": on_loop,
    "light": lambda url, c, n: threaded(
        Client(ACCOUNT, TOKEN, http_client=LightHttpClient(url), environment=_Environment({})),
        c,
        n,
    ),
}


def main(argv: list[str]) -> int:
    url, kind, concurrency, messages = argv[0], argv[1], int(argv[2]), int(argv[3])
    print(json.dumps(KINDS[kind](url, concurrency, messages)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
