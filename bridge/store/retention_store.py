"""Store operations for retention: the purge of old final messages and processed replies.

A mixin of :class:`bridge.store.Store`. What a purged row looks like is decided in
:mod:`bridge.domain.retention`; this module finds the rows and writes them, in chunks of
``chunk`` rows, one transaction (committed) each, so a purge never holds many locks for long,
and a purge stopped half way (a crash, a shutdown) resumes where it stopped: a purged row has
``purged_at`` set and no predicate here selects it again. Rows are walked in the order of
sms_outbound_purge_ix (purged_at, final_at, id) and sms_inbound_purge_ix (keyset: past the
last (final_at, id) read), so each page reads only its own rows, in index order, never the
rows earlier runs purged nor the pages before it. A dry run walks the same predicates in read
transactions and counts what the real run would change, row by row with the same functions.

Both engines run the same SQL (the page clause is the dialect's). Oracle: no FOR UPDATE (a
final row never changes again, and the updates repeat the predicates), the cut-offs bound as
TIMESTAMP by the dialect, ``body`` as national text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.domain import column_sizes, line_types
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


# Rows to purge, walked in the order of their table's purge index (purged_at, <column>, id):
# each page after the first continues past the last (<column>, id) of the one before (the >=
# bound is the index range's start; the OR only filters the rows of that one instant), so it
# reads only its own rows, in index order with no sort, however long the backlog (a dry run
# never shrinks it).
def _walk(table: str, column: str, selected: str, statuses: str, *, after: bool) -> str:
    keyset = f"AND {column} >= :after_at AND ({column} > :after_at OR id > :after_id)"
    return f"""
SELECT id, {column}, {selected} FROM {table}
 WHERE purged_at IS NULL AND {column} < :cutoff {keyset if after else ""}
   AND status IN ({statuses})
 ORDER BY {column}, id
"""


# Final before the cut-off and not purged yet (final_at is set by every final transition).
MESSAGES_TO_PURGE, MESSAGES_TO_PURGE_AFTER = (
    _walk("sms_outbound", "final_at", "to_number, status_reason, error_message", _FINAL, after=a)
    for a in (False, True)
)

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
REPLIES_TO_PURGE, REPLIES_TO_PURGE_AFTER = (
    _walk("sms_inbound", "processed_at", "from_number, error_message", _DONE, after=a)
    for a in (False, True)
)

# Line-type answers past their TTL (bridge.domain.line_types): asked again before they are
# used, so a row that old only keeps a number. Deleted a page at a time; the DELETE repeats the
# predicate, so an answer a worker refreshed in between stays.
EXPIRED_LOOKUPS = "SELECT phone_number FROM sms_number_lookups WHERE looked_up_at < :cutoff"
COUNT_EXPIRED_LOOKUPS = "SELECT COUNT(*) AS n FROM sms_number_lookups WHERE looked_up_at < :cutoff"
DELETE_LOOKUPS = """
DELETE FROM sms_number_lookups WHERE phone_number IN ({numbers}) AND looked_up_at < :cutoff
"""

# Where a page starts: past this (final_at or processed_at, id). None passed in: the first page;
# None given back: there is no next page.
Position = tuple[Any, int] | None

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
        lookups_before: datetime | None = None,
        chunk: int = PURGE_CHUNK,
        dry_run: bool = False,
    ) -> PurgeResult:
        """Purge (``dry_run``: count) the messages final before ``outbound_before``, their
        events, and the replies processed before ``inbound_before``; ``now`` is the purge's
        stamp (``purged_at``); and the line-type answers older than ``lookups_before``
        (default: the TTL before ``now``). Commits every ``chunk`` rows."""
        if not 1 <= chunk <= 1000:
            raise ValueError(f"chunk must be 1..1000 rows, not {chunk}")
        messages = events = replies = 0
        after: Position = None
        while True:
            done, changed, after = self._purge_messages(now, outbound_before, after, chunk, dry_run)
            messages, events = messages + done, events + changed
            if after is None:
                break
        after = None
        while True:
            done, after = self._purge_replies(now, inbound_before, after, chunk, dry_run)
            replies += done
            if after is None:
                break
        expired = lookups_before or now - line_types.DEFAULT_TTL
        return PurgeResult(
            outbound_cutoff=outbound_before,
            inbound_cutoff=inbound_before,
            messages=messages,
            events=events,
            replies=replies,
            dry_run=dry_run,
            lookups=self._delete_expired_lookups(expired, chunk, dry_run),
        )

    def _delete_expired_lookups(self, cutoff: datetime, chunk: int, dry_run: bool) -> int:
        if dry_run:
            with self.dialect.transaction("purge", write=False) as tx:
                return int(tx.scalar(COUNT_EXPIRED_LOOKUPS, {"cutoff": cutoff}) or 0)
        deleted = 0
        while True:
            with self.dialect.transaction("purge") as tx:
                page = tx.rows(
                    f"{EXPIRED_LOOKUPS} {self.dialect.page_clause}",
                    {"cutoff": cutoff, "limit": chunk, "offset": 0},
                )
                if not page:
                    return deleted
                in_list, binds = ids_in([r["phone_number"] for r in page], "n")
                deleted += tx.execute(
                    DELETE_LOOKUPS.format(numbers=in_list), {"cutoff": cutoff, **binds}
                )
            if len(page) < chunk:
                return deleted

    def _page(
        self, tx: Tx, sql: tuple[str, str], cutoff: datetime, after: Position, chunk: int
    ) -> list[Row]:
        """A page of ``sql`` (its first-page and next-page texts) past ``after``."""
        params: dict[str, Any] = {"cutoff": cutoff, "limit": chunk, "offset": 0}
        if after is not None:
            params.update(after_at=after[0], after_id=after[1])
        text = sql[0] if after is None else sql[1]
        return tx.rows(f"{text} {self.dialect.page_clause}", params)

    def _purge_messages(
        self, now: datetime, cutoff: datetime, after: Position, chunk: int, dry_run: bool
    ) -> tuple[int, int, Position]:
        """One chunk: (messages, event details changed, where the next chunk starts; None
        after the last chunk)."""
        with self.dialect.transaction("purge", write=not dry_run) as tx:
            pages = (MESSAGES_TO_PURGE, MESSAGES_TO_PURGE_AFTER)
            rows = self._page(tx, pages, cutoff, after, chunk)
            if not rows:
                return 0, 0, None
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
        return done, changed, _next(rows, "final_at", chunk)

    def _purge_replies(
        self, now: datetime, cutoff: datetime, after: Position, chunk: int, dry_run: bool
    ) -> tuple[int, Position]:
        """One chunk: (replies, where the next chunk starts; None after the last chunk)."""
        with self.dialect.transaction("purge", write=not dry_run) as tx:
            pages = (REPLIES_TO_PURGE, REPLIES_TO_PURGE_AFTER)
            rows = self._page(tx, pages, cutoff, after, chunk)
            if not rows:
                return 0, None
            updates = [_fit("sms_inbound", purged_reply(r)) for r in rows]
            if dry_run:
                done = len(updates)
            else:
                done = tx.executemany(PURGE_REPLY, [{**u, "now": now} for u in updates])
        return done, _next(rows, "processed_at", chunk)


def _next(rows: list[Row], column: str, chunk: int) -> Position:
    """Where the page after ``rows`` starts: past its last row; None when it was not full."""
    if len(rows) < chunk:
        return None
    return rows[-1][column], int(rows[-1]["id"])


def _fit(table: str, values: dict[str, object]) -> dict[str, Any]:
    """Texts the purge writes cut to their columns (a mask is never longer than the text it
    masks; this only makes sure), never splitting a character."""
    return {
        name: column_sizes.fit(table, name, value)
        if isinstance(value, str) and name in column_sizes.COLUMNS[table]
        else value
        for name, value in values.items()
    }
