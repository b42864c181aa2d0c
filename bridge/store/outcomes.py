"""The Store's outcome operations: what happened to a claimed message, recorded forward-only.

Submitted batches, status changes from callbacks and the sync job, retries, final states,
unknown outcomes and their reconciliation (design §4). Mixed into ``Store``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from bridge.domain.column_sizes import check, fit
from bridge.domain.models import Message, SubmitResult
from bridge.domain.statuses import FINAL_STATUSES, Status, rank
from bridge.store import queries
from bridge.store.dialect import ids_in
from bridge.store.rows import StoreBase, event_row, message_from_row

# Past this, a row still SENT will not hear from its carrier (some never send delivery
# reports); Twilio keeps its status, the sync job stops asking. SUBMITTED rows are always asked.
SYNC_MAX_AGE = timedelta(days=3)


OUT = "sms_outbound"


class StatusRecord(NamedTuple):
    """What ``record_status`` did: the row as it is now, whether it moved, and whether the
    callback key was already recorded (then nothing was written)."""

    message: Message | None
    applied: bool
    duplicate: bool = False


class _DuplicateCallback(Exception):
    """Rolls back a status transaction whose callback key is already in sms_events."""

    def __init__(self, message_id: int) -> None:
        super().__init__(message_id)
        self.message_id = message_id


class OutcomeStoreMixin(StoreBase):
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
        callback_key: str | None = None,
    ) -> StatusRecord:
        """Append an event and move the row forward only; returns (row, applied, duplicate).

        The row is found by SID, else by id (a callback for a row that missed its SID carries
        our id in its URL: the SID is then healed onto the row). ``callback_key`` (status
        callbacks only) is unique in sms_events: a key already recorded writes nothing, and
        moves nothing, and is reported as a duplicate.
        """
        allowed = [s.value for s in Status if s not in FINAL_STATUSES and rank(s) < rank(status)]
        check("sms_events", {"callback_key": callback_key})  # before binding: at most 100 bytes
        try:
            return self._record_status(
                now=now,
                status=status,
                allowed=allowed,
                source=source,
                message_id=message_id,
                provider_sid=provider_sid,
                provider_status=provider_status,
                error_code=error_code,
                error_message=error_message,
                detail=detail,
                callback_key=callback_key,
            )
        except _DuplicateCallback as duplicate:
            with self.dialect.transaction("status", write=False) as tx:
                found = tx.row(queries.GET_MESSAGE, {"id": duplicate.message_id})
            return StatusRecord(None if found is None else message_from_row(found), False, True)

    def _record_status(
        self,
        *,
        now: datetime,
        status: Status,
        allowed: list[str],
        source: str,
        message_id: int | None,
        provider_sid: str | None,
        provider_status: str | None,
        error_code: int | None,
        error_message: str | None,
        detail: str | None,
        callback_key: str | None,
    ) -> StatusRecord:
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
                return StatusRecord(None, False)
            in_list, binds = ids_in(allowed, "s") if allowed else ("NULL", {})
            applied = (
                allowed != []
                and tx.execute(
                    queries.MOVE_STATUS.format(allowed=in_list),
                    {
                        **binds,
                        "id": row["id"],
                        "status": status.value,
                        # Provider texts are Twilio's: cut to the column, never refused.
                        "provider_status": fit(OUT, "provider_status", provider_status),
                        "error_code": error_code,
                        "error_message": fit(OUT, "error_message", error_message),
                        "provider_sid": provider_sid,
                        "final_at": now if status in FINAL_STATUSES else None,
                        "now": now,
                    },
                )
                == 1
            )
            event = event_row(
                int(row["id"]),
                status,
                source,
                now,
                provider_status=provider_status,
                error_code=error_code,
                applied=applied,
                detail=detail,
            )
            if callback_key is None:
                tx.execute(queries.INSERT_EVENT, event)
            elif not self.dialect.insert_callback_event(
                tx,
                {**event, "callback_key": callback_key},  # the key: checked by record_status
            ):
                raise _DuplicateCallback(int(row["id"]))  # undoes the move above
            updated = tx.row(queries.GET_MESSAGE, {"id": row["id"]})
        return StatusRecord(None if updated is None else message_from_row(updated), applied)

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
                        "reason": fit(OUT, "status_reason", reason),
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

    def release(
        self,
        message_ids: Sequence[int],
        now: datetime,
        *,
        worker: str,
        reason: str = "claim released at shutdown",
    ) -> int:
        """Give unsent claims of ``worker`` back (graceful shutdown, a busy send gate): the
        attempt does not count. A claim recovery took over meanwhile is not this worker's to
        give back (it may be mid-reconciliation): left alone."""
        released = 0
        with self.dialect.transaction("release") as tx:
            for message_id in message_ids:
                params = {"id": message_id, "now": now, "worker": worker}
                if tx.execute(queries.RELEASE_CLAIM, params) == 1:
                    released += 1
                    self._event(tx, message_id, Status.QUEUED, "bridge", now, detail=reason)
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
                        "reason": fit(OUT, "status_reason", reason),
                        "error_code": error_code,
                        "error_message": fit(OUT, "error_message", error_message),
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

    def expired_leases(self, now: datetime) -> list[Message]:
        with self.dialect.transaction("recovery", write=False) as tx:
            return [message_from_row(r) for r in tx.rows(queries.EXPIRED_LEASES, {"now": now})]

    def stale_submissions(
        self, before: datetime, *, limit: int = 500, max_age: timedelta = SYNC_MAX_AGE
    ) -> list[Message]:
        """SUBMITTED/SENT rows submitted before ``before``, least recently checked first; SENT
        ones only within ``max_age`` (past that the carrier will not report any more)."""
        sql = f"{queries.STALE_SUBMISSIONS} {self.dialect.page_clause}"
        params = {"before": before, "give_up": before - max_age, "limit": limit, "offset": 0}
        with self.dialect.transaction("sync", write=False) as tx:
            return [message_from_row(r) for r in tx.rows(sql, params)]

    def mark_synced(self, message_ids: Sequence[int], now: datetime) -> None:
        """The sync job asked Twilio about these and learned nothing new: check them last."""
        if message_ids:
            with self.dialect.transaction("sync") as tx:
                tx.executemany(queries.TOUCH_SYNCED, [{"id": i, "now": now} for i in message_ids])
