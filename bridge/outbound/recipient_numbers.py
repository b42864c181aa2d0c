"""The look-ups behind one claimed message's decision: recipient, its numbers, line types.

``prepare`` is pure; this reads what it needs for one message and calls it. A message to a
recipient reads ``sms_recipients_v`` (is the recipient still there) and then its numbers in
``sms_recipient_phones_v`` (none: its mobile_number). Only with several numbers and a sender
with ``line_type_lookup`` are the cached Lookup answers of its +1 numbers read too (one query;
nothing is looked up at Twilio here): a number the cache knows as a landline is skipped for the
next one. The chosen number still goes through the worker's line-type screen as before, which
caches what it learns, so a landline found there is skipped for that person next time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bridge.domain import line_types, phone
from bridge.domain.models import Message, Sender
from bridge.domain.phone_choice import Candidate
from bridge.outbound.prepare import Decision, prepare
from bridge.store import Store


def decide(
    store: Store, message: Message, sender: Sender, now: datetime, *, default_region: str
) -> Decision:
    recipient = None
    candidates: list[Candidate] = []
    if message.recipient_type and message.recipient_id:
        recipient = store.get_recipient(message.recipient_type, message.recipient_id)
        if recipient is not None:
            candidates = store.recipient_phones(message.recipient_type, message.recipient_id)
    known = (
        known_line_types(store, candidates, default_region)
        if sender.line_type_lookup and len(candidates) > 1
        else None
    )
    return prepare(
        message,
        sender,
        recipient,
        now,
        default_region=default_region,
        is_opted_out=store.is_opted_out,
        candidates=candidates,
        known_line_types=known,
    )


def known_line_types(
    store: Store, candidates: Sequence[Candidate], default_region: str
) -> dict[str, line_types.LineType]:
    """The cached Lookup answers of the candidates' +1 numbers (fresh or not)."""
    numbers = set()
    for candidate in candidates:
        number = phone.normalize(candidate.number, default_region)
        if isinstance(number, phone.Normalized) and line_types.wants_lookup(number.e164):
            numbers.add(number.e164)
    return store.line_types(numbers) if numbers else {}
