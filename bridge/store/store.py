"""The Store: the named operations the rest of the bridge uses, on either engine.

This module holds the schema, senders, recipients, the queue (enqueue, claim, cancel, reads),
reports and opt-outs; what happens to a claimed message is in ``outcomes.py`` (and the last
write before its create, with the identical-twin gate, in ``send_gate.py``), the inbound
side in ``inbound_store.py`` and the contacts a site keeps in the bridge in ``contacts.py``
(mixins over ``rows.StoreBase``). Every operation is one transaction. Time is always passed
in (``now``), never read here, so tests control the clock and both engines store the same
instants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bridge import errors
from bridge.domain import column_sizes, enqueue_rules
from bridge.domain.models import (
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
)
from bridge.domain.statuses import Status
from bridge.store import queries
from bridge.store.batch_store import BatchStoreMixin
from bridge.store.console_store import ConsoleStoreMixin
from bridge.store.contacts import ContactStoreMixin
from bridge.store.cost_store import CostStoreMixin
from bridge.store.dialect import Row
from bridge.store.inbound_store import InboundStoreMixin
from bridge.store.keyword_store import KeywordStoreMixin
from bridge.store.lookup_store import LookupStoreMixin
from bridge.store.metrics_store import MetricsStoreMixin
from bridge.store.outcomes import OutcomeStoreMixin
from bridge.store.phones_store import PhonesStoreMixin
from bridge.store.retention_store import RetentionStoreMixin
from bridge.store.rows import (
    build,
    event_from_row,
    message_from_row,
    sender_from_row,
    where_equal,
)
from bridge.store.send_gate import SendGateStoreMixin
from bridge.store.token_bucket import TokenBucket

MAX_PAGE = 500

# GET /health's write probe (Store.probe_write): a column set to its own value, rolled back.
PROBE_WRITE_SQL = (
    "UPDATE sms_schema_version SET description = description"
    " WHERE version = (SELECT MAX(version) FROM sms_schema_version)"
)


class _ProbeRolledBack(Exception):
    """Raised inside the probe's transaction so that the dialect rolls it back."""


class Store(
    BatchStoreMixin,
    OutcomeStoreMixin,
    SendGateStoreMixin,
    InboundStoreMixin,
    KeywordStoreMixin,
    ContactStoreMixin,
    ConsoleStoreMixin,
    MetricsStoreMixin,
    LookupStoreMixin,
    RetentionStoreMixin,
    CostStoreMixin,
    PhonesStoreMixin,
):
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

    def probe_write(self) -> None:
        """Take the write path and change nothing: ``GET /health``'s write check.

        A write transaction (SQLite: ``BEGIN IMMEDIATE``, the file's write lock) with an update
        that sets a column of the schema-version row to its own value, then rolled back, never
        committed: the lock, undo and redo (Oracle), or a read-only file (SQLite), fail here as
        they would for a webhook, and nothing is left behind. Raises what the write raised."""
        try:
            with self.dialect.transaction("health") as tx:
                self.dialect.probe_write(tx, PROBE_WRITE_SQL)
                raise _ProbeRolledBack
        except _ProbeRolledBack:
            return

    def bounded_wait(self, ms: int) -> AbstractContextManager[None]:
        """Every database wait inside the block bounded to ``ms`` in total (``Dialect``)."""
        return self.dialect.bounded_wait(ms)

    @property
    def location(self) -> str:
        return self.dialect.location()

    def require_schema(self) -> int:
        """The schema version, or :class:`~bridge.errors.SchemaMissingError` naming where we
        looked when there is none (every command but ``db install`` starts with this)."""
        try:
            version = self.schema_version()
        except Exception as exc:
            if self.dialect.is_undefined_table(exc):
                raise errors.SchemaMissingError(self.location) from None
            raise
        if version < 1:
            raise errors.SchemaMissingError(self.location)
        return version

    # -- senders and recipients ----------------------------------------------------------

    def get_sender(self, code: str) -> Sender | None:
        with self.dialect.transaction("sender", write=False) as tx:
            row = tx.row(queries.GET_SENDER, {"code": code})
        return None if row is None else sender_from_row(row)

    def list_senders(self) -> list[Sender]:
        with self.dialect.transaction("sender", write=False) as tx:
            return [sender_from_row(r) for r in tx.rows(queries.LIST_SENDERS)]

    def save_sender(self, sender: Sender, now: datetime) -> None:
        params: dict[str, Any] = dataclasses.asdict(sender)
        params["active"] = "Y" if sender.active else "N"
        params["line_type_lookup"] = "Y" if sender.line_type_lookup else "N"
        column_sizes.check("sms_senders", params)
        with self.dialect.transaction("sender") as tx:
            if tx.execute(queries.UPDATE_SENDER, params) == 0:
                tx.execute(queries.INSERT_SENDER, {**params, "now": now})

    def get_recipient(self, recipient_type: str, recipient_id: str) -> Recipient | None:
        with self.dialect.transaction("recipient", write=False) as tx:
            row = tx.row(
                queries.GET_RECIPIENT,
                {"recipient_type": recipient_type, "recipient_id": recipient_id},
            )
        return None if row is None else build(Recipient, row)

    def find_recipients_by_number(self, number: str) -> list[Recipient]:
        with self.dialect.transaction("recipient", write=False) as tx:
            return [
                build(Recipient, r)
                for r in tx.rows(queries.FIND_RECIPIENTS_BY_NUMBER, {"phone": number})
            ]

    # -- the queue -----------------------------------------------------------------------

    def enqueue(self, request: EnqueueRequest, now: datetime) -> int:
        # Sizes first, on both engines: Oracle would refuse a text too long for its column
        # (ORA-12899) where SQLite stores it.
        enqueue_rules.check_lengths(request)
        with self.dialect.transaction("enqueue") as tx:
            return self.dialect.enqueue(tx, request, now)

    def cancel(
        self,
        message_id: int,
        now: datetime,
        reason: str | None = None,
        *,
        source: str = "api",
        created_by: str | None = None,
    ) -> Message:
        """Cancel a QUEUED message. With ``created_by``, only a message it queued: another's
        is not_found, as if it did not exist (the REST API's keys without admin)."""
        # Free text the caller gives for the record: cut to the column, as sms_api.cancel does
        # (substr), never splitting a character.
        reason = column_sizes.fit("sms_outbound", "status_reason", reason)
        with self.dialect.transaction("cancel") as tx:
            row = tx.row(queries.GET_MESSAGE, {"id": message_id})
            if row is None or (created_by is not None and row["created_by"] != created_by):
                raise errors.NotFoundError(message_id)
            if tx.execute(queries.CANCEL, {"id": message_id, "reason": reason, "now": now}) == 0:
                raise errors.NotCancelableError(message_id, row["status"])
            self._event(tx, message_id, Status.CANCELED, source, now, detail=reason)
            updated = tx.row(queries.GET_MESSAGE, {"id": message_id})
        assert updated is not None
        return message_from_row(updated)

    def get(self, message_id: int, *, created_by: str | None = None) -> Message | None:
        """The message; with ``created_by``, only if it queued it (else None)."""
        sql, params = queries.GET_MESSAGE, dict[str, Any](id=message_id)
        if created_by is not None:
            sql += " AND created_by = :created_by"
            params["created_by"] = created_by
        with self.dialect.transaction("get", write=False) as tx:
            row = tx.row(sql, params)
        return None if row is None else message_from_row(row)

    def get_by_sid(self, provider_sid: str) -> Message | None:
        with self.dialect.transaction("get", write=False) as tx:
            row = tx.row(queries.GET_MESSAGE_BY_SID, {"sid": provider_sid})
        return None if row is None else message_from_row(row)

    def events(self, message_id: int) -> list[Event]:
        with self.dialect.transaction("events", write=False) as tx:
            return [
                event_from_row(r) for r in tx.rows(queries.LIST_EVENTS, {"outbound_id": message_id})
            ]

    def list_messages(self, filters: MessageFilter, limit: int = 25, offset: int = 0) -> Page:
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_PAGE} and offset >= 0")
        where, params = _where(filters)
        sql = f"SELECT * FROM sms_outbound{where} ORDER BY id DESC {self.dialect.page_clause}"
        with self.dialect.transaction("list", write=False) as tx:
            rows = tx.rows(sql, {**params, "limit": limit + 1, "offset": offset})
        return Page(
            items=[message_from_row(r) for r in rows[:limit]],
            limit=limit,
            offset=offset,
            has_more=len(rows) > limit,
        )

    def any_ready(self, now: datetime) -> bool:
        """The idle probe: reads only the (status, next_attempt_at) index."""
        with self.dialect.transaction("probe", write=False) as tx:
            return bool(tx.scalar(self.dialect.any_ready_sql, {"now": now}))

    def queue_depth(self, now: datetime) -> tuple[int, int]:
        """(queued, of which due now): the worker's minute summary shows both."""
        with self.dialect.transaction("probe", write=False) as tx:
            row = tx.row(queries.QUEUE_DEPTH, {"now": now})
        return (0, 0) if row is None else (int(row["queued"] or 0), int(row["due"] or 0))

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
        return sorted((message_from_row(r) for r in rows), key=lambda m: (m.priority, m.id))

    def errors_since(self, since: datetime, until: datetime) -> list[Message]:
        """Messages that ended in an error state in [since, until), for the error digest."""
        with self.dialect.transaction("digest", write=False) as tx:
            return [
                message_from_row(r)
                for r in tx.rows(queries.ERRORS_SINCE, {"since": since, "until": until})
            ]

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

    def counts(self, *, created_by: str | None = None) -> list[StatusCount]:
        """Messages by sender and status; with ``created_by``, only those it queued."""
        sql, params = queries.COUNTS_BY_STATUS_AND_SENDER, dict[str, Any]()
        if created_by is not None:
            sql, params = _COUNTS_BY_CREATOR, {"created_by": created_by}
        with self.dialect.transaction("report", write=False) as tx:
            return [
                StatusCount(str(r["sender_code"]), str(r["status"]), int(r["n"]))
                for r in tx.rows(sql, params)
            ]

    # -- jobs that run once for all workers ----------------------------------------------

    def take_job_run(
        self,
        job: str,
        now: datetime,
        every: timedelta,
        worker: str,
        *,
        first_since: datetime | None = None,
    ) -> datetime | None:
        """If ``job`` is due (its last run, by any worker, is about ``every`` ago or older),
        take it and return when it last ran: the start of the window it covers. None: another
        worker ran it (or is running it). The first run ever covers one interval, or starts at
        ``first_since`` when given (the opt-out sync's look-back)."""
        with self.dialect.transaction("jobs") as tx:
            self.dialect.ensure_job_run(tx, job, first_since or now - every)
            last = tx.scalar(queries.GET_JOB_RUN, {"job": job})
            # 10% slack: schedulers on several hosts fire a little apart.
            if last is None or last > now - every * 0.9:
                return None
            taken = tx.execute(
                queries.TAKE_JOB_RUN, {"job": job, "now": now, "seen": last, "worker": worker}
            )
        return last if taken == 1 else None

    def give_back_job_run(self, job: str, since: datetime, now: datetime) -> None:
        """The run taken at ``now`` could not do its work (mail down): the next run covers its
        window too."""
        with self.dialect.transaction("jobs") as tx:
            tx.execute(
                queries.TAKE_JOB_RUN, {"job": job, "now": since, "seen": now, "worker": None}
            )

    # -- inbound and opt-outs ------------------------------------------------------------

    def insert_inbound(self, record: InboundRecord, now: datetime) -> tuple[int, bool]:
        """Store a reply once per MessageSid (Twilio retries webhooks); (id, inserted)."""
        params: dict[str, Any] = dataclasses.asdict(record)
        params["received_at"] = now
        column_sizes.check("sms_inbound", params)
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
        params = {
            "phone_number": phone_number,
            "scope": scope,
            "state": "OPTED_OUT" if opted_out else "OPTED_IN",
            "keyword": keyword,
            "source": source,
            "changed_at": now,
        }
        column_sizes.check("sms_optouts", params)
        with self.dialect.transaction("optout") as tx:
            self.dialect.upsert_optout(tx, params)

    def get_optout(self, phone_number: str, scope: str) -> Row | None:
        """The sms_optouts row of this number and scope exactly (state, keyword, source,
        changed_at), or None."""
        with self.dialect.transaction("optout", write=False) as tx:
            return tx.row(_GET_OPTOUT, {"phone_number": phone_number, "scope": scope})

    def sync_moves_since(self, since: datetime, until: datetime) -> list[Row]:
        """Status changes the sync job applied in [since, until) (sms_events source 'sync'),
        with the message's sender and number, for the error digest; oldest first."""
        with self.dialect.transaction("digest", write=False) as tx:
            return tx.rows(_SYNC_MOVES, {"since": since, "until": until})

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


_GET_OPTOUT = """
SELECT phone_number, scope, state, keyword, source, changed_at FROM sms_optouts
 WHERE phone_number = :phone_number AND scope = :scope
"""

_SYNC_MOVES = """
SELECT e.outbound_id, e.event_at, e.status, e.provider_status, e.error_code,
       o.sender_code, o.to_number
  FROM sms_events e JOIN sms_outbound o ON o.id = e.outbound_id
 WHERE e.source = 'sync' AND e.applied = 'Y' AND e.event_at >= :since AND e.event_at < :until
 ORDER BY e.event_at, e.id
"""

# COUNTS_BY_STATUS_AND_SENDER of one creator (GET /stats for a key without admin).
_COUNTS_BY_CREATOR = """
SELECT sender_code, status, COUNT(*) AS n
  FROM sms_outbound
 WHERE created_by = :created_by
 GROUP BY sender_code, status
 ORDER BY sender_code, status
"""

_FILTER_COLUMNS = (
    "recipient_type",
    "recipient_id",
    "status",
    "sender_code",
    "reference",
    "created_by",
    "source_system",
    "correlation_key",
)


def _where(filters: MessageFilter) -> tuple[str, dict[str, Any]]:
    return where_equal(filters, _FILTER_COLUMNS)
