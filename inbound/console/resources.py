"""The console's pages and actions (Falcon resources rendering Jinja2 templates).

Every page needs a signed-in session (else 303 to the sign-in page); every POST needs the
session's CSRF token (else 403 and nothing changes). Numbers are masked unless the key may
see raw numbers. Actions name the operator (``console:<key name>``) in what they write.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import falcon
from jinja2 import Environment

from bridge import errors
from bridge.apikeys import ApiKey, Scope, hash_key, looks_like_key
from bridge.config import Settings
from bridge.domain import column_sizes, segments
from bridge.domain.models import Message
from bridge.domain.phone import Normalized, normalize
from bridge.domain.statuses import Status
from bridge.replies.spool import Spool
from bridge.store import Store
from bridge.store.console_store import REQUEUEABLE, ConsoleFilter, operator
from bridge.store.dialect import Row
from inbound.console.session import Session, Sessions, cookie_of
from inbound.console.views import Numbers, hourly_chart, legend
from inbound.http import read_body

log = logging.getLogger(__name__)
BASE = "/console"
PAGE = 50
REFRESH_SECONDS = 60
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

CORRESPONDENTS_WINDOW = timedelta(days=90)  # the conversations list: who wrote lately


@dataclass
class Console:
    store: Store
    settings: Settings
    clock: Callable[[], datetime]
    sessions: Sessions
    env: Environment
    spool: Spool
    meanings: dict[int, str]


@dataclass(frozen=True)
class Operator:
    session: Session
    key: ApiKey
    numbers: Numbers
    csrf: str

    @property
    def name(self) -> str:
        return self.key.name


class Page:
    """Shared plumbing: authentication, forms, CSRF and rendering."""

    query_parameters: frozenset[str] = frozenset()

    def __init__(self, console: Console) -> None:
        self.c = console

    # -- who is asking ---------------------------------------------------------------------

    def operator(self, req: falcon.Request, resp: falcon.Response) -> Operator | None:
        """The signed-in operator (the cookie re-signed: idle expiry slides), or None after
        answering 303 to the sign-in page."""
        now = self.c.clock()
        session = self.c.sessions.decode(cookie_of(req), now)
        key = None if session is None else self.c.store.api_key_by_name(session.key_name)
        if (
            session is None
            or key is None
            or key.id != session.key_id
            or not key.allows(Scope.CONSOLE)
        ):
            if session is not None:
                self.c.sessions.clear(resp)
            redirect(resp, f"{BASE}/login")
            return None
        session = self.c.sessions.touch(session, now)
        self.c.sessions.set_cookie(resp, session)
        numbers = Numbers(key.allows(Scope.RAW_NUMBERS))
        return Operator(session, key, numbers, self.c.sessions.csrf(session))

    def form(self, req: falcon.Request) -> dict[str, str]:
        body = read_body(req, self.c.settings.inbound.max_body_bytes)
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def posted(
        self, req: falcon.Request, resp: falcon.Response
    ) -> tuple[Operator, dict[str, str]] | None:
        """A POST from a signed-in operator with a valid CSRF token; else answered (303 or
        403) and None."""
        op = self.operator(req, resp)
        if op is None:
            return None
        data = self.form(req)
        if not self.c.sessions.csrf_ok(op.session, data.get("csrf")):
            log.warning("console: %s %s refused: missing or wrong CSRF token", req.method, req.path)
            self.render(
                resp,
                "error.html",
                op,
                status=403,
                title="Refused",
                message="This form was not sent from the console (its CSRF token is missing or"
                " wrong). Nothing was changed. Reload the page and try again.",
            )
            return None
        return op, data

    def render(
        self,
        resp: falcon.Response,
        template: str,
        op: Operator | None,
        *,
        status: int = 200,
        **values: Any,
    ) -> None:
        now = self.c.clock()
        resp.status = falcon.code_to_http_status(status)
        resp.content_type = "text/html; charset=utf-8"
        resp.set_header("Cache-Control", "no-store")
        resp.set_header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
            " frame-ancestors 'none'; base-uri 'none'",
        )
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "same-origin")
        resp.text = self.c.env.get_template(f"console/{template}").render(
            base=BASE, op=op, n=op.numbers if op else Numbers(False), now=now, **values
        )

    def flash_to(self, resp: falcon.Response, path: str, **message: str) -> None:
        redirect(resp, f"{BASE}{path}" + (f"?{urlencode(message)}" if message else ""))


def redirect(resp: falcon.Response, location: str) -> None:
    resp.status = falcon.HTTP_303
    resp.location = location
    resp.text = ""


FLASH = frozenset({"done", "problem"})


def flash(req: falcon.Request) -> dict[str, Any]:
    return {"done": req.get_param("done"), "problem": req.get_param("problem")}


# -- sign-in -----------------------------------------------------------------------------------


class Login(Page):
    query_parameters = FLASH

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = self.c.sessions.login_nonce(resp)
        self.render(resp, "login.html", None, token=token, **flash(req))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = self.form(req)
        if not self.c.sessions.login_csrf_ok(req, data.get("csrf")):
            token = self.c.sessions.login_nonce(resp)
            self.render(
                resp,
                "login.html",
                None,
                status=403,
                token=token,
                problem="The sign-in form expired or was not sent from this page; try again.",
                done=None,
            )
            return
        text = data.get("key", "").strip()
        key = self.c.store.api_key_by_hash(hash_key(text)) if looks_like_key(text) else None
        if key is None or not key.allows(Scope.CONSOLE):
            log.warning("console: sign-in refused (%s)", "no such key" if key is None else key.name)
            token = self.c.sessions.login_nonce(resp)
            problem = (
                "Unknown or revoked API key."
                if key is None or key.revoked_at is not None
                else "This API key has neither the console nor the admin scope."
            )
            self.render(
                resp, "login.html", None, status=401, token=token, problem=problem, done=None
            )
            return
        now = self.c.clock()
        self.c.store.touch_api_key(key.id, now)
        session = self.c.sessions.issue(key.id, key.name, now)
        self.c.sessions.set_cookie(resp, session)
        self.c.sessions.clear_login(resp)
        log.info("console: %s signed in", key.name)
        redirect(resp, BASE)


class Logout(Page):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        posted = self.posted(req, resp)
        if posted is None:
            return
        self.c.sessions.clear(resp)
        log.info("console: %s signed out", posted[0].name)
        redirect(resp, f"{BASE}/login?done=Signed+out.")


# -- overview ----------------------------------------------------------------------------------


def count_table(store: Store) -> dict[str, Any]:
    counts = store.counts()
    senders = sorted({c.sender_code for c in counts})
    statuses = [s.value for s in Status if any(c.status == s.value for c in counts)]
    cells = {(c.sender_code, c.status): c.count for c in counts}
    rows = [
        {
            "sender": s,
            "cells": [cells.get((s, st), 0) for st in statuses],
            "total": sum(cells.get((s, st), 0) for st in statuses),
        }
        for s in senders
    ]
    totals = [sum(cells.get((s, st), 0) for s in senders) for st in statuses]
    return {"statuses": statuses, "rows": rows, "totals": totals, "total": sum(totals)}


class Overview(Page):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        op = self.operator(req, resp)
        if op is None:
            return
        now = self.c.clock()
        store = self.c.store
        hours = store.console_hourly(now)
        try:
            spooled: int | None = self.c.spool.pending()
        except OSError:
            spooled = None
        self.render(
            resp,
            "overview.html",
            op,
            title="Overview",
            refresh=REFRESH_SECONDS,
            counts=count_table(store),
            queue=store.console_queue(now),
            chart=hourly_chart(hours),
            legend=legend(),
            hours=hours,
            errors=store.console_top_errors(now - timedelta(days=7)),
            meanings=self.c.meanings,
            workers=store.console_workers(now - timedelta(hours=24)),
            spooled=spooled,
        )


# -- messages ----------------------------------------------------------------------------------


def _day(text: str | None, field: str, problems: list[str]) -> datetime | None:
    if not text:
        return None
    if not _DATE.fullmatch(text):
        problems.append(f"{field}: use the form YYYY-MM-DD")
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        problems.append(f"{field}: {text} is not a date")
        return None


def message_filter(req: falcon.Request, problems: list[str]) -> ConsoleFilter:
    status = (req.get_param("status") or "").upper() or None
    if status is not None and status not in {s.value for s in Status}:
        problems.append(f"status: {status} is not a status")
        status = None
    recipient = (req.get_param("recipient") or "").strip()
    recipient_type = recipient_id = to_number = None
    if recipient.startswith("+"):
        to_number = recipient
    elif ":" in recipient:
        recipient_type, _, recipient_id = (p.strip() for p in recipient.partition(":"))
        recipient_type = recipient_type.upper()
    elif recipient:
        problems.append("recipient: TYPE:ID (EMPLOYEE:1001) or a number in E.164 (+1415...)")
    start = _day(req.get_param("from"), "from", problems)
    end = _day(req.get_param("to"), "to", problems)
    return ConsoleFilter(
        status=status,
        sender_code=(req.get_param("sender") or "").strip().upper() or None,
        recipient_type=recipient_type or None,
        recipient_id=recipient_id or None,
        to_number=to_number,
        reference=(req.get_param("reference") or "").strip() or None,
        created_from=start,
        created_to=None if end is None else end + timedelta(days=1),
    )


def _offset(req: falcon.Request) -> int:
    text = req.get_param("offset") or "0"
    return int(text) if text.isdigit() and len(text) < 10 else 0


class Messages(Page):
    query_parameters = frozenset(
        {"status", "sender", "recipient", "reference", "from", "to", "offset"}
    )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        op = self.operator(req, resp)
        if op is None:
            return
        problems: list[str] = []
        filters = message_filter(req, problems)
        offset = _offset(req)
        page = self.c.store.console_messages(filters, PAGE, offset)
        params = {
            k: v
            for k, v in req.params.items()
            if k in self.query_parameters and k != "offset" and isinstance(v, str) and v
        }

        def href(new_offset: int) -> str:
            return f"{BASE}/messages?{urlencode({**params, 'offset': str(new_offset)})}"

        self.render(
            resp,
            "messages.html",
            op,
            title="Messages",
            page=page,
            params=params,
            problems=problems,
            statuses=[s.value for s in Status],
            senders=[s.code for s in self.c.store.list_senders()],
            prev_href=href(max(0, offset - PAGE)) if offset > 0 else None,
            next_href=href(offset + PAGE) if page.has_more else None,
        )


class MessageItem(Page):
    query_parameters = FLASH

    def on_get(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        op = self.operator(req, resp)
        if op is None:
            return
        message = self.c.store.get(message_id)
        if message is None:
            self.render(
                resp,
                "error.html",
                op,
                status=404,
                title="Not found",
                message=f"There is no message {message_id}.",
            )
            return
        info = segments.count(message.body)
        self.render(
            resp,
            "message.html",
            op,
            title=f"Message {message_id}",
            m=message,
            events=self.c.store.events(message_id),
            replies=self.c.store.replies_for(message_id),
            info=info,
            cancelable=message.status == Status.QUEUED,
            requeueable=message.status in REQUEUEABLE and message.purged_at is None,
            **flash(req),
        )


class MessageCancel(Page):
    def on_post(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        posted = self.posted(req, resp)
        if posted is None:
            return
        op, data = posted
        reason = data.get("reason", "").strip()
        detail = f"{operator(op.name)}: canceled" + (f": {reason}" if reason else "")
        try:
            self.c.store.cancel(message_id, self.c.clock(), detail, source="api")
        except (errors.NotFoundError, errors.NotCancelableError) as exc:
            self.flash_to(resp, f"/messages/{message_id}", problem=str(exc))
            return
        log.info("console: %s canceled message %s", op.name, message_id)
        self.flash_to(resp, f"/messages/{message_id}", done="Canceled.")


class MessageRequeue(Page):
    def on_post(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        posted = self.posted(req, resp)
        if posted is None:
            return
        op, _ = posted
        try:
            new_id = self.c.store.console_requeue(message_id, self.c.clock(), op.name)
        except (errors.BridgeError, ValueError) as exc:
            self.flash_to(resp, f"/messages/{message_id}", problem=str(exc))
            return
        log.info("console: %s requeued message %s as %s", op.name, message_id, new_id)
        self.flash_to(resp, f"/messages/{new_id}", done=f"Queued again as #{new_id}.")


# -- conversations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bubble:
    at: datetime
    direction: str  # "out" | "in"
    message: Message | None = None
    reply: Row | None = None


def thread(outbound: list[Message], inbound: list[Row]) -> list[Bubble]:
    bubbles = [Bubble(m.submitted_at or m.created_at, "out", message=m) for m in outbound]
    bubbles += [Bubble(r["received_at"], "in", reply=r) for r in inbound]
    return sorted(bubbles, key=lambda b: (b.at, b.direction == "in"))


class Conversations(Page):
    query_parameters = frozenset({"message", "reply", "number"})

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        op = self.operator(req, resp)
        if op is None:
            return
        store = self.c.store
        number: str | None = None
        problem = None
        if (text := req.get_param("message")) and text.isdigit():
            found = store.get(int(text))
            number = found.to_number if found else None
            problem = None if number else f"message {text} has no number yet"
        elif (text := req.get_param("reply")) and text.isdigit():
            row = store.get_inbound_by_id(int(text))
            number = None if row is None else str(row["from_number"])
            problem = None if number else f"there is no reply {text}"
        elif text := (req.get_param("number") or "").strip():
            parsed = normalize(text, self.c.settings.bridge.default_region)
            number = parsed.e164 if isinstance(parsed, Normalized) else text
        if number is None:
            self.render(
                resp,
                "conversations.html",
                op,
                title="Conversations",
                # Who wrote in the last 90 days (a bound: the page never groups all history).
                people=store.console_correspondents(self.c.clock() - CORRESPONDENTS_WINDOW),
                problem=problem,
            )
            return
        outbound, inbound = store.console_conversation(number)
        optouts = [
            o for o in store.console_optouts(number, 50, 0).items if o["phone_number"] == number
        ]
        self.render(
            resp,
            "conversation.html",
            op,
            title="Conversation",
            number=number,
            bubbles=thread(outbound, inbound),
            optouts=optouts,
        )


# -- replies -----------------------------------------------------------------------------------


class Replies(Page):
    query_parameters = FLASH

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        op = self.operator(req, resp)
        if op is None:
            return
        store = self.c.store
        self.render(
            resp,
            "replies.html",
            op,
            title="Replies",
            groups=[
                ("error", "Errors", store.console_replies("error")),
                ("new", "New, not processed yet", store.console_replies("new")),
                (
                    "flagged",
                    "Flagged: not threaded to one message",
                    store.console_replies("flagged"),
                ),
            ],
            **flash(req),
        )


class ReplyReprocess(Page):
    def on_post(self, req: falcon.Request, resp: falcon.Response, reply_id: int) -> None:
        posted = self.posted(req, resp)
        if posted is None:
            return
        op, _ = posted
        if self.c.store.console_reprocess_reply(reply_id, self.c.clock(), op.name):
            log.info("console: %s sent reply %s for reprocessing", op.name, reply_id)
            self.flash_to(
                resp,
                "/replies",
                done=f"Reply #{reply_id} is NEW again: the dispatcher will run its handler.",
            )
        else:
            self.flash_to(resp, "/replies", problem=f"Reply #{reply_id} is not in ERROR.")


# -- opt-outs ----------------------------------------------------------------------------------


class Optouts(Page):
    query_parameters = frozenset({"q", "offset", *FLASH})

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        op = self.operator(req, resp)
        if op is None:
            return
        search = (req.get_param("q") or "").strip() or None
        offset = _offset(req)
        page = self.c.store.console_optouts(search, PAGE, offset)
        q = {"q": search} if search else {}

        def href(new_offset: int) -> str:
            return f"{BASE}/optouts?{urlencode({**q, 'offset': str(new_offset)})}"

        self.render(
            resp,
            "optouts.html",
            op,
            title="Opt-outs",
            page=page,
            search=search or "",
            senders=self.c.store.list_senders(),
            prev_href=href(max(0, offset - PAGE)) if offset > 0 else None,
            next_href=href(offset + PAGE) if page.has_more else None,
            **flash(req),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        posted = self.posted(req, resp)
        if posted is None:
            return
        op, data = posted
        parsed = normalize(data.get("number", ""), self.c.settings.bridge.default_region)
        number = data.get("number", "").strip()
        if isinstance(parsed, Normalized):
            number = parsed.e164
        elif not re.fullmatch(r"\+[1-9][0-9]{6,14}", number):
            self.flash_to(resp, "/optouts", problem=f"Not a phone number: {parsed.reason}.")
            return
        scope = data.get("scope", "*").strip() or "*"
        if scope != "*" and scope not in {s.optout_scope for s in self.c.store.list_senders()}:
            self.flash_to(resp, "/optouts", problem="Unknown scope.")
            return
        opted_out = data.get("action") != "opt-in"
        # sms_optouts.source is VARCHAR2(30) bytes: cut by the column, never mid-character.
        source = column_sizes.fit("sms_optouts", "source", operator(op.name)) or "console"
        self.c.store.set_optout(number, scope, opted_out, self.c.clock(), source=source)
        what = "opted out" if opted_out else "opted in again"
        log.info("console: %s: %s %s (scope %s)", op.name, op.numbers.number(number), what, scope)
        self.flash_to(resp, "/optouts", done=f"{op.numbers.number(number)} {what} ({scope}).")


# -- senders and keywords ----------------------------------------------------------------------


class Senders(Page):
    query_parameters = frozenset({"keyword", "sender", *FLASH})

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        op = self.operator(req, resp)
        if op is None:
            return
        keywords = self.c.store.console_keywords()
        # ?keyword=&sender= fills the rule form with that rule, to change it.
        chosen = (req.get_param("keyword"), req.get_param("sender"))
        editing = next(
            (k for k in keywords if (k["keyword"], k["sender_code"]) == chosen),
            None,
        )
        self.render(
            resp,
            "senders.html",
            op,
            title="Senders and keywords",
            senders=self.c.store.list_senders(),
            keywords=keywords,
            editing=editing,
            **flash(req),
        )


def _text(data: dict[str, str], name: str) -> str | None:
    return data.get(name, "").strip() or None


class SenderEdit(Page):
    def on_post(self, req: falcon.Request, resp: falcon.Response, code: str) -> None:
        posted = self.posted(req, resp)
        if posted is None:
            return
        op, data = posted
        sender = self.c.store.get_sender(code)
        if sender is None:
            self.flash_to(resp, "/senders", problem=f"No sender {code}.")
            return
        problems = []
        try:
            mps = float(data.get("mps", ""))
            if not 0 < mps <= 1000:
                raise ValueError
        except ValueError:
            problems.append("rate: a number of segments per second above 0 (at most 1000)")
            mps = sender.mps
        quiet = (_text(data, "quiet_start"), _text(data, "quiet_end"))
        if any(v is not None and not _HHMM.fullmatch(v) for v in quiet) or (
            (quiet[0] is None) != (quiet[1] is None)
        ):
            problems.append("quiet hours: both or neither, as HH:MM")
        zone = _text(data, "default_time_zone") or "UTC"
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"time zone: {zone} is not an IANA time zone")
        if problems:
            self.flash_to(resp, "/senders", problem=f"{code} not saved: " + "; ".join(problems))
            return
        changed = dataclasses.replace(
            sender,
            description=_text(data, "description"),
            mps=mps,
            quiet_start=quiet[0],
            quiet_end=quiet[1],
            default_time_zone=zone,
            help_text=_text(data, "help_text"),
            active=data.get("active") == "Y",
        )
        try:
            self.c.store.save_sender(changed, self.c.clock())
        except errors.BridgeError as exc:
            self.flash_to(resp, "/senders", problem=f"{code} not saved: {exc}")
            return
        log.info("console: %s saved sender %s: %s", op.name, code, changed)
        self.flash_to(resp, "/senders", done=f"Sender {code} saved.")


class KeywordEdit(Page):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        posted = self.posted(req, resp)
        if posted is None:
            return
        op, data = posted
        keyword = (_text(data, "keyword") or "").upper()
        sender_code = (_text(data, "sender_code") or "*").upper()
        if not keyword or (sender_code != "*" and self.c.store.get_sender(sender_code) is None):
            self.flash_to(resp, "/senders", problem="A keyword and an existing sender (or *).")
            return
        try:
            self.c.store.console_save_keyword(
                keyword,
                sender_code,
                (_text(data, "action") or "").upper(),
                handler=_text(data, "handler"),
                reply_text=_text(data, "reply_text"),
                active=data.get("active") == "Y",
            )
        except (errors.BridgeError, ValueError) as exc:
            self.flash_to(resp, "/senders", problem=f"Keyword {keyword} not saved: {exc}")
            return
        log.info("console: %s saved keyword %s/%s", op.name, keyword, sender_code)
        self.flash_to(resp, "/senders", done=f"Keyword {keyword} ({sender_code}) saved.")
