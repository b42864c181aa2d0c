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


# Apache Fineract's SMS status enum (Pending / Sent / Delivered / Declined, its outbound SMS
# spec): what a Fineract client reads beside ours. Declined is every final status that is not
# a delivery, whether Twilio, the carrier or the bridge (opt-out, bad number, expiry, cancel)
# stopped it.
FINERACT_STATUS: dict[Status, str] = {
    Status.QUEUED: "pending",
    Status.SENDING: "pending",
    Status.SUBMITTED: "sent",
    Status.SENT: "sent",
    Status.DELIVERED: "delivered",
    Status.UNDELIVERED: "declined",
    Status.FAILED: "declined",
    Status.SUPPRESSED: "declined",
    Status.INVALID: "declined",
    Status.EXPIRED: "declined",
    Status.CANCELED: "declined",
}
FINERACT_STATUSES = ("pending", "sent", "delivered", "declined")


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


# Twilio's "Message Delivery - Validity Period Expired": the message waited in Twilio's queue
# past its ValidityPeriod and was never sent. Its purpose has passed: ours is EXPIRED.
VALIDITY_EXPIRED = 30036


def from_provider(provider_status: str, error_code: int | None = None) -> Status | None:
    status = PROVIDER_STATUS_MAP.get(provider_status.strip().lower())
    if error_code == VALIDITY_EXPIRED and status in (Status.FAILED, Status.UNDELIVERED):
        return Status.EXPIRED
    return status
