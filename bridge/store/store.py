"""The Store: the named operations the rest of the bridge uses, on either engine.

Every operation is one transaction. Time is always passed in (``now``), never read here, so
tests control the clock and both engines store the same instants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bridge import errors
from bridge.models import (
    DailyCount,
    EnqueueRequest,
    Event,
    InboundRecord,
    InstallReport,
    Message,
    MessageFilter,
    Page,
    Recipient,
    Sender,
    StatusCount,
    SubmitResult,
)
from bridge.statuses import FINAL_STATUSES, Status, rank
from bridge.store import queries
from bridge.store.dialect import Dialect, Row, Tx, chunks, ids_in
from bridge.store.inbound_store import InboundStoreMixin
from bridge.store.token_bucket import TokenBucket

T = TypeVar("T")
MAX_PAGE = 500
# Past this, a row still SENT will not hear from its carrier (some never send delivery
# reports); Twilio keeps its status, the sync job stops asking.
SYNC_MAX_AGE = timedelta(days=3)


def _build(cls: type[T], row: Row) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in row.items() if k in names})


def _message(row: Row) -> Message:
    row = dict(row)
    row["status"] = Status(row["status"])
    return _build(Message, row)


def _sender(row: Row) -> Sender:
    row = dict(row)
    row["active"] = row.get("active") == "Y"
    row["mps"] = float(row["mps"])
    return _build(Sender, row)


def _event(row: Row) -> Event:
    row = dict(row)
    row["applied"] = row.get("applied") == "Y"
    return _build(Event, row)


class Store(InboundStoreMixin):
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    @property
    def engine(self) -> str:
        return self.dialect.name

    def close(self) -> None:
        self.dialect.close()

    # -- schema --------------------------------------------------------------------------

    def install(
        self, now: datetime, *, with_demo: bool = True, plsql_dir: Path | None = None
    ) -> InstallReport:
        return self.dialect.install(plsql_dir, with_demo, now)

    def schema_version(self) -> int:
        with self.dialect.transaction("check", write=False) as tx:
            return int(tx.scalar(queries.SCHEMA_VERSION) or 0)

    # -- senders and recipients ----------------------------------------------------------

    def get_sender(self, code: str) -> Sender | None:
        with self.dialect.transaction("sender", write=False) as tx:
            row = tx.row(queries.GET_SENDER, {"code": code})
        return None if row is None else _sender(row)

    def list_senders(self) -> list[Sender]:
        with self.dialect.transaction("sender", write=False) as tx:
            return [_sender(r) for r in tx.rows(queries.LIST_SENDERS)]

    def save_sender(self, sender: Sender, now: datetime) -> None:
        params: dict[str, Any] = dataclasses.asdict(sender)
        params["active"] = "Y" if sender.active else "N"
        with self.dialect.transaction("sender") as tx:
            if tx.execute(queries.UPDATE_SENDER, params) == 0:
                tx.execute(queries.INSERT_SENDER, {**params, "now": now})

    def get_recipient(self, recipient_type: str, recipient_id: str) -> Recipient | None:
        with self.dialect.transaction("recipient", write=False) as tx:
            row = tx.row(
                queries.GET_RECIPIENT,
                {"recipient_type": recipient_type, "recipient_id": recipient_id},
            )
        return None if row is None else _build(Recipient, row)

    def find_recipients_by_number(self, number: str) -> list[Recipient]:
        with self.dialect.transaction("recipient", write=False) as tx:
            return [
                _build(Recipient, r)
                for r in tx.rows(queries.FIND_RECIPIENTS_BY_NUMBER, {"phone": number})
            ]

    # -- the queue -----------------------------------------------------------------------

    def enqueue(self, request: EnqueueRequest, now: datetime) -> int:
        with self.dialect.transaction("enqueue") as tx:
            return self.dialect.enqueue(tx, request, now)

    def cancel(self, message_id: int, now: datetime, reason: str | None = None) -> Message:
        with self.dialect.transaction("cancel") as tx:
            row = tx.row(queries.GET_MESSAGE, {"id": message_id})
            if row is None:
                raise errors.NotFoundError(message_id)
            if tx.execute(queries.CANCEL, {"id": message_id, "reason": reason, "now": now}) == 0:
                raise errors.NotCancelableError(message_id, row["status"])
            self._event(tx, message_id, Status.CANCELED, "api", now, detail=reason)
            updated = tx.row(queries.GET_MESSAGE, {"id": message_id})
        assert updated is not None
        return _message(updated)

    def get(self, message_id: int) -> Message | None:
        with self.dialect.transaction("get", write=False) as tx:
            row = tx.row(queries.GET_MESSAGE, {"id": message_id})
        return None if row is None else _message(row)

    def get_by_sid(self, provider_sid: str) -> Message | None:
        with self.dialect.transaction("get", write=False) as tx:
            row = tx.row(queries.GET_MESSAGE_BY_SID, {"sid": provider_sid})
        return None if row is None else _message(row)

    def events(self, message_id: int) -> list[Event]:
        with self.dialect.transaction("events", write=False) as tx:
            return [_event(r) for r in tx.rows(queries.LIST_EVENTS, {"outbound_id": message_id})]

    def list_messages(self, filters: MessageFilter, limit: int = 25, offset: int = 0) -> Page:
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_PAGE} and offset >= 0")
        where, params = _where(filters)
        sql = f"SELECT * FROM sms_outbound{where} ORDER BY id DESC {self.dialect.page_clause}"
        with self.dialect.transaction("list", write=False) as tx:
            rows = tx.rows(sql, {**params, "limit": limit + 1, "offset": offset})
        return Page(
            items=[_message(r) for r in rows[:limit]],
            limit=limit,
            offset=offset,
            has_more=len(rows) > limit,
        )

    def any_ready(self, now: datetime) -> bool:
        """The idle probe: reads only the (status, next_attempt_at) index."""
        with self.dialect.transaction("probe", write=False) as tx:
            return bool(tx.scalar(self.dialect.any_ready_sql, {"now": now}))

    def ready_senders(self, now: datetime) -> list[str]:
        with self.dialect.transaction("probe", write=False) as tx:
            return sorted(
                str(r["sender_code"]) for r in tx.rows(queries.READY_SENDERS, {"now": now})
            )

    def claim_batch(
        self,
        sender_code: str,
        limit: int,
        now: datetime,
        *,
        lease_seconds: int,
        worker: str,
        segments_of: Callable[[str], int] | None = None,
    ) -> list[Message]:
        """Move up to ``limit`` ready messages of one sender to SENDING under a lease.

        SENDING is committed before anything is sent: the at-most-once guarantee starts here.
        With ``segments_of`` the claim is metered: the sender's token bucket (segments per
        second, kept on the sender row and taken under its lock, so every worker shares it)
        bounds how many messages are released, and their segments are charged to it.
        """
        lease_until = now + timedelta(seconds=lease_seconds)
        with self.dialect.transaction("claim") as tx:
            bucket: TokenBucket | None = None
            if segments_of is not None:
                sender = self.dialect.lock_sender(tx, sender_code)
                if sender is None:
                    return []
                bucket = TokenBucket.refill(sender, now)
                limit = min(limit, bucket.whole_tokens())
                if limit <= 0:
                    return []
            ids = self.dialect.claim(tx, sender_code, limit, now)
            if not ids:
                return []
            tx.executemany(
                queries.MARK_SENDING,
                [{"id": i, "worker": worker, "now": now, "lease_until": lease_until} for i in ids],
            )
            self._events(
                tx,
                [(i, Status.SENDING, None) for i in ids],
                "bridge",
                now,
                detail=f"claimed by {worker}",
            )
            rows = self._fetch_ids(tx, ids)
            if bucket is not None and segments_of is not None:
                spent = sum(segments_of(str(r["body"])) for r in rows)
                tx.execute(
                    queries.UPDATE_SENDER_TOKENS,
                    {"code": sender_code, "tokens": bucket.tokens - spent, "now": now},
                )
        return sorted((_message(r) for r in rows), key=lambda m: (m.priority, m.id))

    def mark_submitted(self, results: Sequence[SubmitResult], now: datetime) -> int:
        """Record a batch of accepted creates in one transaction; returns rows moved."""
        if not results:
            return 0
        with self.dialect.transaction("submitted") as tx:
            moved = tx.executemany(
                queries.MARK_SUBMITTED,
                [
                    {
                        "id": result.outbound_id,
                        "provider_sid": result.provider_sid,
                        "provider_status": result.provider_status,
                        "to_number": result.to_number,
                        "num_segments": result.num_segments,
                        "encoding": result.encoding,
                        "now": now,
                    }
                    for result in results
                ],
            )
            # A callback can beat this batch (it moves SENDING on by the row id in its URL):
            # such a row was not moved here, and its SUBMITTED event says so. Rows are locked
            # by this transaction, so what they hold now is what this update did.
            applied = {r.outbound_id for r in results}
            if moved < len(results):
                mine = {r.outbound_id: r.provider_sid for r in results}
                applied = {
                    int(row["id"])
                    for row in self._fetch_ids(tx, list(mine))
                    if row["status"] == Status.SUBMITTED.value
                    and row["provider_sid"] == mine[int(row["id"])]
                    and row["submitted_at"] == now
                }
            tx.executemany(
                queries.INSERT_EVENT,
                [
                    {
                        "outbound_id": r.outbound_id,
                        "event_at": now,
                        "status": Status.SUBMITTED.value,
                        "provider_status": r.provider_status,
                        "error_code": None,
                        "source": "bridge",
                        "applied": "Y" if r.outbound_id in applied else "N",
                        "detail": r.provider_sid,
                    }
                    for r in results
                ],
            )
        return moved

    def record_status(
        self,
        now: datetime,
        status: Status,
        *,
        source: str,
        message_id: int | None = None,
        provider_sid: str | None = None,
        provider_status: str | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
        detail: str | None = None,
    ) -> tuple[Message | None, bool]:
        """Append an event and move the row forward only; returns (row, applied).

        The row is found by SID, else by id (a callback for a row that missed its SID carries
        our id in its URL: the SID is then healed onto the row).
        """
        allowed = [s.value for s in Status if s not in FINAL_STATUSES and rank(s) < rank(status)]
        with self.dialect.transaction("status") as tx:
            row = None
            if provider_sid:
                row = tx.row(queries.GET_MESSAGE_BY_SID, {"sid": provider_sid})
            if row is None and message_id is not None:
                row = tx.row(queries.GET_MESSAGE, {"id": message_id})
                if (
                    row is not None
                    and provider_sid
                    and row["provider_sid"] not in (None, provider_sid)
                ):
                    row = None  # our id but another SID: not this message
            if row is None:
                return None, False
            in_list, binds = ids_in(allowed, "s") if allowed else ("NULL", {})
            applied = (
                allowed != []
                and tx.execute(
                    queries.MOVE_STATUS.format(allowed=in_list),
                    {
                        **binds,
                        "id": row["id"],
                        "status": status.value,
                        "provider_status": provider_status,
                        "error_code": error_code,
                        "error_message": error_message,
                        "provider_sid": provider_sid,
                        "final_at": now if status in FINAL_STATUSES else None,
                        "now": now,
                    },
                )
                == 1
            )
            self._event(
                tx,
                int(row["id"]),
                status,
                source,
                now,
                provider_status=provider_status,
                error_code=error_code,
                applied=applied,
                detail=detail,
            )
            updated = tx.row(queries.GET_MESSAGE, {"id": row["id"]})
        return (None if updated is None else _message(updated)), applied

    def requeue(
        self,
        message_id: int,
        next_attempt_at: datetime,
        now: datetime,
        *,
        reason: str,
        error_code: int | None = None,
        source: str = "bridge",
        count_attempt: bool = True,
    ) -> bool:
        """SENDING back to QUEUED (retry backoff, quiet-hours deferral, proven-unsent).

        A quiet-hours deferral keeps its place (priority, id) and does not use up an attempt.
        """
        with self.dialect.transaction("requeue") as tx:
            moved = (
                tx.execute(
                    queries.REQUEUE,
                    {
                        "id": message_id,
                        "next_attempt_at": next_attempt_at,
                        "reason": reason,
                        "error_code": error_code,
                        "now": now,
                        "uncount": 0 if count_attempt else 1,
                    },
                )
                == 1
            )
            if moved:
                self._event(
                    tx, message_id, Status.QUEUED, source, now, error_code=error_code, detail=reason
                )
        return moved

    def release(self, message_ids: Sequence[int], now: datetime) -> int:
        """Give unsent claims back (graceful shutdown): the attempt does not count."""
        released = 0
        with self.dialect.transaction("release") as tx:
            for message_id in message_ids:
                if tx.execute(queries.RELEASE_CLAIM, {"id": message_id, "now": now}) == 1:
                    released += 1
                    self._event(
                        tx,
                        message_id,
                        Status.QUEUED,
                        "bridge",
                        now,
                        detail="claim released at shutdown",
                    )
        return released

    def finalize(
        self,
        message_id: int,
        status: Status,
        now: datetime,
        *,
        reason: str | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
        to_number: str | None = None,
        num_segments: int | None = None,
        encoding: str | None = None,
        source: str = "bridge",
    ) -> bool:
        if status not in FINAL_STATUSES:
            raise ValueError(f"{status} is not a final status")
        with self.dialect.transaction("finalize") as tx:
            moved = (
                tx.execute(
                    queries.FINALIZE,
                    {
                        "id": message_id,
                        "status": status.value,
                        "reason": reason,
                        "error_code": error_code,
                        "error_message": error_message,
                        "to_number": to_number,
                        "num_segments": num_segments,
                        "encoding": encoding,
                        "now": now,
                    },
                )
                == 1
            )
            self._event(
                tx,
                message_id,
                status,
                source,
                now,
                error_code=error_code,
                applied=moved,
                detail=reason or error_message,
            )
        return moved

    def record_prepared(self, prepared: Sequence[tuple[int, str, int, str]], now: datetime) -> None:
        """Store the resolved number and segments before the create, in one transaction.

        Recovery needs the number that was actually used to find a create of unknown outcome.
        """
        if not prepared:
            return
        with self.dialect.transaction("prepared") as tx:
            tx.executemany(
                queries.RECORD_PREPARED,
                [
                    {"id": i, "to_number": to, "num_segments": n, "encoding": enc, "now": now}
                    for i, to, n, enc in prepared
                ],
            )

    def mark_unknown(
        self, message_id: int, now: datetime, detail: str, *, reconcile_at: datetime
    ) -> bool:
        """The create may have reached Twilio: shorten the lease to ``reconcile_at`` so that
        recovery reconciles the row before anything else happens to it (never a blind retry).

        Not at once: after a timeout Twilio may still be creating the message, or not list it
        yet, and "not found" would then be wrong and send it twice.
        """
        with self.dialect.transaction("unknown") as tx:
            moved = (
                tx.execute(
                    queries.END_LEASE, {"id": message_id, "now": now, "lease_until": reconcile_at}
                )
                == 1
            )
            self._event(
                tx,
                message_id,
                Status.SENDING,
                "bridge",
                now,
                applied=moved,
                detail=f"outcome unknown: {detail}",
            )
        return moved

    def claim_for_recovery(
        self, message_id: int, now: datetime, lease_seconds: int, worker: str
    ) -> bool:
        """Take over an expired lease, so two recovery jobs never reconcile one row at once."""
        with self.dialect.transaction("recovery") as tx:
            return (
                tx.execute(
                    queries.RENEW_EXPIRED_LEASE,
                    {
                        "id": message_id,
                        "now": now,
                        "worker": worker,
                        "lease_until": now + timedelta(seconds=lease_seconds),
                    },
                )
                == 1
            )

    def errors_since(self, since: datetime, until: datetime) -> list[Message]:
        """Messages that ended in an error state in [since, until), for the error digest."""
        with self.dialect.transaction("digest", write=False) as tx:
            return [
                _message(r) for r in tx.rows(queries.ERRORS_SINCE, {"since": since, "until": until})
            ]

    def expired_leases(self, now: datetime) -> list[Message]:
        with self.dialect.transaction("recovery", write=False) as tx:
            return [_message(r) for r in tx.rows(queries.EXPIRED_LEASES, {"now": now})]

    def stale_submissions(
        self, before: datetime, *, limit: int = 500, max_age: timedelta = SYNC_MAX_AGE
    ) -> list[Message]:
        """SUBMITTED/SENT rows submitted before ``before`` (and not more than ``max_age``
        earlier: past that Twilio has nothing new to say), least recently checked first."""
        sql = f"{queries.STALE_SUBMISSIONS} {self.dialect.page_clause}"
        params = {"before": before, "give_up": before - max_age, "limit": limit, "offset": 0}
        with self.dialect.transaction("sync", write=False) as tx:
            return [_message(r) for r in tx.rows(sql, params)]

    def mark_synced(self, message_ids: Sequence[int], now: datetime) -> None:
        """The sync job asked Twilio about these and learned nothing new: check them last."""
        if message_ids:
            with self.dialect.transaction("sync") as tx:
                tx.executemany(queries.TOUCH_SYNCED, [{"id": i, "now": now} for i in message_ids])

    def daily_counts(self, since: datetime) -> list[DailyCount]:
        """Messages created since ``since``, by sender, UTC day of creation and status."""
        day = self.dialect.day_format.format(column="created_at")
        sql = (
            f"SELECT sender_code, {day} AS day, status, COUNT(*) AS n FROM sms_outbound"
            f" WHERE created_at >= :since GROUP BY sender_code, {day}, status"
            f" ORDER BY sender_code, {day}, status"
        )
        with self.dialect.transaction("report", write=False) as tx:
            return [
                DailyCount(str(r["sender_code"]), str(r["day"]), str(r["status"]), int(r["n"]))
                for r in tx.rows(sql, {"since": since})
            ]

    def replies_for_digest(self, since: datetime, until: datetime) -> list[Row]:
        """Replies received in [since, until) with the reminder they answer and the manager."""
        with self.dialect.transaction("digest", write=False) as tx:
            return tx.rows(queries.REPLIES_FOR_DIGEST, {"since": since, "until": until})

    def counts(self) -> list[StatusCount]:
        with self.dialect.transaction("report", write=False) as tx:
            return [
                StatusCount(str(r["sender_code"]), str(r["status"]), int(r["n"]))
                for r in tx.rows(queries.COUNTS_BY_STATUS_AND_SENDER)
            ]

    # -- inbound and opt-outs ------------------------------------------------------------

    def insert_inbound(self, record: InboundRecord, now: datetime) -> tuple[int, bool]:
        """Store a reply once per MessageSid (Twilio retries webhooks); (id, inserted)."""
        params: dict[str, Any] = dataclasses.asdict(record)
        params["received_at"] = now
        with self.dialect.transaction("inbound") as tx:
            return self.dialect.insert_inbound(tx, params)

    def get_inbound(self, message_sid: str) -> Row | None:
        with self.dialect.transaction("inbound", write=False) as tx:
            return tx.row(queries.GET_INBOUND_BY_SID, {"message_sid": message_sid})

    def set_optout(
        self,
        phone_number: str,
        scope: str,
        opted_out: bool,
        now: datetime,
        *,
        keyword: str | None = None,
        source: str = "inbound",
    ) -> None:
        with self.dialect.transaction("optout") as tx:
            self.dialect.upsert_optout(
                tx,
                {
                    "phone_number": phone_number,
                    "scope": scope,
                    "state": "OPTED_OUT" if opted_out else "OPTED_IN",
                    "keyword": keyword,
                    "source": source,
                    "changed_at": now,
                },
            )

    def is_opted_out(self, phone_number: str, sender_number: str | None) -> bool:
        """Opted out of this sender number, or of everything (scope ``*``).

        The latest change wins: STOPALL then START to one number re-enables that number only;
        at the same instant the number's own row beats ``*``.
        """
        scope = sender_number or "*"
        with self.dialect.transaction("optout", write=False) as tx:
            rows = tx.rows(queries.GET_OPTOUT_STATE, {"phone_number": phone_number, "scope": scope})
        if not rows:
            return False
        latest = max(rows, key=lambda r: (r["changed_at"], r["scope"] != "*"))
        return bool(latest["state"] == "OPTED_OUT")

    def _fetch_ids(self, tx: Tx, ids: Sequence[int]) -> list[Row]:
        rows: list[Row] = []
        for part in chunks(ids, 500):
            in_list, binds = ids_in(part)
            rows += tx.rows(f"SELECT * FROM sms_outbound WHERE id IN ({in_list})", binds)
        return rows

    def _event(
        self,
        tx: Tx,
        message_id: int,
        status: Status,
        source: str,
        now: datetime,
        *,
        provider_status: str | None = None,
        error_code: int | None = None,
        applied: bool = True,
        detail: str | None = None,
    ) -> None:
        tx.execute(
            queries.INSERT_EVENT,
            {
                "outbound_id": message_id,
                "event_at": now,
                "status": status.value,
                "provider_status": provider_status,
                "error_code": error_code,
                "source": source,
                "applied": "Y" if applied else "N",
                "detail": detail[:400] if detail else None,
            },
        )

    def _events(
        self,
        tx: Tx,
        items: Sequence[tuple[int, Status, int | None]],
        source: str,
        now: datetime,
        *,
        detail: str | None = None,
    ) -> None:
        tx.executemany(
            queries.INSERT_EVENT,
            [
                {
                    "outbound_id": i,
                    "event_at": now,
                    "status": s.value,
                    "provider_status": None,
                    "error_code": code,
                    "source": source,
                    "applied": "Y",
                    "detail": detail,
                }
                for i, s, code in items
            ],
        )


def _where(filters: MessageFilter) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for column in ("recipient_type", "recipient_id", "status", "sender_code", "reference"):
        value = getattr(filters, column)
        if value is not None:
            clauses.append(f"{column} = :{column}")
            params[column] = value
    if filters.created_from is not None:
        clauses.append("created_at >= :created_from")
        params["created_from"] = filters.created_from
    if filters.created_to is not None:
        clauses.append("created_at < :created_to")
        params["created_to"] = filters.created_to
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params
