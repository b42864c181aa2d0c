"""Store operations for retention: the purge of old final messages and processed replies.

A mixin of :class:`bridge.store.Store`. What a purged row looks like is decided in
:mod:`bridge.domain.retention`; this module finds the rows and writes them, in chunks of
``chunk`` rows, one transaction (committed) each, so a purge never holds many locks for long,
and a purge stopped half way (a crash, a shutdown) resumes where it stopped: a purged row has
``purged_at`` set and no predicate here selects it again. Rows are walked by id (keyset:
``id > :after``), the primary key's order, read through sms_outbound_purge_ix (purged_at,
final_at) and sms_inbound_purge_ix: only the unpurged rows past the cut-off are read, never the
rows earlier runs purged; a dry run walks the same predicates in read transactions and counts
what the real run would change, row by row with the same functions.

Both engines run the same SQL (the page clause is the dialect's). Oracle: no FOR UPDATE (a
final row never changes again, and the updates repeat the predicates), the cut-offs bound as
TIMESTAMP by the dialect, ``body`` as national text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.domain import column_sizes
from bridge.domain.retention import (
    PURGEABLE_MESSAGE_STATUSES,
    PURGEABLE_REPLY_STATUSES,
    PurgeResult,
    purged_event_detail,
    purged_message,
    purged_reply,
)
from bridge.store.dialect import Row, Tx, ids_in
from bridge.store.rows import StoreBase

PURGE_CHUNK = 500  # rows per transaction; at most 1000 (one Oracle IN list of event ids)

_FINAL = ", ".join(f"'{s}'" for s in PURGEABLE_MESSAGE_STATUSES)
_DONE = ", ".join(f"'{s}'" for s in PURGEABLE_REPLY_STATUSES)

# Final before the cut-off and not purged yet. final_at is set by every final transition.
MESSAGES_TO_PURGE = f"""
SELECT id, to_number, status_reason, error_message FROM sms_outbound
 WHERE status IN ({_FINAL}) AND final_at < :cutoff AND purged_at IS NULL AND id > :after
 ORDER BY id
"""

PURGE_MESSAGE = f"""
UPDATE sms_outbound
   SET body = :body, to_number = :to_number, status_reason = :status_reason,
       error_message = :error_message, purged_at = :now
 WHERE id = :id AND purged_at IS NULL AND status IN ({_FINAL})
"""

EVENT_DETAILS = """
SELECT id, detail FROM sms_events WHERE outbound_id IN ({ids}) AND detail IS NOT NULL
"""

MASK_EVENT_DETAIL = "UPDATE sms_events SET detail = :detail WHERE id = :id"

# Handled (PROCESSED, IGNORED) before the cut-off and not purged yet; NEW and ERROR never.
REPLIES_TO_PURGE = f"""
SELECT id, from_number, error_message FROM sms_inbound
 WHERE status IN ({_DONE}) AND processed_at < :cutoff AND purged_at IS NULL AND id > :after
 ORDER BY id
"""

PURGE_REPLY = f"""
UPDATE sms_inbound
   SET body = :body, from_number = :from_number, error_message = :error_message,
       raw_payload = NULL, purged_at = :now
 WHERE id = :id AND purged_at IS NULL AND status IN ({_DONE})
"""


class RetentionStoreMixin(StoreBase):
    def purge(
        self,
        now: datetime,
        *,
        outbound_before: datetime,
        inbound_before: datetime,
        chunk: int = PURGE_CHUNK,
        dry_run: bool = False,
    ) -> PurgeResult:
        """Purge (``dry_run``: count) the messages final before ``outbound_before``, their
        events, and the replies processed before ``inbound_before``; ``now`` is the purge's
        stamp (``purged_at``). Commits every ``chunk`` rows."""
        if not 1 <= chunk <= 1000:
            raise ValueError(f"chunk must be 1..1000 rows, not {chunk}")
        messages = events = replies = 0
        after = 0
        while True:
            done, changed, after = self._purge_messages(now, outbound_before, after, chunk, dry_run)
            messages, events = messages + done, events + changed
            if after < 0:
                break
        after = 0
        while True:
            done, after = self._purge_replies(now, inbound_before, after, chunk, dry_run)
            replies += done
            if after < 0:
                break
        return PurgeResult(
            outbound_cutoff=outbound_before,
            inbound_cutoff=inbound_before,
            messages=messages,
            events=events,
            replies=replies,
            dry_run=dry_run,
        )

    def _page(self, tx: Tx, sql: str, cutoff: datetime, after: int, chunk: int) -> list[Row]:
        return tx.rows(
            f"{sql} {self.dialect.page_clause}",
            {"cutoff": cutoff, "after": after, "limit": chunk, "offset": 0},
        )

    def _purge_messages(
        self, now: datetime, cutoff: datetime, after: int, chunk: int, dry_run: bool
    ) -> tuple[int, int, int]:
        """One chunk: (messages, event details changed, the last id; -1 when it was the last
        chunk)."""
        with self.dialect.transaction("purge", write=not dry_run) as tx:
            rows = self._page(tx, MESSAGES_TO_PURGE, cutoff, after, chunk)
            if not rows:
                return 0, 0, -1
            updates = [_fit("sms_outbound", purged_message(r)) for r in rows]
            in_list, binds = ids_in([r["id"] for r in rows])
            details = tx.rows(EVENT_DETAILS.format(ids=in_list), binds)
            masked: list[dict[str, Any]] = []
            for event in details:
                detail = column_sizes.fit(
                    "sms_events", "detail", purged_event_detail(event["detail"])
                )
                if detail != event["detail"]:
                    masked.append({"id": event["id"], "detail": detail})
            if dry_run:
                done, changed = len(updates), len(masked)
            else:
                done = tx.executemany(PURGE_MESSAGE, [{**u, "now": now} for u in updates])
                changed = tx.executemany(MASK_EVENT_DETAIL, masked)
        last = int(rows[-1]["id"])
        return done, changed, (last if len(rows) == chunk else -1)

    def _purge_replies(
        self, now: datetime, cutoff: datetime, after: int, chunk: int, dry_run: bool
    ) -> tuple[int, int]:
        """One chunk: (replies, the last id; -1 when it was the last chunk)."""
        with self.dialect.transaction("purge", write=not dry_run) as tx:
            rows = self._page(tx, REPLIES_TO_PURGE, cutoff, after, chunk)
            if not rows:
                return 0, -1
            updates = [_fit("sms_inbound", purged_reply(r)) for r in rows]
            if dry_run:
                done = len(updates)
            else:
                done = tx.executemany(PURGE_REPLY, [{**u, "now": now} for u in updates])
        last = int(rows[-1]["id"])
        return done, (last if len(rows) == chunk else -1)


def _fit(table: str, values: dict[str, object]) -> dict[str, Any]:
    """Texts the purge writes cut to their columns (a mask is never longer than the text it
    masks; this only makes sure), never splitting a character."""
    return {
        name: column_sizes.fit(table, name, value)
        if isinstance(value, str) and name in column_sizes.COLUMNS[table]
        else value
        for name, value in values.items()
    }
