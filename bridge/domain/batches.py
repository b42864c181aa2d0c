"""Batches: what a PL/SQL run, a CSV import or a REST batch queued, counted (pure).

A batch row (``sms_batches``) ties its messages together through ``sms_outbound.batch_id`` and
counts the items its call refused (``rejected``: no row of theirs exists). The summary counts
each message once by where it ended:

- ``submitted``: Twilio accepted it (it has a SID), whatever happened after;
- ``delivered``: the handset's carrier confirmed it (DELIVERED);
- ``invalid``: no usable number (INVALID);
- ``unsubscribed``: the recipient had opted out (SUPPRESSED, not a duplicate);
- ``duplicate``: the sender's dedupe window held it back (SUPPRESSED with ``duplicate_of``);
- ``failed``: refused by Twilio or the carrier (FAILED, UNDELIVERED), or refused when queued
  (``rejected``);
- ``pending``: not decided yet (QUEUED, SENDING); ``expired`` and ``canceled`` as they say.

``attempted`` is every item the batch was given: its rows and its rejected items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from bridge.domain.statuses import Status

SOURCES = ("PLSQL", "CSV", "REST")
# The most items one REST call takes (POST /sms/batch); a CSV import is sent in chunks of it.
MAX_REST_ITEMS = 1000


@dataclass(frozen=True)
class StatusCount:
    """One group of a batch's messages: a status, whether the dedupe window stopped them,
    whether Twilio gave them a SID, and how many."""

    status: Status
    duplicate: bool
    has_sid: bool
    count: int


@dataclass(frozen=True)
class BatchSummary:
    id: int
    source: str
    created_at: datetime
    label: str | None = None
    created_by: str | None = None
    attempted: int = 0
    submitted: int = 0
    delivered: int = 0
    invalid: int = 0
    unsubscribed: int = 0
    duplicate: int = 0
    failed: int = 0
    rejected: int = 0
    pending: int = 0
    expired: int = 0
    canceled: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def summarize(
    batch_id: int,
    *,
    source: str,
    created_at: datetime,
    rejected: int,
    groups: Iterable[StatusCount],
    label: str | None = None,
    created_by: str | None = None,
) -> BatchSummary:
    counts = dict.fromkeys(
        (
            "submitted",
            "delivered",
            "invalid",
            "unsubscribed",
            "duplicate",
            "failed",
            "pending",
            "expired",
            "canceled",
        ),
        0,
    )
    by_status: dict[str, int] = {}
    rows = 0
    for group in groups:
        rows += group.count
        by_status[group.status.value] = by_status.get(group.status.value, 0) + group.count
        if group.has_sid:
            counts["submitted"] += group.count
        bucket = _bucket(group.status, group.duplicate)
        if bucket is not None:
            counts[bucket] += group.count
    return BatchSummary(
        id=batch_id,
        source=source,
        created_at=created_at,
        label=label,
        created_by=created_by,
        attempted=rows + rejected,
        rejected=rejected,
        by_status=dict(sorted(by_status.items())),
        failed=counts.pop("failed") + rejected,
        **counts,
    )


def _bucket(status: Status, duplicate: bool) -> str | None:
    if status is Status.SUPPRESSED:
        return "duplicate" if duplicate else "unsubscribed"
    return {
        Status.DELIVERED: "delivered",
        Status.INVALID: "invalid",
        Status.FAILED: "failed",
        Status.UNDELIVERED: "failed",
        Status.QUEUED: "pending",
        Status.SENDING: "pending",
        Status.EXPIRED: "expired",
        Status.CANCELED: "canceled",
    }.get(status)


def dedupe_reason(earlier_id: int, window_seconds: int) -> str:
    """The status reason of a message the sender's dedupe window stopped."""
    return (
        f"duplicate of #{earlier_id}: the same text went to this number within the sender's"
        f" dedupe window ({window_seconds} s)"
    )
