"""Preparing a claimed message: number, opt-out, expiry, quiet hours, segments.

Pure except for the two look-ups passed in (recipient and opt-out), so the rules are tested
table-driven without a database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bridge.domain import phone, policy, segments
from bridge.domain.models import Message, Recipient, Sender
from bridge.domain.statuses import Status


@dataclass(frozen=True)
class Send:
    to: str
    segments: int
    encoding: str


@dataclass(frozen=True)
class Finish:
    status: Status
    reason: str
    to: str | None = None
    segments: int | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str


Decision = Send | Finish | Defer


def prepare(
    message: Message,
    sender: Sender,
    recipient: Recipient | None,
    now: datetime,
    *,
    default_region: str,
    is_opted_out: Callable[[str, str | None], bool],
) -> Decision:
    info = segments.count(message.body)
    if policy.is_expired(now, message.expires_at):
        return Finish(Status.EXPIRED, "validity window passed before it could be sent")
    if message.recipient_type is not None:
        if recipient is None:
            return Finish(Status.INVALID, "recipient no longer in sms_recipients_v")
        raw = recipient.mobile_number
    else:
        raw = message.to_number
    number = phone.normalize(raw, default_region)
    if isinstance(number, phone.Rejected):
        return Finish(Status.INVALID, number.reason, to=raw)
    if is_opted_out(number.e164, sender.optout_scope):
        return Finish(
            Status.SUPPRESSED,
            "recipient opted out",
            to=number.e164,
            segments=info.segments,
            encoding=info.encoding,
        )
    if message.priority > 1:  # urgent messages ignore quiet hours
        zone = policy.zone_for(
            recipient.time_zone if recipient else None, number.time_zones, sender.default_time_zone
        )
        until = policy.quiet_until(now, zone, sender.quiet_start, sender.quiet_end)
        if until is not None:
            return Defer(until, f"quiet hours in {zone.key} until {until:%Y-%m-%d %H:%M}Z")
    return Send(to=number.e164, segments=info.segments, encoding=info.encoding)
