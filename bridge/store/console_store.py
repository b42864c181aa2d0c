"""Store operations of the operator console (inbound/console/): its reads and its actions.

A mixin of :class:`bridge.store.Store` over ``rows.StoreBase``, like ``inbound_store.py``. Every
action writes an event (or, for replies and opt-outs, a row field) naming the operator, as
``console:<key name>``. sms_events.source is one of a fixed list (a CHECK in the DDL), so
console events use source ``api`` and carry the operator in ``detail``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge import errors
from bridge.domain import column_sizes
from bridge.domain.models import EnqueueRequest, Message, Page
from bridge.domain.statuses import Status
from bridge.store import console_queries as q
from bridge.store import queries
from bridge.store.dialect import Row, Tx
from bridge.store.rows import StoreBase, message_from_row, where_equal

MAX_CONSOLE_PAGE = 200
# Final rows an operator may send again, as a new message.
REQUEUEABLE = frozenset({Status.FAILED, Status.UNDELIVERED, Status.EXPIRED})
KEYWORD_ACTIONS = ("OPT_OUT", "OPT_IN", "HELP", "HANDLER")


def operator(name: str) -> str:
    """How the console names an operator in events, opt-outs and created_by."""
    return f"console:{name}"


@dataclass(frozen=True)
class ConsoleFilter:
    status: str | None = None
    sender_code: str | None = None
    recipient_type: str | None = None
    recipient_id: str | None = None
    to_number: str | None = None
    reference: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


_CONSOLE_FILTER_COLUMNS = (
    "status",
    "sender_code",
    "recipient_type",
    "recipient_id",
    "to_number",
    "reference",
)


@dataclass(frozen=True)
class QueueLine:
    sender_code: str
    priority: int
    queued: int
    due: int
    oldest_due_at: datetime | None
    oldest_due_id: int | None


@dataclass(frozen=True)
class HourCount:
    start: datetime
    submitted: int
    delivered: int
    failed: int


@dataclass(frozen=True)
class ErrorCount:
    code: int
    count: int
    example: str | None


@dataclass(frozen=True)
class WorkerSeen:
    name: str
    claims: int
    last_claim_at: datetime


class ConsoleStoreMixin(StoreBase):
    # -- overview ------------------------------------------------------------------------

    def console_queue(self, now: datetime) -> list[QueueLine]:
        with self.dialect.transaction("console", write=False) as tx:
            rows = tx.rows(q.QUEUE_BY_SENDER, {"now": now})
        return [
            QueueLine(
                str(r["sender_code"]),
                int(r["priority"]),
                int(r["queued"] or 0),
                int(r["due"] or 0),
                r["created_at"],
                None if r["oldest_id"] is None else int(r["oldest_id"]),
            )
            for r in rows
        ]

    def console_hourly(self, now: datetime) -> list[HourCount]:
        """Per hour, the last 24 hours: 23 whole hours, then the hour ``now`` falls in."""
        top = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        starts = [top - timedelta(hours=q.HOURS - h) for h in range(q.HOURS + 1)]
        binds: dict[str, Any] = {f"h{h}": at for h, at in enumerate(starts)}
        binds["created_since"] = starts[0] - timedelta(days=7)
        with self.dialect.transaction("console", write=False) as tx:
            row = tx.row(q.HOURLY, binds) or {}
        return [
            HourCount(
                starts[h],
                int(row.get(f"s{h}") or 0),
                int(row.get(f"d{h}") or 0),
                int(row.get(f"f{h}") or 0),
            )
            for h in range(q.HOURS)
        ]

    def console_top_errors(self, since: datetime, limit: int = 10) -> list[ErrorCount]:
        with self.dialect.transaction("console", write=False) as tx:
            rows = tx.rows(q.TOP_ERRORS, {"since": since, "created_since": _created(since)})
        return [
            ErrorCount(int(r["error_code"]), int(r["n"]), r["error_message"]) for r in rows[:limit]
        ]

    def console_workers(self, since: datetime) -> list[WorkerSeen]:
        with self.dialect.transaction("console", write=False) as tx:
            rows = tx.rows(q.WORKERS, {"since": since, "created_since": _created(since)})
        return [WorkerSeen(str(r["claimed_by"]), int(r["n"]), r["claimed_at"]) for r in rows]

    # -- messages ------------------------------------------------------------------------

    def console_messages(self, filters: ConsoleFilter, limit: int, offset: int) -> Page:
        if not 1 <= limit <= MAX_CONSOLE_PAGE or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_CONSOLE_PAGE} and offset >= 0")
        where, params = where_equal(filters, _CONSOLE_FILTER_COLUMNS)
        params.update(limit=limit + 1, offset=offset)
        sql = f"SELECT * FROM sms_outbound{where} ORDER BY id DESC {self.dialect.page_clause}"
        with self.dialect.transaction("console", write=False) as tx:
            rows = tx.rows(sql, params)
        return Page(
            items=[message_from_row(r) for r in rows[:limit]],
            limit=limit,
            offset=offset,
            has_more=len(rows) > limit,
        )

    # -- conversations -------------------------------------------------------------------

    def console_conversation(self, number: str) -> tuple[list[Message], list[Row]]:
        with self.dialect.transaction("console", write=False) as tx:
            outbound = tx.rows(q.CONVERSATION_OUTBOUND, {"phone": number})
            inbound = tx.rows(q.CONVERSATION_INBOUND, {"phone": number})
        return [message_from_row(r) for r in outbound], inbound

    def console_correspondents(self, since: datetime, limit: int = 50) -> list[Row]:
        """Who wrote since ``since`` (a bound, so the page never groups the whole history)."""
        with self.dialect.transaction("console", write=False) as tx:
            sql = f"{q.RECENT_CORRESPONDENTS} {self.dialect.page_clause}"
            return tx.rows(sql, {"since": since, "limit": limit, "offset": 0})

    # -- replies -------------------------------------------------------------------------

    def console_replies(self, kind: str, limit: int = 100) -> list[Row]:
        sql = {"new": q.REPLIES_NEW, "error": q.REPLIES_ERROR, "flagged": q.REPLIES_FLAGGED}[kind]
        with self.dialect.transaction("console", write=False) as tx:
            return tx.rows(f"{sql} {self.dialect.page_clause}", {"limit": limit, "offset": 0})

    def console_reprocess_reply(self, inbound_id: int, now: datetime, operator_name: str) -> bool:
        """An ERROR reply back to NEW (the dispatcher runs its handler again); False when it is
        not ERROR (any more). When it answers a message, that message gets an event naming the
        operator; the reply's own trace is its processed_at and, later, its new outcome."""
        with self.dialect.transaction("console") as tx:
            row = tx.row("SELECT * FROM sms_inbound WHERE id = :id", {"id": inbound_id})
            if row is None or tx.execute(q.REPROCESS_REPLY, {"id": inbound_id}) != 1:
                return False
            if row["outbound_id"] is not None:
                message = tx.row(queries.GET_MESSAGE, {"id": row["outbound_id"]})
                if message is not None:
                    self._note(
                        tx,
                        int(row["outbound_id"]),
                        str(message["status"]),
                        now,
                        f"{operator(operator_name)}: reply #{inbound_id} sent for reprocessing"
                        f" (was ERROR: {row['error_message'] or '-'})",
                    )
        return True

    # -- opt-outs ------------------------------------------------------------------------

    def console_optouts(self, search: str | None, limit: int, offset: int) -> Page:
        if not 1 <= limit <= MAX_CONSOLE_PAGE or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_CONSOLE_PAGE} and offset >= 0")
        params: dict[str, Any] = {"limit": limit + 1, "offset": offset}
        sql = q.OPTOUTS_ALL
        if search:
            sql = q.OPTOUTS_SEARCH
            escaped = search.replace("%", "").replace("_", "")
            params["pattern"] = f"%{escaped}%"
        with self.dialect.transaction("console", write=False) as tx:
            rows = tx.rows(f"{sql} {self.dialect.page_clause}", params)
        return Page(items=rows[:limit], limit=limit, offset=offset, has_more=len(rows) > limit)

    # -- keywords ------------------------------------------------------------------------

    def console_keywords(self) -> list[Row]:
        with self.dialect.transaction("console", write=False) as tx:
            return tx.rows(q.KEYWORDS)

    def console_save_keyword(
        self,
        keyword: str,
        sender_code: str,
        action: str,
        *,
        handler: str | None,
        reply_text: str | None,
        active: bool,
    ) -> None:
        if action not in KEYWORD_ACTIONS:
            raise ValueError(f"action must be one of {', '.join(KEYWORD_ACTIONS)}")
        if action == "HANDLER" and not handler:
            raise ValueError("a HANDLER rule needs a handler")
        params = {
            "keyword": keyword,
            "sender_code": sender_code,
            "action": action,
            "handler": handler,
            "reply_text": reply_text,
            "active": "Y" if active else "N",
        }
        column_sizes.check("sms_keywords", params)
        with self.dialect.transaction("console") as tx:
            if tx.execute(q.UPDATE_KEYWORD, params) == 0:
                tx.execute(q.INSERT_KEYWORD, params)

    # -- actions on messages -------------------------------------------------------------

    def console_requeue(self, message_id: int, now: datetime, operator_name: str) -> int:
        """Send a FAILED / UNDELIVERED / EXPIRED message again as a NEW message; its id.

        The final row is never re-opened. The two are linked by an event on each (applied =
        N: neither row moves), naming the operator; the new row keeps the old one's sender,
        recipient, text, priority, reference and reply code, but not its correlation key
        (unique per source system: that key names the old row)."""
        who = operator(operator_name)
        with self.dialect.transaction("console") as tx:
            row = tx.row(queries.GET_MESSAGE, {"id": message_id})
            if row is None:
                raise errors.NotFoundError(message_id)
            old = message_from_row(row)
            if old.status not in REQUEUEABLE:
                raise ValueError(
                    f"message {message_id} is {old.status.value}: only FAILED, UNDELIVERED or"
                    " EXPIRED messages can be sent again"
                )
            if old.purged_at is not None:
                # Its text is "[purged]" and its number a mask (bridge/domain/retention.py).
                raise ValueError(
                    f"message {message_id} was purged (retention): its text and number are gone"
                )
            request = EnqueueRequest(
                sender_code=old.sender_code,
                body=old.body,
                recipient_type=old.recipient_type,
                recipient_id=old.recipient_id,
                # A message queued to a number (no recipient) goes to that number again.
                to_number=None if old.recipient_id is not None else old.to_number,
                priority=old.priority,
                reference=old.reference,
                reply_code=old.reply_code,
                created_by=column_sizes.fit("sms_outbound", "created_by", who),
            )
            new_id = self.dialect.enqueue(tx, request, now)
            self._note(tx, message_id, old.status.value, now, f"{who}: requeued as #{new_id}")
            self._note(tx, new_id, Status.QUEUED.value, now, f"{who}: requeue of #{message_id}")
        return int(new_id)

    def _note(self, tx: Tx, message_id: int, status: str, now: datetime, detail: str) -> None:
        tx.execute(
            q.NOTE_EVENT,
            {
                "outbound_id": message_id,
                "now": now,
                "status": status,
                "detail": column_sizes.fit("sms_events", "detail", detail),
            },
        )


def _created(since: datetime) -> datetime:
    return since - timedelta(days=q.CREATED_SLACK_DAYS)
