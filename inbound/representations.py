"""JSON shapes of messages, events and replies (camelCase, as inbound/openapi.py declares).

Phone numbers are masked unless the API key may see raw numbers: recipients are addressed by
reference precisely so that applications need not handle personal numbers. That covers the
numbers Twilio, carriers and the bridge quote inside their texts (statusReason, errorMessage,
events[].detail). Bodies are not masked: the outbound body is the application's own text, and a
reply's body is the person's own words, which the reader is there to read (a reference or
order number typed back must stay intact).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.apikeys import ApiKey, Scope
from bridge.domain.models import Event, Message
from bridge.domain.phone import mask as mask_number
from bridge.domain.phone import mask_numbers_in
from bridge.domain.statuses import FINERACT_STATUS, Status
from bridge.store.dialect import Row
from inbound.http import iso


def may_see_numbers(key: ApiKey | None) -> bool:
    return key is not None and key.allows(Scope.RAW_NUMBERS)


def number(value: str | None, raw: bool) -> str | None:
    if value is None:
        return None
    return value if raw else mask_number(value)


def text(value: str | None, raw: bool) -> str | None:
    """A provider's or the bridge's free text, with the numbers it quotes masked unless raw."""
    return value if raw else mask_numbers_in(value)


def status_json(message_id: int, status: Status) -> dict[str, Any]:
    """What POST /sms and its cancel answer: the id, our status and Fineract's name of it."""
    return {"id": message_id, "status": status.value, "fineractStatus": FINERACT_STATUS[status]}


def message_json(message: Message, base_url: str, *, raw: bool) -> dict[str, Any]:
    return {
        "id": message.id,
        "status": message.status.value,
        "fineractStatus": FINERACT_STATUS[message.status],
        "sender": message.sender_code,
        "recipientType": message.recipient_type,
        "recipientId": message.recipient_id,
        "to": number(message.to_number, raw),
        "message": message.body,
        "priority": message.priority,
        "reference": message.reference,
        "replyCode": message.reply_code,
        "correlationKey": message.correlation_key,
        "sourceSystem": message.source_system,
        "sendAfter": iso(message.send_after),
        "expiresAt": iso(message.expires_at),
        "attempts": message.attempts,
        "statusReason": text(message.status_reason, raw),
        "providerSid": message.provider_sid,
        "providerStatus": message.provider_status,
        "errorCode": message.error_code,
        "errorMessage": text(message.error_message, raw),
        "numSegments": message.num_segments,
        "createdAt": iso(message.created_at),
        "updatedAt": iso(message.updated_at),
        "submittedAt": iso(message.submitted_at),
        "finalAt": iso(message.final_at),
        "links": [{"rel": "self", "href": f"{base_url}/sms/{message.id}"}],
    }


def event_json(event: Event, *, raw: bool) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.event_at),
        "status": event.status,
        "source": event.source,
        "applied": event.applied,
        "providerStatus": event.provider_status,
        "errorCode": event.error_code,
        "detail": text(event.detail, raw),
    }


def reply_json(row: Row, *, raw: bool) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "messageSid": row["message_sid"],
        "from": number(row["from_number"], raw),
        "to": row["to_number"],  # our own sender number: not personal data
        "body": row["body"],
        "keyword": row["keyword"],
        "outboundId": None if row["outbound_id"] is None else int(row["outbound_id"]),
        "matchMethod": row["match_method"],
        "recipientType": row["recipient_type"],
        "recipientId": row["recipient_id"],
        "status": row["status"],
        "errorMessage": text(row["error_message"], raw),
        "receivedAt": iso(row["received_at"]),
        "processedAt": iso(row["processed_at"]),
    }


def message_detail(
    message: Message,
    events: Sequence[Event],
    replies: Sequence[Row],
    base_url: str,
    *,
    raw: bool,
) -> dict[str, Any]:
    data = message_json(message, base_url, raw=raw)
    data["events"] = [event_json(e, raw=raw) for e in events]
    data["replies"] = [reply_json(r, raw=raw) for r in replies]
    return data
