"""Batches: opening one, queuing many items into it, and its summary. Mixed into ``Store``.

The items of a batch are queued as ``sms_api.enqueue`` queues one (Oracle: the package itself,
one executemany per chunk; SQLite: the same checks in Python), each with its own answer: an id,
or the named error that refused it, nothing of it written. The batch's ``rejected`` count
grows in the same transaction, so the summary's ``attempted`` is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from bridge import errors
from bridge.domain import column_sizes, enqueue_rules
from bridge.domain.batches import SOURCES, BatchSummary, StatusCount, summarize
from bridge.domain.models import EnqueueRequest
from bridge.domain.statuses import Status
from bridge.store import queries
from bridge.store.dialect import chunks, ids_in
from bridge.store.rows import StoreBase

# Items per transaction: a CSV of 10,000 lines is queued in chunks this size, so a lock is
# never held for the whole file and a failure leaves whole chunks behind it.
CHUNK = 500

ItemResult = int | errors.BridgeError


class BatchStoreMixin(StoreBase):
    def create_batch(
        self,
        source: str,
        now: datetime,
        *,
        label: str | None = None,
        created_by: str | None = None,
    ) -> int:
        if source not in SOURCES:
            raise errors.BadBatchSourceError(source)  # as sms_api.begin_batch
        column_sizes.check("sms_batches", {"label": label, "created_by": created_by})
        with self.dialect.transaction("batch") as tx:
            return self.dialect.begin_batch(tx, source, label, created_by, now)

    def enqueue_many(
        self,
        requests: Sequence[EnqueueRequest],
        now: datetime,
        *,
        batch_id: int | None = None,
        rejected_before: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> list[ItemResult]:
        """Queue each request (into ``batch_id`` when given): one answer per request, in order.

        ``rejected_before`` counts items the caller refused itself (a malformed line or item)
        into the batch's ``rejected``, in the same transaction as the first chunk.
        ``progress`` is told how many requests are done after each chunk's commit.
        """
        results: list[ItemResult] = []
        extra = rejected_before
        first_with_key: dict[tuple[str, str], int] = {}
        for start in range(0, max(len(requests), 1), CHUNK):
            chunk = [
                r if batch_id is None else _with_batch(r, batch_id)
                for r in requests[start : start + CHUNK]
            ]
            answers: list[ItemResult | None] = []
            sendable: list[EnqueueRequest] = []
            for position, request in enumerate(chunk, start):
                try:
                    # Sizes before binding, as Store.enqueue does (Oracle would say ORA-12899).
                    enqueue_rules.check_lengths(request)
                    _check_key_once(request, position, first_with_key)
                except (errors.SmsError, errors.RepeatedKeyError) as exc:
                    answers.append(exc)
                    continue
                answers.append(None)
                sendable.append(request)
            with self.dialect.transaction("enqueue") as tx:
                queued = iter(self.dialect.enqueue_many(tx, sendable, now))
                filled = [a if a is not None else next(queued) for a in answers]
                refused = sum(1 for a in filled if not isinstance(a, int)) + extra
                if batch_id is not None and refused:
                    tx.execute(queries.ADD_BATCH_REJECTED, {"id": batch_id, "n": refused})
            extra = 0
            results.extend(filled)
            if progress is not None:
                progress(len(results))
        return results

    def batch_for(
        self,
        requests: Sequence[EnqueueRequest],
        now: datetime,
        *,
        source: str,
        rejected_before: int = 0,
        label: str | None = None,
        created_by: str | None = None,
    ) -> int:
        """The batch a call's items go into: the one that already holds every one of them (a
        retry, with nothing refused to count), else a new one."""
        earlier = None if rejected_before else self.batch_of_earlier(requests)
        if earlier is not None:
            return earlier
        return self.create_batch(source, now, label=label, created_by=created_by)

    def found_statuses(
        self, requests: Sequence[EnqueueRequest], answers: Sequence[ItemResult]
    ) -> dict[int, Status]:
        """The status of each row a keyed item was answered with (it may be a row queued
        before, long delivered); a new row is QUEUED, so unkeyed items are not read."""
        keyed = [a for r, a in zip(requests, answers, strict=True) if r.correlation_key]
        return self.statuses_of([a for a in keyed if isinstance(a, int)])

    def batch_of_earlier(self, requests: Sequence[EnqueueRequest]) -> int | None:
        """The batch that already holds every one of ``requests``, found by correlation key:
        a retried call whose items were all queued before by one batch is answered from it
        instead of opening a second, empty batch. None when any item has no key, no row yet,
        or the rows are in no batch or in several."""
        keys: dict[str, set[str]] = {}
        for request in requests:
            if request.source_system is None or not request.correlation_key:
                return None
            keys.setdefault(request.source_system, set()).add(request.correlation_key)
        if not keys:
            return None
        found: set[int | None] = set()
        rows = 0
        with self.dialect.transaction("batch", write=False) as tx:
            for source_system, wanted in keys.items():
                for part in chunks(sorted(wanted), CHUNK):
                    in_list, binds = ids_in(part, "key")
                    for row in tx.rows(
                        queries.BATCH_OF_KEYS.format(keys=in_list),
                        {"source_system": source_system, **binds},
                    ):
                        rows += 1
                        found.add(None if row["batch_id"] is None else int(row["batch_id"]))
                    if len(found) > 1 or None in found:
                        return None
        expected = sum(len(wanted) for wanted in keys.values())
        if expected != len(requests):
            return None  # a key repeated: its refusal is counted in a batch of this call
        return found.pop() if rows == expected and len(found) == 1 else None

    def statuses_of(self, ids: Sequence[int]) -> dict[int, Status]:
        """The status of each message (one query per 500 ids): what a batch answers for an
        item whose correlation key found a row queued before, which may be long delivered."""
        found: dict[int, Status] = {}
        with self.dialect.transaction("batch", write=False) as tx:
            for part in chunks(list(ids), CHUNK):
                in_list, binds = ids_in(part)
                for row in tx.rows(queries.STATUSES_OF.format(ids=in_list), binds):
                    found[int(row["id"])] = Status(str(row["status"]))
        return found

    def batch_summary(self, batch_id: int) -> BatchSummary | None:
        with self.dialect.transaction("batch", write=False) as tx:
            batch = tx.row(queries.GET_BATCH, {"id": batch_id})
            if batch is None:
                return None
            groups = [
                StatusCount(
                    Status(str(r["status"])),
                    bool(int(r["duplicate"])),
                    bool(int(r["has_sid"])),
                    int(r["n"]),
                )
                for r in tx.rows(queries.BATCH_STATUS_COUNTS, {"id": batch_id})
            ]
        return summarize(
            batch_id,
            source=str(batch["source"]),
            created_at=batch["created_at"],
            rejected=int(batch["rejected"]),
            groups=groups,
            label=batch.get("label"),
            created_by=batch.get("created_by"),
        )


def _check_key_once(
    request: EnqueueRequest, position: int, first_with_key: dict[tuple[str, str], int]
) -> None:
    """One message per correlation key within a call: a second item with the key would be
    answered with the first's id (the key is idempotent) and its own message lost."""
    if request.source_system is None or not request.correlation_key:
        return
    key = (request.source_system, request.correlation_key)
    first = first_with_key.setdefault(key, position)
    if first != position:
        raise errors.RepeatedKeyError(request.correlation_key, first)


def _with_batch(request: EnqueueRequest, batch_id: int) -> EnqueueRequest:
    return replace(request, batch_id=batch_id)
