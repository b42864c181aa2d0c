"""Retention: what the purge removes from old final messages and processed replies (pure).

Bodies, numbers and raw webhook payloads are personal data. Once a message has been final for
``[retention] outbound_days`` (a reply processed for ``inbound_days``), the purge
(``sms-bridge purge``, and the worker's daily job) replaces them, row by row, with what this
module computes; the store applies it in bounded chunks (``bridge/store/retention_store.py``).

What a purged row keeps: its status, segments, encoding, price, timestamps, Twilio SID, error
code, attempts, reference, recipient reference (type and id: a key of the ERP) and batch, so
reports, counts and invoices still add up. What goes:

- ``sms_outbound.body`` becomes :data:`PURGED_BODY` (the column is NOT NULL, and Oracle reads
  '' as NULL), ``to_number`` its :func:`~bridge.domain.phone.mask` (``+1415*****71``: the
  country and area for statistics, not the person; the same shape logs and the API show, so a
  purged row displays as any other, and masking it again changes nothing), and the numbers in
  ``status_reason`` and ``error_message`` are masked (Twilio quotes the number it refused);
- ``sms_events.detail`` of those messages: numbers masked, the words kept (why a status moved);
- ``sms_inbound.body`` becomes :data:`PURGED_BODY`, ``from_number`` its mask, ``raw_payload``
  NULL, the numbers in ``error_message`` masked.
- ``sms_number_lookups`` rows older than the line-type TTL (30 days) are deleted: an answer
  that old is asked again before the next send to its number anyway, so keeping it kept a
  number, and its carrier, for nothing.

Never touched: rows not final (QUEUED, SENDING, SUBMITTED, SENT), replies still NEW and ERROR
replies (an ERROR reply waits for an operator, whose Reprocess runs its handler again on the
body), and sms_optouts (the record of consent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.domain.phone import mask, mask_numbers_in
from bridge.domain.statuses import FINAL_STATUSES

PURGED_BODY = "[purged]"

# The reply statuses whose rows are purged: the handling is over. ERROR waits for a person.
PURGEABLE_REPLY_STATUSES = ("PROCESSED", "IGNORED")

# Final message statuses, in a fixed order (SQL IN lists, docs).
PURGEABLE_MESSAGE_STATUSES = tuple(sorted(s.value for s in FINAL_STATUSES))


def cutoff(now: datetime, days: int) -> datetime:
    """Rows final (processed) before this instant are purged: ``days`` before ``now``."""
    if days < 1:
        raise ValueError(f"a retention period is at least 1 day, not {days}")
    return now - timedelta(days=days)


def purged_number(number: str | None) -> str | None:
    """What a purged row keeps of a number: its mask (None stays None). Idempotent."""
    if number is None or not number.strip():
        return number
    return mask(number)


def purged_text(text: str | None) -> str | None:
    """Free text (a reason, an error, an event's detail) with every number in it masked."""
    return mask_numbers_in(text)


def purged_message(row: dict[str, object]) -> dict[str, object]:
    """The new values of an sms_outbound row (id, to_number, status_reason, error_message)."""
    return {
        "id": row["id"],
        "body": PURGED_BODY,
        "to_number": purged_number(_text(row.get("to_number"))),
        "status_reason": purged_text(_text(row.get("status_reason"))),
        "error_message": purged_text(_text(row.get("error_message"))),
    }


def purged_reply(row: dict[str, object]) -> dict[str, object]:
    """The new values of an sms_inbound row (id, from_number, error_message)."""
    return {
        "id": row["id"],
        "body": PURGED_BODY,
        "from_number": purged_number(_text(row.get("from_number"))),
        "error_message": purged_text(_text(row.get("error_message"))),
    }


def purged_event_detail(detail: str | None) -> str | None:
    """An event's detail as a purged message keeps it; equal to ``detail`` when it holds no
    number (the event is then left as it is)."""
    return purged_text(detail)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class PurgeResult:
    """What a purge changed (or, dry, would change), per table."""

    outbound_cutoff: datetime
    inbound_cutoff: datetime
    messages: int = 0  # sms_outbound rows purged
    events: int = 0  # sms_events rows of those messages whose detail lost a number
    replies: int = 0  # sms_inbound rows purged
    dry_run: bool = False
    lookups: int = 0  # sms_number_lookups rows deleted (older than the line-type TTL)

    @property
    def changed(self) -> int:
        return self.messages + self.events + self.replies + self.lookups

    def lines(self) -> list[str]:
        """One line per table, for ``sms-bridge purge`` and the worker's log."""
        verb = "would purge" if self.dry_run else "purged"
        masked = "would mask" if self.dry_run else "masked"
        return [
            f"sms_outbound: {verb} {self.messages} message(s) final before"
            f" {_iso(self.outbound_cutoff)} (body, number; status, segments, price kept)",
            f"sms_events: {masked} the numbers in {self.events} event detail(s) of those messages",
            f"sms_inbound: {verb} {self.replies} processed reply(ies) before"
            f" {_iso(self.inbound_cutoff)} (body, number, raw payload)",
            f"sms_number_lookups: {'would delete' if self.dry_run else 'deleted'}"
            f" {self.lookups} line-type answer(s) past their TTL (asked again when needed)",
            "sms_optouts: untouched (the record of consent)",
        ]

    def line(self) -> str:
        """All of it in one line (the worker's log)."""
        verb = "would purge" if self.dry_run else "purged"
        return (
            f"retention: {verb} {self.messages} message(s) final before"
            f" {_iso(self.outbound_cutoff)}, {self.events} event detail(s),"
            f" {self.replies} reply(ies) processed before {_iso(self.inbound_cutoff)},"
            f" {self.lookups} line-type answer(s) past their TTL"
        )


def _iso(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")
