"""Message creates through the twilio library's asynchronous API, on one event loop.

The worker's default I/O path (``[bridge] io = "async"``): ``messages.create_async`` over an
``AsyncHttpClient`` of our own on aiohttp, every create of the process on one event loop
running on one thread (:class:`EventLoopThread`). Measured (docs/benchmarks.md) it spends
about a third of the CPU per create of the synchronous library from a thread per request, so
the worker's coordinating thread keeps the GIL to itself for longer.

What it keeps of ``bridge.outbound.twilio_http`` (the synchronous client): the same rewrite of
Twilio's origins to ``[twilio] base_url``, no HTTP proxy from the environment for a loopback
base URL, the same connect and read timeouts, and no retry of anything (aiohttp retries a
request on a dropped keep-alive connection only for idempotent methods: never a create, a
POST). :func:`request_was_sent` tells which failures provably happened before the request
left, exactly as the synchronous gateway does for ``requests``' errors.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping, MutableMapping
from concurrent.futures import Future
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import aiohttp
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from yarl import URL

from bridge.config import TwilioSettings
from bridge.outbound.twilio_http import TWILIO_API, _Environment, _is_loopback, rewrite_url

T = TypeVar("T")
# Transport failures of an async create: aiohttp's, and a timeout of the event loop's own.
TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


class RewritingAsyncHttpClient(AsyncHttpClient):  # type: ignore[misc]  # twilio has no hints
    """The library's asynchronous transport on one aiohttp session (keep-alive, no limit of
    its own: the worker bounds the creates in flight), created on first use inside the event
    loop that runs the requests, with api.twilio.com rewritten to ``base_url``."""

    def __init__(self, base_url: str | None = None, timeout: float = 10.0) -> None:
        super().__init__(None, True, timeout)
        self.base_url = base_url.rstrip("/") if base_url else None
        # A loopback sandbox is never reached through a proxy of the environment; elsewhere
        # HTTP(S)_PROXY applies as it does to requests in the synchronous client.
        self.trust_env = not (self.base_url and _is_loopback(self.base_url))
        self.session: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                # As requests' timeout=(t, t): t to connect, t between bytes of the answer.
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=None, sock_connect=self.timeout, sock_read=self.timeout
                ),
                trust_env=self.trust_env,
            )
        return self.session

    async def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        target = rewrite_url(self.base_url, url)
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params, doseq=True)
        sent = dict(headers or {})
        if auth is not None:
            pair = f"{auth[0]}:{auth[1]}".encode()
            sent["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        body = None
        if data:  # encoded as requests encodes a dict (lists repeat the key)
            body = urlencode(data, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        per_request = None
        if timeout is not None:
            if timeout <= 0:
                raise ValueError(timeout)
            per_request = aiohttp.ClientTimeout(
                total=None, connect=None, sock_connect=timeout, sock_read=timeout
            )
        session = self._session()
        async with session.request(
            method.upper(),
            URL(target, encoded=True),
            data=body,
            headers=sent,
            allow_redirects=allow_redirects,
            timeout=per_request or session.timeout,
        ) as answer:
            text = await answer.text()
            return Response(answer.status, text, dict(answer.headers))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def make_async_twilio_client(
    settings: TwilioSettings, *, environment: Mapping[str, str] | None = None
) -> Client:
    """A ``twilio.rest.Client`` whose ``*_async`` methods use :class:`RewritingAsyncHttpClient`
    (``environment`` as for ``twilio_http.make_twilio_client``)."""
    env: MutableMapping[str, str] | None = (
        None if environment is None else _Environment(environment)
    )
    client: Client = Client(
        settings.account_sid,
        settings.auth_token.reveal(),
        http_client=RewritingAsyncHttpClient(settings.base_url, settings.timeout),
        environment=env,
    )
    return client


def request_was_sent(exc: BaseException) -> bool:
    """False only when the request provably never left: a connect timeout, a refused or
    unroutable connection, a host that does not resolve (as ``gateway._request_was_sent``
    for requests: a TLS failure counts as sent there, so it does here)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return False
    return not (
        isinstance(exc, aiohttp.ClientConnectorError)
        and not isinstance(exc, aiohttp.ClientSSLError)
    )


def explain_transport(exc: BaseException, settings: TwilioSettings) -> str:
    """One line naming the URL, as ``gateway.explain_transport`` says it for requests."""
    parts = urlsplit(settings.base_url or TWILIO_API)
    url = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else TWILIO_API
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return f"no connection to {url} within {settings.timeout:g} s (connect timeout)"
    if isinstance(exc, asyncio.TimeoutError):  # aiohttp's SocketTimeoutError is one too
        return f"{url} did not answer within {settings.timeout:g} s (read timeout)"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS with {url} failed (certificate or protocol): check [twilio] base_url"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve the host of {url} (DNS): check [twilio] base_url"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return f"connection refused by {url}: nothing listens there (check [twilio] base_url)"
        return f"cannot connect to {url}"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
        return f"{url} closed the connection before answering"
    return f"request to {url} failed ({type(exc).__name__})"


class EventLoopThread:
    """One asyncio event loop on a daemon thread, started on first use.

    :meth:`submit` hands it a coroutine from any thread and returns a
    ``concurrent.futures.Future``, the kind a ``ThreadPoolExecutor`` returns, so the worker
    waits on both alike. Unlike a pool's, such a future must never be cancelled to mean "not
    started": the coroutine runs at once, and cancelling it would cut a create that may have
    left. :meth:`close` waits for what runs, then runs the closers (sessions) and stops.
    """

    def __init__(self, name: str = "twilio-async") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name=self.name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._started())

    def close(self, *closers: Callable[[], Awaitable[object]], timeout: float = 30.0) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def drain() -> None:
            current = asyncio.current_task()
            others = [t for t in asyncio.all_tasks() if t is not current]
            if others:
                await asyncio.wait(others, timeout=timeout)
            for closer in closers:
                await closer()

        try:
            asyncio.run_coroutine_threadsafe(drain(), loop).result(timeout + 5)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            if not thread.is_alive():
                loop.close()
