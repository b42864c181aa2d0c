"""Message statuses and the forward-only rule (pure: no I/O).

Callbacks arrive out of order (a ``sent`` after ``delivered`` is normal), so a status may only
replace one of lower rank; everything else is recorded as an event and left alone.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SUBMITTED = "SUBMITTED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    UNDELIVERED = "UNDELIVERED"
    FAILED = "FAILED"
    SUPPRESSED = "SUPPRESSED"
    INVALID = "INVALID"
    EXPIRED = "EXPIRED"
    CANCELED = "CANCELED"


FINAL_STATUSES = frozenset(
    {
        Status.DELIVERED,
        Status.UNDELIVERED,
        Status.FAILED,
        Status.SUPPRESSED,
        Status.INVALID,
        Status.EXPIRED,
        Status.CANCELED,
    }
)

# Rank along the delivery path. Final statuses share the top rank: once final, nothing moves.
_RANK = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SUBMITTED: 2,
    Status.SENT: 3,
}
_FINAL_RANK = 9

# Twilio's MessageStatus values mapped to ours. "sending" is still at Twilio, so SUBMITTED.
PROVIDER_STATUS_MAP: dict[str, Status] = {
    "accepted": Status.SUBMITTED,
    "scheduled": Status.SUBMITTED,
    "queued": Status.SUBMITTED,
    "sending": Status.SUBMITTED,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELED,
    "read": Status.DELIVERED,
}


def rank(status: Status) -> int:
    return _FINAL_RANK if status in FINAL_STATUSES else _RANK[status]


def is_final(status: Status | str) -> bool:
    return Status(status) in FINAL_STATUSES


def moves_forward(current: Status | str, new: Status | str) -> bool:
    """True when ``new`` may replace ``current`` (strictly later, and current not final)."""
    current, new = Status(current), Status(new)
    if current in FINAL_STATUSES:
        return False
    return rank(new) > rank(current)


def from_provider(provider_status: str) -> Status | None:
    return PROVIDER_STATUS_MAP.get(provider_status.strip().lower())
