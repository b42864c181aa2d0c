"""Preparing a claimed message: number, opt-out, expiry, quiet hours, segments.

Pure except for the look-ups passed in (recipient, its numbers, opt-out, cached line types), so
the rules are tested table-driven without a database. A recipient's number is the first usable
one of its candidates (sms_recipient_phones_v; bridge.domain.phone_choice), else its
mobile_number in sms_recipients_v when the phones view has no row for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.domain import column_sizes, phone_choice, policy, segments
from bridge.domain.line_types import LineType
from bridge.domain.models import Message, Recipient, Sender
from bridge.domain.phone_choice import Candidate
from bridge.domain.statuses import Status


@dataclass(frozen=True)
class Send:
    to: str
    segments: int
    encoding: str
    # With several candidate numbers: which one was used and why the others were skipped
    # (masked; the worker records it as an event). Likewise on Finish and Defer.
    number_choice: str | None = None


@dataclass(frozen=True)
class Finish:
    status: Status
    reason: str
    to: str | None = None
    segments: int | None = None
    encoding: str | None = None
    number_choice: str | None = None


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str
    number_choice: str | None = None


Decision = Send | Finish | Defer


def prepare(
    message: Message,
    sender: Sender,
    recipient: Recipient | None,
    now: datetime,
    *,
    default_region: str,
    is_opted_out: Callable[[str, str | None], bool],
    candidates: Sequence[Candidate] = (),
    known_line_types: Mapping[str, LineType] | None = None,
) -> Decision:
    """``candidates``: the recipient's rows of sms_recipient_phones_v (none: its
    mobile_number); ``known_line_types``: cached Lookup answers of their numbers, for a sender
    with ``line_type_lookup`` (a fresh ``landline`` answer skips that number)."""
    info = segments.count(message.body)
    if policy.is_expired(now, message.expires_at):
        return Finish(Status.EXPIRED, "validity window passed before it could be sent")
    if message.recipient_type is not None:
        if recipient is None:
            return Finish(Status.INVALID, "recipient no longer in sms_recipients_v")
        if not candidates:
            candidates = [Candidate(recipient.mobile_number)]
    else:
        candidates = [Candidate(message.to_number)]
    choice = phone_choice.choose(
        candidates,
        default_region,
        lambda e164: is_opted_out(e164, sender.optout_scope),
        known_line_types=known_line_types,
        now=now,
    )
    note = choice.note()
    number = choice.number
    if number is None:
        if choice.opted_out:
            return Finish(
                Status.SUPPRESSED,
                "recipient opted out",
                to=choice.opted_out_e164,
                segments=info.segments,
                encoding=info.encoding,
                number_choice=note,
            )
        raw = choice.first.number if choice.first is not None else None
        return Finish(
            Status.INVALID,
            choice.invalid_reason(),
            to=column_sizes.fit("sms_outbound", "to_number", raw),
            number_choice=note,
        )
    if message.priority > 1:  # urgent messages ignore quiet hours
        zone = policy.zone_for(
            recipient.time_zone if recipient else None, number.time_zones, sender.default_time_zone
        )
        until = policy.quiet_until(now, zone, sender.quiet_start, sender.quiet_end)
        if until is not None:
            return Defer(
                until,
                f"quiet hours in {zone.key} until {until:%Y-%m-%d %H:%M}Z",
                number_choice=note,
            )
    return Send(to=number.e164, segments=info.segments, encoding=info.encoding, number_choice=note)
