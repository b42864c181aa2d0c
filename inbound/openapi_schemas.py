"""The component schemas of the OpenAPI document (inbound/openapi.py): the JSON bodies of
inbound/representations.py and inbound/api_sms.py, member by member."""

from __future__ import annotations

from typing import Any

from bridge.domain.batches import MAX_REST_ITEMS, SOURCES
from bridge.domain.statuses import FINERACT_STATUSES, Status
from bridge.store.inbound_store import INBOUND_STATUSES
from inbound.http import EARLIEST, LATEST, iso

JSON = "application/json"
DATE_TIME = {"type": "string", "format": "date-time"}
STRING = {"type": "string"}
INT = {"type": "integer"}
NUMBER = {"type": "number"}
# A UTC month the cost report takes (bridge.domain.cost.parse_month): 1970-01 to 9998-12.
MONTH = {
    "type": "string",
    "pattern": "^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
    "-(0[1-9]|1[0-2])$",
    "examples": ["2026-03"],
}
# An instant the API stores (inbound.http.parse_instant): four-digit years from 1970, and not
# past LATEST. The pattern is the year range; the description says where the bounds are exact.
INSTANT_IN_RANGE = {
    **DATE_TIME,
    "pattern": "^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-",
    "description": f"RFC 3339 with a zone, from {iso(EARLIEST)} to {iso(LATEST)} as an instant"
    " (the offset counts: 1970-01-01T00:30:00+01:00 is before the range); outside it, 400"
    " naming this field",
}


# GET /batches/{id}: each count and what it holds (bridge/domain/batches.py). Each message is
# counted once by where it ended, except submitted, which also counts later outcomes.
BATCH_COUNTS = (
    ("attempted", "Every item the batch was given: its messages and its rejected items"),
    ("submitted", "Twilio accepted it (it has a SID), whatever happened after"),
    ("delivered", "The carrier confirmed delivery (DELIVERED)"),
    ("invalid", "No usable number (INVALID)"),
    ("unsubscribed", "The recipient had opted out (SUPPRESSED, not a duplicate)"),
    ("duplicate", "Held back by the sender's dedupe window (SUPPRESSED with duplicate_of)"),
    ("failed", "Refused by Twilio or the carrier (FAILED, UNDELIVERED), or rejected"),
    ("rejected", "Refused when queued: no message of theirs exists"),
    ("pending", "Not decided yet (QUEUED, SENDING)"),
    ("expired", "Not sent before its expiresAt (EXPIRED)"),
    ("canceled", "Canceled before it was sent (CANCELED)"),
)


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema or null (OpenAPI 3.1 is JSON Schema 2020-12: a type list)."""
    return {**schema, "type": [schema["type"], "null"]}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


LINKS = {"type": "array", "items": ref("Link")}


def _recipient_form(required: list[str]) -> dict[str, Any]:
    """One of the four recipient forms, excluding the other three (exactly one recipient)."""
    others = [
        f
        for f in ("recipientType", "recipientId", "clientId", "staffId", "to")
        if f not in required
    ]
    return {"required": required, "not": {"anyOf": [{"required": [f]} for f in others]}}


def _identifier() -> dict[str, Any]:
    return {
        "oneOf": [
            {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999},
            {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "\\S"},
        ]
    }


# What each member means, for the generated reference (docs/rest-api-reference.md); members
# that already carry a description keep it.
DESCRIPTIONS: dict[str, str] = {
    "id": "The message's id (sms_outbound.id)",
    "status": "Lifecycle status; only moves forward (docs/operations.md lists each one)",
    "fineractStatus": "The status as Apache Fineract names it: pending (QUEUED, SENDING), sent"
    " (SUBMITTED, SENT), delivered (DELIVERED), declined (every other final status)",
    "sender": "Sender code (sms_senders.code), e.g. HR",
    "recipientType": "Recipient type in sms_recipients_v, e.g. EMPLOYEE, CLIENT, STAFF",
    "recipientId": "Recipient id in sms_recipients_v",
    "message": "The text, at most 1600 characters",
    "priority": "1 urgent (ignores quiet hours), 2 transactional, 3 bulk",
    "reference": "The caller's own reference, e.g. CERT-4821",
    "replyCode": "A code quoted in the text; replies quoting it are matched to this message",
    "correlationKey": "Idempotency key: the same key returns the existing message",
    "sourceSystem": "The namespace of its correlationKey: api:NAME for an API key's message,"
    " else the ERP system's",
    "sendAfter": "Not sent before this instant (UTC)",
    "expiresAt": "Becomes EXPIRED if not sent by this instant (UTC)",
    "attempts": "Create attempts so far",
    "statusReason": "Why it is in its status, e.g. the quiet-hours deferral or INVALID reason",
    "providerSid": "Twilio's MessageSid (SM...)",
    "providerStatus": "Twilio's last reported status",
    "errorCode": "Twilio error code of a failure (docs/troubleshooting.md)",
    "errorMessage": "Twilio's error text",
    "numSegments": "SMS segments (GSM-7 or UCS-2)",
    "createdAt": "Queued at (UTC)",
    "updatedAt": "Last change (UTC)",
    "submittedAt": "Accepted by Twilio at (UTC)",
    "finalAt": "Reached a final status at (UTC)",
    "links": "ORDS-style links (self)",
    "messageSid": "Twilio's MessageSid of the reply",
    "body": "The reply's text",
    "keyword": "The reply's first word, upper case (what handlers route on)",
    "outboundId": "The message this reply answers, when matched",
    "matchMethod": "How it was matched: REFERENCE code, LATEST message, AMBIGUOUS, NONE",
    "receivedAt": "Received at (UTC)",
    "processedAt": "When it was processed (by a handler, or at arrival for keywords); on a NEW"
    " reply: when a dispatcher took it for its handler (UTC)",
    "error": "A short error name",
    "field": "The request member the error is about, if any",
    "rel": "Link relation: self, first, prev, next",
    "href": "Absolute URL",
    "at": "When (UTC)",
    "source": "Who recorded it: api, cli, bridge, callback, sync, recovery",
}


def _describe(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        name: schema
        if not isinstance(schema, dict)
        or "description" in schema
        or name not in DESCRIPTIONS
        or "$ref" in schema
        else {**schema, "description": DESCRIPTIONS[name]}
        for name, schema in properties.items()
    }


def schemas() -> dict[str, Any]:
    message_properties: dict[str, Any] = {
        "id": INT,
        "status": {"type": "string", "enum": [s.value for s in Status]},
        "fineractStatus": {"type": "string", "enum": list(FINERACT_STATUSES)},
        "sender": STRING,
        "recipientType": nullable(STRING),
        "recipientId": nullable(STRING),
        "to": {**nullable(STRING), "description": "Masked unless the key has raw-numbers"},
        "message": STRING,
        "priority": {"type": "integer", "enum": [1, 2, 3]},
        "reference": nullable(STRING),
        "replyCode": nullable(STRING),
        "correlationKey": nullable(STRING),
        "sourceSystem": nullable(STRING),
        "sendAfter": nullable(DATE_TIME),
        "expiresAt": nullable(DATE_TIME),
        "attempts": INT,
        "statusReason": nullable(STRING),
        "providerSid": nullable(STRING),
        "providerStatus": nullable(STRING),
        "errorCode": nullable(INT),
        "errorMessage": nullable(STRING),
        "numSegments": nullable(INT),
        "createdAt": DATE_TIME,
        "updatedAt": DATE_TIME,
        "submittedAt": nullable(DATE_TIME),
        "finalAt": nullable(DATE_TIME),
        "links": LINKS,
    }
    reply_properties: dict[str, Any] = {
        "id": INT,
        "messageSid": STRING,
        "from": {**STRING, "description": "Masked unless the key has raw-numbers"},
        "to": STRING,
        "body": nullable(STRING),
        "keyword": nullable(STRING),
        "outboundId": nullable(INT),
        "matchMethod": {
            "type": ["string", "null"],
            "enum": ["REFERENCE", "LATEST", "AMBIGUOUS", "NONE", None],
        },
        "recipientType": nullable(STRING),
        "recipientId": nullable(STRING),
        "status": {"type": "string", "enum": list(INBOUND_STATUSES)},
        "errorMessage": nullable(STRING),
        "receivedAt": DATE_TIME,
        "processedAt": nullable(DATE_TIME),
    }
    event_properties: dict[str, Any] = {
        "id": INT,
        "at": DATE_TIME,
        "status": STRING,
        "source": STRING,
        "applied": {"type": "boolean"},
        "providerStatus": nullable(STRING),
        "errorCode": nullable(INT),
        "detail": nullable(STRING),
    }

    def obj(properties: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": _describe(properties),
            "required": list(properties),
        }

    def optional(schema: dict[str, Any], *names: str) -> dict[str, Any]:
        return {**schema, "required": [n for n in schema["required"] if n not in names]}

    def page(item: str) -> dict[str, Any]:
        return obj(
            {
                "items": {"type": "array", "items": ref(item)},
                "hasMore": {"type": "boolean"},
                "limit": INT,
                "offset": INT,
                "count": INT,
                "links": LINKS,
            }
        )

    detail = obj(
        {
            **message_properties,
            "events": {"type": "array", "items": ref("Event")},
            "replies": {"type": "array", "items": ref("Reply")},
        }
    )
    send = {
        "type": "object",
        "additionalProperties": False,
        "required": ["message"],
        "properties": _describe(
            {
                "recipientType": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 30,
                    "pattern": "\\S",
                    "description": "With recipientId",
                },
                "recipientId": _identifier(),
                "clientId": {**_identifier(), "description": "Fineract client: recipient CLIENT"},
                "staffId": {**_identifier(), "description": "Fineract staff: recipient STAFF"},
                "to": {
                    "type": "string",
                    "pattern": "^\\+[1-9][0-9]{6,14}$",
                    "description": "Raw E.164 number: needs the raw-numbers scope",
                },
                "message": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 1600,
                    "pattern": "\\S",
                    "description": "At most 1600 characters as SMS counts them (UTF-16 units:"
                    " an emoji counts two; JSON Schema's maxLength counts it once, so an"
                    " emoji-heavy text within it may still get 400 body_too_long)",
                },
                "sender": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 30,
                    "description": "Sender code; optional when exactly one sender exists",
                },
                "priority": {"type": "integer", "enum": [1, 2, 3], "default": 2},
                "sendAfter": {
                    **INSTANT_IN_RANGE,
                    "description": "Not sent before this instant. "
                    + INSTANT_IN_RANGE["description"],
                },
                "expiresAt": {
                    **INSTANT_IN_RANGE,
                    "description": "Must be after sendAfter. " + INSTANT_IN_RANGE["description"],
                },
                "reference": {"type": "string", "minLength": 1, "maxLength": 100},
                "replyCode": {
                    "type": "string",
                    "minLength": 2,
                    "maxLength": 16,
                    "pattern": "^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$",
                    "description": "Quoted in the message; matches replies to it. Letters,"
                    " digits and inner hyphens, with at least one digit (how replies are"
                    " searched for codes); stored and matched upper-cased",
                },
                "correlationKey": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 128,
                    "description": "Idempotency key, per API key (its own namespace, never an"
                    " ERP system's); needs a key name of at most 26 characters",
                },
            }
        ),
        "oneOf": [
            _recipient_form(["recipientType", "recipientId"]),
            _recipient_form(["clientId"]),
            _recipient_form(["staffId"]),
            _recipient_form(["to"]),
        ],
    }
    return {
        "Error": obj({"error": STRING, "message": STRING, "field": nullable(STRING)}),
        "Link": obj({"rel": STRING, "href": STRING}),
        "Message": obj(message_properties),
        "MessageDetail": detail,
        "Event": obj(event_properties),
        "Reply": obj(reply_properties),
        "MessagePage": page("Message"),
        "ReplyPage": page("Reply"),
        "SendRequest": send,
        "Accepted": obj(
            {
                "id": INT,
                "status": {"type": "string", "enum": [s.value for s in Status]},
                "fineractStatus": {"type": "string", "enum": list(FINERACT_STATUSES)},
            }
        ),
        "BatchRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_REST_ITEMS,
                    # Any item passes the envelope: one that is no SendRequest is refused in its
                    # own answer (202), not with 400 for the call.
                    "items": {"anyOf": [ref("SendRequest"), {}]},
                    "description": "The messages, each the body of a POST /sms (SendRequest);"
                    " an item that is not a valid one is refused in its own answer, in order",
                },
                "label": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "description": "What the batch is, shown by GET /batches/{id}",
                },
            },
        },
        "BatchAccepted": obj(
            {
                "batchId": {**INT, "description": "The batch's id (sms_batches.id)"},
                "batch": {**STRING, "description": "Absolute URL of GET /batches/{id}"},
                "accepted": {**INT, "description": "Items queued (or found by correlationKey)"},
                "rejected": {**INT, "description": "Items refused; nothing of them was written"},
                "items": {
                    "type": "array",
                    "items": ref("BatchItemResult"),
                    "description": "One answer per item, in the order of the request",
                },
            }
        ),
        "BatchItemResult": {
            "oneOf": [
                {
                    **obj(
                        {
                            "index": {**INT, "description": "The item's position (from 0)"},
                            "id": INT,
                            "status": {"type": "string", "enum": [s.value for s in Status]},
                            "message": {**STRING, "description": "Absolute URL of GET /sms/{id}"},
                        }
                    ),
                    "additionalProperties": False,
                },
                {
                    **obj(
                        {
                            "index": {**INT, "description": "The item's position (from 0)"},
                            "error": {
                                **ref("Error"),
                                "description": "Why it was refused; field is items[i].member",
                            },
                        }
                    ),
                    "additionalProperties": False,
                },
            ],
        },
        "BatchSummary": obj(
            {
                "id": {**INT, "description": "The batch's id (sms_batches.id)"},
                "source": {
                    "type": "string",
                    "enum": list(SOURCES),
                    "description": "Who opened it: PLSQL (sms_api.begin_batch), CSV (enqueue"
                    " --csv), REST (POST /sms/batch)",
                },
                "label": {**nullable(STRING), "description": "The label it was opened with"},
                "createdAt": {**DATE_TIME, "description": "Opened at (UTC)"},
                "counts": ref("BatchCounts"),
                "byStatus": {
                    "type": "object",
                    "additionalProperties": INT,
                    "description": "The batch's messages by status",
                },
                "self": {**STRING, "description": "Absolute URL of this batch"},
            }
        ),
        "BatchCounts": obj({name: {**INT, "description": text} for name, text in BATCH_COUNTS}),
        "Stats": obj(
            {
                "total": INT,
                "byStatus": {"type": "object", "additionalProperties": INT},
                "bySender": {"type": "object", "additionalProperties": INT},
                "items": {
                    "type": "array",
                    "items": obj({"sender": STRING, "status": STRING, "count": INT}),
                },
            }
        ),
        "CostReport": obj(
            {
                "from": MONTH,
                "to": MONTH,
                "items": {
                    "type": "array",
                    "items": obj(
                        {
                            "sender": STRING,
                            "month": MONTH,
                            "unit": {
                                **nullable(STRING),
                                "description": "ISO 4217; null: messages not priced yet",
                            },
                            "messages": {**INT, "description": "Submitted to Twilio that month"},
                            "priced": {**INT, "description": "Of those, with Twilio's price"},
                            "segments": INT,
                            "cost": {**NUMBER, "description": "Charged, positive, in unit"},
                        }
                    ),
                },
                "totals": {
                    "type": "array",
                    "description": "Per currency, never added across units",
                    "items": obj(
                        {
                            "unit": nullable(STRING),
                            "messages": INT,
                            "priced": INT,
                            "segments": INT,
                            "cost": NUMBER,
                        }
                    ),
                },
            }
        ),
        "Health": optional(
            obj(
                {
                    "status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]},
                    "database": {"type": "string", "enum": ["ok", "read-only", "unavailable"]},
                    "engine": STRING,
                    "schemaVersion": nullable(INT),
                    "spooled": {**nullable(INT), "description": "Webhooks waiting in the spool"},
                    "problem": {
                        **STRING,
                        "description": "What fails (reads, or writes: webhooks are spooled);"
                        " only when the status is not ok",
                    },
                }
            ),
            "problem",
        ),
        "TwilioInbound": {
            "type": "object",
            "required": ["MessageSid", "From", "To"],
            "properties": {
                n: STRING for n in ("MessageSid", "AccountSid", "From", "To", "Body", "NumMedia")
            },
        },
        "TwilioStatus": {
            "type": "object",
            "required": ["MessageSid", "MessageStatus"],
            "properties": {
                n: STRING
                for n in ("MessageSid", "AccountSid", "MessageStatus", "ErrorCode", "To", "From")
            },
        },
    }
