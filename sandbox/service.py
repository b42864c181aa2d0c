"""The sandbox's operations, independent of HTTP: what "Twilio" does with each API call.

``handle_api`` wraps every Twilio REST call with the injected faults and records it; the
``*_work`` methods are what a healthy Twilio would do. Resources in ``app.py`` only translate.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from sandbox.callbacks import CallbackSender, make_job
from sandbox.errors import TwilioError, error_body
from sandbox.faults import FaultInjector, FaultSettings
from sandbox.lifecycle import Lifecycle, utc_now
from sandbox.paging import (
    date_filter,
    paged,
    paged_records,
    sent_at_or_after,
    sent_at_or_before,
    sent_on_day,
)
from sandbox.pricing import Pricing, apply_pricing_patch
from sandbox.rules import E164, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, keyword_of, validate_create
from sandbox.segments import count_segments
from sandbox.settings import SandboxSettings
from sandbox.shapes import (
    account_json,
    inbound_params,
    incoming_number_json,
    message_json,
)
from sandbox.state import Message, OptOut, Store, new_sid


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict[str, Any] | None  # None with reset: close the connection without an answer
    reset: bool = False


class Sandbox:
    def __init__(
        self,
        settings: SandboxSettings,
        faults: FaultSettings | None = None,
        wall: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.store = Store()
        self.faults = FaultInjector(faults or FaultSettings(), settings.seed)
        self.callbacks = CallbackSender(
            self.store,
            settings.auth_token,
            settings.callback_workers,
            settings.callback_timeout,
            tokens=dict(settings.accounts()),
        )
        self._host_wall = wall
        self.pricing: Pricing = settings.pricing  # replaced whole: readers need no lock
        self.lifecycle = Lifecycle(
            self.store,
            settings,
            self.faults,
            self.callbacks,
            wall=self._wall,
            pricing=lambda: self.pricing,
        )
        self.started = self._wall()
        self.stopping = threading.Event()  # wakes injected sleeps at shutdown
        self._gauge = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def _wall(self) -> datetime:
        """Twilio's clock: the host's, shifted by the clock_offset_seconds fault."""
        offset = self.faults.settings.clock_offset_seconds
        now = self._host_wall()
        return now + timedelta(seconds=offset) if offset else now

    def http_date(self) -> str:
        """The HTTP Date header Twilio would send, on Twilio's clock."""
        return format_datetime(self._wall().astimezone(UTC), usegmt=True)

    def start(self) -> None:
        self.callbacks.start()
        self.lifecycle.start()

    def stop(self) -> None:
        self.stopping.set()
        self.lifecycle.stop()
        self.callbacks.stop()

    # -- concurrency gauge (every HTTP request) -------------------------------------------
    def enter(self) -> None:
        with self._gauge:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._gauge:
            self.in_flight -= 1

    # -- the Twilio API -------------------------------------------------------------------
    def authorized(self, authorization: str | None, account_sid: str | None) -> bool:
        """Basic auth: the user is a known account SID and the password its token; with
        ``account_sid`` (the path's AccountSid) the user must also be that account. None (the
        Lookup API, which has no account in its path): any known account's credentials."""
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        token: str | None = None
        for sid, sid_token in self.settings.accounts():  # every SID compared: no early exit
            if hmac.compare_digest(user.encode(), sid.encode()):
                token = sid_token
        if token is None:
            return False
        return hmac.compare_digest(password.encode(), token.encode()) and (
            account_sid is None or account_sid == user
        )

    def handle_api(
        self,
        kind: str,
        method: str,
        path: str,
        params: Mapping[str, str],
        authorized: bool,
        work: Callable[[], tuple[int, dict[str, Any]]],
    ) -> ApiAnswer:
        started = time.monotonic()
        generation = self.store.generation
        decision = self.faults.decide(kind == "create")
        if decision.latency_s:
            self.stopping.wait(decision.latency_s)
        entry: dict[str, Any] = {
            "at": self._wall().isoformat(),
            "kind": kind,
            "method": method,
            "path": path,
            "params": dict(params),
            "authorized": authorized,
            "fault": None if decision.outcome == "ok" else decision.outcome,
            "latency_ms": round(decision.latency_s * 1000, 3),  # what was drawn and waited
            "sid": None,
        }
        answer = self._answer(decision.outcome, decision.slow_s, authorized, work, entry)
        entry["status"] = None if answer.reset else answer.status
        entry["code"] = (answer.body or {}).get("code") if answer.status >= 400 else None
        entry["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        self.store.log_request(entry, generation)
        return answer

    def _answer(
        self,
        outcome: str,
        slow_s: float,
        authorized: bool,
        work: Callable[[], tuple[int, dict[str, Any]]],
        entry: dict[str, Any],
    ) -> ApiAnswer:
        if not authorized:
            entry["fault"] = None  # Twilio checks credentials before anything else
            return _error(TwilioError(20003))
        if outcome == "429":
            return _error(TwilioError(20429))
        if outcome == "503":
            return _error(TwilioError(20503))
        if outcome == "500-before":
            return _error(TwilioError(20500))
        if outcome == "reset-before":
            return ApiAnswer(0, None, reset=True)
        try:
            status, body = work()
        except TwilioError as exc:
            status, body = exc.status, exc.body()
        if status < 400 and "sid" in body and entry["kind"] == "create":
            entry["sid"] = body["sid"]
        if outcome == "500-after":  # created, but the client never learns it
            return _error(TwilioError(20500))
        if outcome == "reset-after":
            return ApiAnswer(0, None, reset=True)
        if outcome == "slow":
            self.stopping.wait(slow_s)
        return ApiAnswer(status, body)

    def create_work(
        self, params: Mapping[str, str], account_sid: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Create in ``account_sid`` (the path's, already authorised; default: the main one)."""
        account = account_sid or self.settings.account_sid
        request = validate_create(dict(params), self.settings, self._opted_out, account)
        now = self._wall()
        # A Messaging Service send without From is "accepted" until the service picks a sender.
        status = (
            "accepted" if request.messaging_service_sid and not params.get("From") else "queued"
        )
        message = Message(
            seq=self.store.next_seq(),
            sid=new_sid("SM"),
            account_sid=account,
            direction="outbound-api",
            to=request.to,
            sender=request.sender,
            messaging_service_sid=request.messaging_service_sid,
            body=request.body,
            status=status,
            segments=count_segments(request.body),
            date_created=now,
            date_updated=now,
            generation=self.store.generation,
            status_callback=request.status_callback,
            validity_period=request.validity_period,
            create_params=dict(params),
            history=[(status, now)],
            reorder_callbacks=self.faults.chance(self.faults.settings.callback_out_of_order_rate),
        )
        self.store.add_message(message)
        self.lifecycle.plan(message, request.final, request.error_code)
        return 201, message_json(message)

    def fetch_work(
        self, sid: str, path: str, account_sid: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        account = account_sid or self.settings.account_sid
        message = self.store.get(sid)
        if message is None or message.account_sid != account:  # another account's: not found
            raise TwilioError(20404, path=path)
        return 200, message_json(message)

    def list_work(
        self, path: str, query: Mapping[str, str], account_sid: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        account = account_sid or self.settings.account_sid
        to, from_ = query.get("To"), query.get("From")
        sent_on = date_filter(query.get("DateSent"))
        sent_before = date_filter(query.get("DateSent<"))
        sent_after = date_filter(query.get("DateSent>"))
        dated = sent_on or sent_before or sent_after

        def keep(m: Message) -> bool:
            if m.account_sid != account:
                return False
            if to and m.to != to:
                return False
            if from_ and m.sender != from_:
                return False
            if not dated:
                return True
            if m.date_sent is None:  # queued messages have no date_sent: no date filter matches
                return False
            return (
                (sent_on is None or sent_on_day(m.date_sent, sent_on))
                and (sent_before is None or sent_at_or_before(m.date_sent, sent_before))
                and (sent_after is None or sent_at_or_after(m.date_sent, sent_after))
            )

        filters = [
            (name, query[name])
            for name in ("To", "From", "DateSent", "DateSent<", "DateSent>")
            if query.get(name)
        ]
        return 200, paged(path, "messages", self.store.newest_first(keep), query, filters)

    def numbers_work(
        self, path: str, query: Mapping[str, str], account_sid: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        wanted = query.get("PhoneNumber")
        s = self.settings
        account = account_sid or s.account_sid
        records = [
            incoming_number_json(account, n, self.started, s.inbound_url, s.service_of(n))
            for n in s.numbers_of(account)
            if not wanted or n == wanted
        ]
        filters = [("PhoneNumber", wanted)] if wanted else []
        return 200, paged_records(path, "incoming_phone_numbers", records, query, filters)

    def account_work(self, account_sid: str | None = None) -> tuple[int, dict[str, Any]]:
        main = self.settings.account_sid
        account = account_sid or main
        return 200, account_json(account, self.started, None if account == main else main)

    def _opted_out(self, handset: str, scope: str) -> bool:
        return self.store.is_opted_out(handset, scope)

    # -- handsets -------------------------------------------------------------------------
    def reply(
        self,
        from_: str,
        to: str,
        body: str,
        url: str | None,
        *,
        date_sent: datetime | None = None,
        webhook: bool = True,
    ) -> dict[str, Any]:
        """A handset texts one of our numbers: record it, apply STOP/START, POST the webhook.

        ``date_sent``: the handset texted then (on the sandbox's Twilio clock, not after now),
        e.g. before the bridge existed. ``webhook=False``: no webhook is POSTed (ours was
        down); the message is only in the Messages list."""
        if not E164.fullmatch(from_):
            raise ValueError(f"'from' must be an E.164 number, not {from_!r}")
        owner = self.settings.owner_of(to)  # the reply is that account's, signed with its token
        if owner is None:
            owned = list(self.settings.all_numbers())
            raise ValueError(f"'to' must be one of the account's numbers {owned}")
        now = self._wall()
        backdated = date_sent is not None
        if date_sent is not None:
            if date_sent.tzinfo is None:
                raise ValueError("'date_sent' needs a time zone, e.g. 2026-01-01T09:00:00Z")
            if date_sent > now:
                raise ValueError("'date_sent' must not be in the future")
            now = date_sent.astimezone(UTC)
        service = self.settings.service_of(to)
        message = Message(
            seq=self.store.next_seq(),
            sid=new_sid("SM"),
            account_sid=owner,
            direction="inbound",
            to=to,
            sender=from_,
            messaging_service_sid=service,
            body=body,
            status="received",
            segments=count_segments(body),
            date_created=now,
            date_updated=now,
            generation=self.store.generation,
            date_sent=now,
            price=self.pricing.per_segment * count_segments(body).segments,
            price_unit=self.pricing.unit,
            history=[("received", now)],
        )
        if backdated:
            self.store.add_backdated(message)
        else:
            self.store.add_message(message)
        keyword = keyword_of(body)
        change = self._apply_keyword(from_, service or to, keyword, now)
        params = inbound_params(message, keyword)
        target = (url or self.settings.inbound_url) if webhook else None
        result: dict[str, Any] = {
            "message": message_json(message),
            "params": params,
            "url": target,
            "opt_out_change": change,
            "status": None,
            "response_body": None,
            "signature": None,
            "error": None,
        }
        if target:
            job = make_job(self.store.generation, "inbound", target, params, message.sid)
            entry = self.callbacks.post(job)
            result.update(
                status=entry["response_status"],
                response_body=entry["response_body"],
                signature=entry["signature"],
                error=entry["error"],
            )
        return result

    def _apply_keyword(
        self, handset: str, scope: str, keyword: str | None, now: datetime
    ) -> str | None:
        if keyword in OPT_OUT_KEYWORDS:
            target = "*" if keyword == "STOPALL" else scope
            self.store.set_optout(OptOut(handset, target, keyword, "handset", now), True)
            return f"opted out of {target}"
        if keyword in OPT_IN_KEYWORDS:
            removed = self.store.clear_optouts(handset, (scope, "*"))
            return f"opted in to {', '.join(removed)}" if removed else None
        return None

    def set_optout(self, handset: str, scope: str, opted_out: bool) -> None:
        if not E164.fullmatch(handset):
            raise ValueError(f"'number' must be an E.164 number, not {handset!r}")
        entry = OptOut(handset, scope, "API", "control-api", self._wall())
        self.store.set_optout(entry, opted_out)

    # -- control --------------------------------------------------------------------------
    def set_pricing(self, patch: dict[str, Any]) -> Pricing:
        """Change the pricing of messages priced from now on; raises ValueError if invalid."""
        self.pricing = apply_pricing_patch(self.pricing, patch)
        return self.pricing

    def reset(self) -> int:
        generation = self.store.reset()
        self.lifecycle.reset()
        self.faults.reset()
        self.pricing = self.settings.pricing
        with self._gauge:
            self.max_in_flight = self.in_flight
        return generation

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "pid": os.getpid(),
            "account_sid": self.settings.account_sid,
            "numbers": list(self.settings.numbers),
            "subaccounts": [
                {"account_sid": a.sid, "numbers": list(a.numbers)}
                for a in self.settings.subaccounts
            ],
            "messaging_services": {k: list(v) for k, v in self.settings.messaging_services.items()},
            "inbound_url": self.settings.inbound_url,
            "magic_numbers": dict(self.settings.magic_numbers),
            "line_types": dict(self.settings.line_types),
            "faults": self.faults.settings.to_json(),
            "pricing": self.pricing.to_json(),
            "messages": self.store.message_count(),
            "pending_steps": self.lifecycle.pending(),
            "pending_callbacks": self.callbacks.pending(),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "threads": threading.active_count(),
            "started": self.started.isoformat(),
        }


def _error(exc: TwilioError) -> ApiAnswer:
    return ApiAnswer(exc.status, error_body(exc.code, exc.message, exc.status))


# -- paging ---------------------------------------------------------------------------------


__all__ = ["ApiAnswer", "Sandbox"]
