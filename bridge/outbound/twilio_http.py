"""Reaching Twilio (or the local sandbox) through the official ``twilio`` library.

``RewritingHttpClient`` is a ``TwilioHttpClient`` — the library's documented extension point for
transport — that sends every ``https://api.twilio.com`` request to a configured base URL instead
(the sandbox in demo, tests and benchmarks), ``https://lookups.twilio.com`` (Lookup v2) to the
same base URL under ``/lookups``, and keeps the headers of the last response.

Retries: the library can retry through ``max_retries`` (urllib3 retries on the session). It must
never be used for message creation: Twilio has no idempotency key on Messages.json, so a POST
retried after a timeout or a reset can send the SMS twice. The bridge classifies failures itself
(429 before processing is retried; 5xx/timeouts are reconciled first), so this client never
retries anything on its own.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Mapping, MutableMapping
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

TWILIO_API = "https://api.twilio.com"
TWILIO_LOOKUPS = "https://lookups.twilio.com"
# Twilio origins a base URL stands in for -> the path prefix they get under it. Lookup v2 has
# its own host; under a prefix its /v2/... paths can never meet the REST API's /2010-04-01/...
REWRITTEN_ORIGINS = {TWILIO_API: "", TWILIO_LOOKUPS: "/lookups"}
DEFAULT_POOL_SIZE = 32


class _Environment(dict[str, str]):
    """A mapping that is truthy even when empty.

    ``twilio.rest.Client`` does ``environment = environment or os.environ``, so an empty dict
    would silently fall back to the process environment (TWILIO_EDGE / TWILIO_REGION there would
    reroute requests away from the base URL). Wrapping keeps ``environment={}`` meaning "nothing".
    """

    def __bool__(self) -> bool:
        return True


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def rewrite_url(base_url: str | None, url: str) -> str:
    """``url`` with a Twilio origin replaced by ``base_url`` (None: unchanged). Shared by the
    synchronous client here and the asynchronous one (bridge.outbound.async_http)."""
    if not base_url:
        return url
    for origin, prefix in REWRITTEN_ORIGINS.items():
        if url == origin or url.startswith(origin + "/"):
            return base_url + prefix + url[len(origin) :]
    host = urlsplit(url).hostname or ""
    if host == "twilio.com" or host.endswith(".twilio.com"):
        # With a base URL configured nothing may leak to the real Twilio by another host.
        raise ValueError(
            f"only {TWILIO_API} and {TWILIO_LOOKUPS} can be redirected to {base_url}: {url}"
        )
    return url


class RewritingHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no type hints
    """A TwilioHttpClient that sends api.twilio.com requests to ``base_url`` (and
    lookups.twilio.com ones to ``base_url/lookups``).

    ``base_url=None`` leaves URLs untouched (production). ``last_response_headers`` is kept per
    thread, so a client shared by worker threads never shows one thread another's headers.
    """

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float | None = 10.0,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        # max_retries stays None: see the module docstring (never retry a create blindly).
        super().__init__(pool_connections=True, timeout=timeout, max_retries=None)
        self.base_url = base_url.rstrip("/") if base_url else None
        self._local = threading.local()
        # The library mounts a pool only for https://; the sandbox is plain http://. Both get a
        # pool as large as the bridge's concurrency and explicitly no urllib3 retries.
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, HTTPAdapter(pool_maxsize=pool_size, max_retries=0))
        if self.base_url and _is_loopback(self.base_url):
            # A loopback sandbox must not be reached through an HTTP proxy from the environment.
            self.session.trust_env = False

    @property
    def last_response_headers(self) -> CaseInsensitiveDict[str]:
        """Headers of this thread's last response (case-insensitive; empty after a failure)."""
        headers: CaseInsensitiveDict[str] = getattr(self._local, "headers", CaseInsensitiveDict())
        return headers

    def rewrite(self, url: str) -> str:
        return rewrite_url(self.base_url, url)

    def request(
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
        # A failed request must not leave the previous response's headers behind.
        self._local.headers = CaseInsensitiveDict()
        response: Response = super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        self._local.headers = CaseInsensitiveDict(response.headers or {})
        return response


def make_twilio_client(
    account_sid: str,
    auth_token: str,
    base_url: str | None = None,
    timeout: float = 10.0,
    environment: Mapping[str, str] | None = None,
) -> Client:
    """A ``twilio.rest.Client`` using ``RewritingHttpClient``.

    ``environment=None`` lets the library read ``os.environ`` (its default); pass ``{}`` (tests)
    to make it ignore the process environment entirely.
    """
    env: MutableMapping[str, str] | None = (
        None if environment is None else _Environment(environment)
    )
    client: Client = Client(
        account_sid,
        auth_token,
        http_client=RewritingHttpClient(base_url, timeout),
        environment=env,
    )
    return client
