"""The Twilio adapter: create, look up and list messages; every answer classified.

The only module of the worker that imports ``twilio``. It never retries by itself: the worker
decides from the :class:`~bridge.domain.policy.Outcome` (design §4: at most once to Twilio).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from bridge.config import TwilioSettings
from bridge.domain.line_types import LineType, from_lookup
from bridge.domain.optout_history import HistoryMessage
from bridge.domain.policy import Action, Outcome, classify_http, classify_transport
from bridge.errors import BridgeError, ConfigError
from bridge.outbound import async_http
from bridge.outbound.twilio_http import make_twilio_client

log = logging.getLogger(__name__)

# Twilio stamps date_created (and its Date header) to the second: allow for the rounding of
# both and the time between Twilio's stamp and our reading of the clock.
CREATION_SLACK = timedelta(seconds=2)
# How far before the claim a look-up still takes a match when none is after it: more than the
# ±5 minutes of clock skew the bridge must survive without a usable Date header.
WIDE_WINDOW = timedelta(minutes=10)
SKEW_WARNING = timedelta(seconds=2)


@dataclass(frozen=True)
class RemoteMessage:
    sid: str
    status: str
    error_code: int | None
    error_message: str | None
    date_created: datetime | None
    body: str
    # What Twilio charged, as it reports it (negative: a charge), once the message is final:
    # None until then. price_unit is the ISO 4217 code, upper case (the reference shows "usd").
    price: float | None = None
    price_unit: str | None = None


def _request_was_sent(exc: requests.RequestException) -> bool:
    """False only when the request provably never left: connect failures and connect timeouts."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc.args[0]) if exc.args else ""
        return not any(
            marker in text
            for marker in ("NewConnectionError", "NameResolutionError", "Connection refused")
        )
    return True


class TwilioGateway:
    def __init__(self, settings: TwilioSettings, *, environment: dict[str, str] | None = None):
        self.settings = settings
        self.client = make_twilio_client(
            settings.account_sid,
            settings.auth_token.reveal(),
            base_url=settings.base_url,
            timeout=settings.timeout,
            environment=environment,
        )
        # One client per named account ([twilio.accounts.NAME]; self.client is [twilio]'s):
        # a sender's creates, look-ups, recovery and sync go through its account's.
        self.named_clients: dict[str, Client] = {
            name: make_twilio_client(
                account.account_sid,
                account.auth_token.reveal(),
                base_url=settings.base_url,
                timeout=settings.timeout,
                environment=environment,
            )
            for name, account in settings.accounts.items()
        }
        # The asynchronous clients of send_async, per account (None: [twilio]), each made
        # on first use: its aiohttp session belongs to the event loop that runs it.
        self.environment = environment
        self._async_clients: dict[str | None, Client] = {}

    def accounts(self) -> list[str | None]:
        """Every account: None ([twilio], the default) first, then the named ones."""
        return [None, *sorted(self.named_clients)]

    def account_settings(self, account: str | None) -> TwilioSettings:
        """``settings`` with ``account``'s SID and token (None: [twilio] itself)."""
        if account is None:
            return self.settings
        named = self.settings.accounts.get(account)
        if named is None:
            raise UnknownTwilioAccount(account)
        return replace(self.settings, account_sid=named.account_sid, auth_token=named.auth_token)

    def _client(self, account: str | None) -> Client:
        if account is None:
            return self.client
        client = self.named_clients.get(account)
        if client is None:
            raise UnknownTwilioAccount(account)
        return client

    def send(
        self,
        *,
        to: str,
        body: str,
        from_number: str | None,
        messaging_service_sid: str | None,
        status_callback: str | None,
        validity_period: int | None = None,
        account: str | None = None,
    ) -> Outcome:
        params: dict[str, Any] = {"to": to, "body": body}
        if validity_period is not None:  # Twilio fails it with 30036 rather than send it late
            params["validity_period"] = validity_period
        if messaging_service_sid:
            params["messaging_service_sid"] = messaging_service_sid
        else:
            params["from_"] = from_number
        if status_callback:
            params["status_callback"] = status_callback
        client = self._client(account)  # an unknown account raises before any request
        try:
            created = client.messages.create(**params)
        except TwilioRestException as exc:
            action = classify_http(int(exc.status), exc.code)
            return Outcome(action, code=exc.code or exc.status, message=_short(exc.msg))
        except requests.RequestException as exc:
            action = classify_transport(_request_was_sent(exc))
            return Outcome(action, message=explain_transport(exc, self.settings))
        return Outcome(Action.SUBMITTED, sid=created.sid, provider_status=str(created.status))

    async def send_async(
        self,
        *,
        to: str,
        body: str,
        from_number: str | None,
        messaging_service_sid: str | None,
        status_callback: str | None,
        validity_period: int | None = None,
        account: str | None = None,
    ) -> Outcome:
        """:meth:`send` through the library's ``create_async`` (bridge.outbound.async_http),
        run on the worker's event loop: the same request, classified the same way. A failure
        is RETRY only when the request provably never left (connect refused, connect
        timeout, DNS); after it left, UNKNOWN, reconciled before any retry."""
        params: dict[str, Any] = {"to": to, "body": body}
        if validity_period is not None:
            params["validity_period"] = validity_period
        if messaging_service_sid:
            params["messaging_service_sid"] = messaging_service_sid
        else:
            params["from_"] = from_number
        if status_callback:
            params["status_callback"] = status_callback
        client = self._async_client(account)  # an unknown account raises before any request
        try:
            created = await client.messages.create_async(**params)
        except TwilioRestException as exc:
            action = classify_http(int(exc.status), exc.code)
            return Outcome(action, code=exc.code or exc.status, message=_short(exc.msg))
        except async_http.TRANSPORT_ERRORS as exc:
            action = classify_transport(async_http.request_was_sent(exc))
            return Outcome(action, message=async_http.explain_transport(exc, self.settings))
        return Outcome(Action.SUBMITTED, sid=created.sid, provider_status=str(created.status))

    def _async_client(self, account: str | None) -> Client:
        client = self._async_clients.get(account)
        if client is None:
            client = async_http.make_async_twilio_client(
                self.account_settings(account), environment=self.environment
            )
            self._async_clients[account] = client
        return client

    async def close_async(self) -> None:
        """Close the asynchronous clients' sessions (on the loop they ran on)."""
        clients, self._async_clients = list(self._async_clients.values()), {}
        for client in clients:
            await client.http_client.close()

    def fetch(self, sid: str, *, account: str | None = None) -> RemoteMessage:
        return _remote(self._client(account).messages(sid).fetch())

    def lookup_line_type(
        self, number: str, now: datetime, *, account: str | None = None
    ) -> LineType | str:
        """Twilio Lookup v2's line type of ``number`` (stamped ``now``, the store's clock), or
        one line saying why there is none (HTTP error, timeout, connection): the caller sends
        without it. Never retried here: a lookup is billed per request (to ``account``)."""
        client = self._client(account)
        try:
            found = client.lookups.v2.phone_numbers(number).fetch(fields="line_type_intelligence")
        except TwilioRestException as exc:
            code = f", error {exc.code}" if exc.code else ""
            return f"Twilio Lookup answered HTTP {exc.status}{code}: {_short(exc.msg, 200)}"
        except requests.RequestException as exc:
            return f"Twilio Lookup: {explain_transport(exc, self.settings)}"
        except TwilioException as exc:  # an answer the library could not read
            return f"Twilio Lookup: {_short(str(exc), 200)}"
        return from_lookup(number, found.line_type_intelligence, now)

    def find_created(
        self,
        *,
        to: str,
        body: str,
        from_number: str | None,
        messaging_service_sid: str | None,
        created_after: datetime,
        clock: Callable[[], datetime],
        taken: Callable[[str], bool] = lambda sid: False,
        account: str | None = None,
    ) -> RemoteMessage | None:
        """The message a create with unknown outcome made, if Twilio has it.

        Lists by To (and From) newest first and matches on body (and service). Not by
        DateSent: a message still queued at Twilio has no date_sent yet. A message whose SID is
        ``taken`` (recorded on another row: an earlier identical reminder) is not ours.

        ``created_after`` is our claim time on ``clock`` (the store's); Twilio stamps
        date_created on its own clock, to the second. The first page's ``Date`` header gives a
        lower bound of Twilio's clock minus ours, so our create cannot be older than the claim
        plus that offset (less the rounding): the first match from there on, oldest first, is
        ours. Only when there is none does the look-up take the newest match of the WIDE_WINDOW
        before it (a Date header from another clock, or none): other rows' messages of the same
        text are recognised by their SIDs, and the send gate (bridge.domain.twins) keeps every
        row but this one of that number and text resolved, so widening is safe.

        Listed through ``account`` (the sender's): another account's messages are not there.
        """
        client = self._client(account)
        filters: dict[str, Any] = {"to": to}
        if from_number and not messaging_service_sid:
            filters["from_"] = from_number
        after_claim: list[RemoteMessage] = []
        before_claim: list[RemoteMessage] = []
        bounds: tuple[datetime, datetime] | None = None
        for item in client.messages.stream(page_size=50, **filters):
            if bounds is None:  # the first page has been fetched: its Date header is ours
                bounds = self._creation_bounds(created_after, clock, client)
            tight, wide = bounds
            remote = _remote(item)
            if remote.date_created is not None and (
                remote.date_created < wide or (after_claim and remote.date_created < tight)
            ):
                break  # newest first: everything further is older still
            if remote.body != body:
                continue
            if messaging_service_sid and item.messaging_service_sid != messaging_service_sid:
                continue
            if taken(remote.sid):
                continue
            if remote.date_created is None or remote.date_created >= tight:
                after_claim.append(remote)
            else:
                before_claim.append(remote)
        if after_claim:
            return after_claim[-1]  # the oldest since the claim: the first create after it
        return before_claim[0] if before_claim else None  # the closest before it

    def _creation_bounds(
        self, claimed_at: datetime, clock: Callable[[], datetime], client: Client
    ) -> tuple[datetime, datetime]:
        """(earliest date_created our create can have, where the look-up stops)."""
        offset = twilio_clock_offset(_last_headers(client).get("Date"), clock())
        if offset is not None and abs(offset) >= SKEW_WARNING:
            log.warning(
                "Twilio's clock is %+.0f s from ours (its Date header): matching allows for it",
                offset.total_seconds(),
            )
        tight = claimed_at + (offset or timedelta(0)) - CREATION_SLACK
        return tight, min(tight, claimed_at - CREATION_SLACK) - WIDE_WINDOW

    def inbound_since(
        self,
        to: str,
        sent_after: datetime,
        account: str | None = None,
        *,
        page_size: int = 1000,
    ) -> Iterator[HistoryMessage]:
        """Inbound messages ``to`` received since ``sent_after`` (Twilio's DateSent, its clock),
        newest first, every page, listed through ``account`` (the number's sender's); the
        outbound ones of the list are skipped. Twilio's and requests' errors become one
        TwilioCheckError line."""
        client = self._client(account)
        try:
            for item in client.messages.stream(
                to=to, date_sent_after=sent_after, page_size=page_size
            ):
                if item.direction != "inbound":
                    continue
                yield HistoryMessage(
                    sid=str(item.sid),
                    from_number=str(item.from_ or ""),
                    to_number=str(item.to or to),
                    body=item.body or "",
                    date_sent=item.date_sent,
                    messaging_service_sid=item.messaging_service_sid,
                )
        except (TwilioException, requests.RequestException) as exc:
            raise TwilioCheckError(explain(exc, self.settings, account=account)) from None

    def clock_offset(
        self, clock: Callable[[], datetime], account: str | None = None
    ) -> timedelta | None:
        """Twilio's clock minus ours (a lower bound), from the Date header of ``account``'s
        client's last answer."""
        return twilio_clock_offset(_last_headers(self._client(account)).get("Date"), clock())

    def check(self, account: str | None = None) -> str:
        """One line: can we authenticate? (IncomingPhoneNumbers.json, as design §7 says), as
        ``account`` (None: [twilio]); a named account's line names it (its SID and token
        were checked by load_settings)."""
        if account is None:
            require_credentials(self.settings)
        client = self._client(account)
        try:
            numbers = client.incoming_phone_numbers.list(limit=20)
        except (TwilioException, requests.RequestException) as exc:
            raise TwilioCheckError(
                explain(exc, self.settings, account=account), refusal=credentials_refusal(exc)
            ) from None
        owned = ", ".join(n.phone_number for n in numbers) or "none"
        line = f"{len(numbers)} number(s) owned at {self.settings.base_url}: {owned}"
        if account is None:
            return line
        return f"account {account} ({self.settings.accounts[account].account_sid}): {line}"


class UnknownTwilioAccount(ConfigError):
    """A sender names a Twilio account the settings do not have ([twilio.accounts.NAME])."""

    def __init__(self, account: str) -> None:
        super().__init__(
            f"Twilio account {account!r} is not configured: add [twilio.accounts.{account}]"
            f" (account_sid, auth_token) to the settings, or move the sender to another account"
            f" (sms-bridge sender CODE --account NAME, or --account '' for [twilio])"
        )
        self.account = account


def _last_headers(client: Client) -> Mapping[str, str]:
    headers = getattr(client.http_client, "last_response_headers", None)
    return headers if headers is not None else {}


class TwilioCheckError(BridgeError):
    """Twilio could not be reached or refused us; the message says which, in one line.
    ``refusal`` ("HTTP 401, error 20003"): Twilio refused the credentials, as a send's answer
    that stops the worker would (bridge.domain.policy: 401/403, 20003/20005)."""

    def __init__(self, message: str, *, refusal: str | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal

    @property
    def rejected(self) -> bool:
        return self.refusal is not None


def credentials_refusal(exc: BaseException) -> str | None:
    """ "HTTP 401, error 20003" when Twilio's answer means our credentials are refused (the
    answer that stops sending), else None (a network failure, a 5xx, another error)."""
    status, code, _ = _http_error(exc)
    if status is None or classify_http(status, code) is not Action.STOP:
        return None
    return f"HTTP {status}" + (f", error {code}" if code else "")


def require_credentials(settings: TwilioSettings) -> None:
    """Name the setting that is missing before any request is made with it."""
    if not settings.account_sid:
        raise ConfigError(
            "[twilio] account_sid is not set (SMS_BRIDGE_TWILIO_ACCOUNT_SID): the AC... SID"
            " of the Twilio account to send from"
        )
    if not settings.auth_token:
        raise ConfigError(
            "[twilio] auth_token is not set (SMS_BRIDGE_TWILIO_AUTH_TOKEN, or a file named by"
            " [twilio] auth_token_file / SMS_BRIDGE_TWILIO_AUTH_TOKEN_FILE)"
        )


def explain(exc: BaseException, settings: TwilioSettings, *, account: str | None = None) -> str:
    """One line a person can act on, for what the twilio library or requests raised (through
    ``account``: None is [twilio], a name [twilio.accounts.NAME])."""
    if isinstance(exc, requests.RequestException):
        return explain_transport(exc, settings)
    status, code, text = _http_error(exc)
    if status == 401 or code == 20003:
        named = settings.accounts.get(account) if account is not None else None
        sid = named.account_sid if named is not None else settings.account_sid
        table = f"[twilio.accounts.{account}]" if named is not None else "[twilio]"
        return (
            f"Twilio rejected the account SID / auth token pair for {sid}"
            f" (HTTP 401{f', error {code}' if code else ''}): check {table} account_sid and"
            " auth_token"
        )
    if status is not None:
        detail = f", error {code}" if code else ""
        return f"{settings.base_url} answered HTTP {status}{detail}: {_short(text, 200)}".rstrip()
    return f"{type(exc).__name__}: {_short(str(exc), 200)}"


def explain_transport(exc: requests.RequestException, settings: TwilioSettings) -> str:
    """A connection-level failure as one line naming the URL (never a urllib3 repr)."""
    url = _origin(exc, settings.base_url)
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection to {url} within {settings.timeout:g} s (connect timeout)"
    if isinstance(exc, requests.Timeout):
        return f"{url} did not answer within {settings.timeout:g} s (read timeout)"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS with {url} failed (certificate or protocol): check [twilio] base_url"
    text = repr(exc.args[0]) if exc.args else ""
    if isinstance(exc, requests.ConnectionError):
        if "NameResolutionError" in text or "Name or service not known" in text:
            return f"cannot resolve the host of {url} (DNS): check [twilio] base_url"
        if "Connection refused" in text:
            return f"connection refused by {url}: nothing listens there (check [twilio] base_url)"
        if (
            "RemoteDisconnected" in text
            or "Connection reset" in text
            or "Connection aborted" in text
        ):
            return f"{url} closed the connection before answering"
        return f"cannot connect to {url}"
    return f"request to {url} failed ({type(exc).__name__})"


def _origin(exc: requests.RequestException, base_url: str) -> str:
    request_url = getattr(getattr(exc, "request", None), "url", None) or base_url
    parts = urlsplit(str(request_url))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else base_url


def _http_error(exc: BaseException) -> tuple[int | None, int | None, str]:
    """(HTTP status, Twilio error code, message) from either of the library's exceptions."""
    if isinstance(exc, TwilioRestException):
        return int(exc.status), exc.code, exc.msg or ""
    response = exc.args[1] if isinstance(exc, TwilioException) and len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    if status is None:
        return None, None, ""
    code, message = None, ""
    try:
        payload = json.loads(getattr(response, "text", "") or "{}")
        code = int(payload["code"]) if payload.get("code") else None
        message = str(payload.get("message") or "")
    except (ValueError, TypeError, AttributeError):
        message = str(getattr(response, "text", ""))
    return int(status), code, message


def twilio_clock_offset(date_header: str | None, received_at: datetime) -> timedelta | None:
    """A lower bound of Twilio's clock minus ours, from a response's ``Date`` header.

    The header is Twilio's time rounded down to the second, stamped before ``received_at``
    (our clock, read after the answer came): the true offset is at least the difference.
    None when there is no usable header.
    """
    if not date_header:
        return None
    try:
        stamped = parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    if stamped.tzinfo is None:  # RFC 7231 dates are GMT; a naive parse means "-0000"
        stamped = stamped.replace(tzinfo=UTC)
    return stamped - received_at


def _remote(item: Any) -> RemoteMessage:
    return RemoteMessage(
        sid=str(item.sid),
        status=str(item.status),
        error_code=int(item.error_code) if item.error_code else None,
        error_message=item.error_message,
        date_created=item.date_created,
        body=item.body or "",
        **parse_price(getattr(item, "price", None), getattr(item, "price_unit", None)),
    )


# sms_outbound.price is NUMBER(12,5): at most 9,999,999.99999 either way.
MAX_PRICE = 10.0**7


def parse_price(price: Any, unit: Any) -> dict[str, Any]:
    """Twilio's ``price`` (a decimal string, e.g. "-0.00750", or null) and ``price_unit`` as
    RemoteMessage fields: both None unless the price is a finite number and the unit three
    letters (a price in no known currency cannot be added to anything)."""
    try:
        value = None if price is None or price == "" else float(price)
    except (TypeError, ValueError):
        value = None
    code = str(unit).strip().upper() if unit is not None else ""
    if value is not None and not abs(value) < MAX_PRICE:
        value = None  # infinite, NaN or beyond sms_outbound.price NUMBER(12,5): ORA-01438
    if value is None or not (len(code) == 3 and code.isalpha()):
        return {"price": None, "price_unit": None}
    return {"price": value, "price_unit": code}


def _short(text: str | None, limit: int = 300) -> str:
    return (text or "").strip().splitlines()[0][:limit] if text else ""
