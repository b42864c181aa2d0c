"""The OpenAPI 3.1 description of every route, written by hand and served at /openapi.json.

tests/inbound/test_openapi_schemathesis.py runs schemathesis against the app over this
document, so a response that drifts from it (a field renamed, a status not declared) fails.
"""

from __future__ import annotations

from typing import Any

from bridge.domain.cost import MAX_MONTHS
from bridge.domain.statuses import Status
from bridge.store.inbound_store import INBOUND_STATUSES
from inbound.openapi_schemas import DATE_TIME, JSON, MONTH, STRING, ref, schemas


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(ref("Error"), description)


_ERRORS_AUTH = {
    "401": _error("No API key, or an unknown or revoked one"),
    "403": _error("The API key lacks the scope this route needs"),
    "503": _error("The database is unavailable"),
}
# Ownership (docs/rest-api.md): what a key without admin may read and cancel.
_OWN_ONLY = (
    "Without the admin scope: only messages this key queued (by its name); another key's or"
    " an ERP system's message is 404, as an unknown id."
)
_TWIML = {"description": "TwiML", "content": {"text/xml": {"schema": {"type": "string"}}}}
_FORBIDDEN_SIGNATURE = _error("Missing or bad X-Twilio-Signature: nothing was written")


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_PAGING = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 25}, "Page size"),
    _query(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": 999_999_999, "default": 0},
        "Rows to skip",
    ),
]
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999},
}
_SIGNATURE = {
    "name": "X-Twilio-Signature",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "Twilio's HMAC of the public URL and the form fields",
}


def _paths() -> dict[str, Any]:
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    form = "application/x-www-form-urlencoded"
    status_filter = _query(
        "status", {"type": "string", "enum": [s.value for s in Status]}, "Message status"
    )
    return {
        "/twilio/inbound": {
            "post": {
                "tags": ["twilio"],
                "summary": "Inbound SMS webhook (Twilio-signed)",
                "security": [],
                "parameters": [_SIGNATURE],
                "requestBody": {
                    "required": True,
                    "content": {form: {"schema": ref("TwilioInbound")}},
                },
                "responses": {
                    "200": _TWIML,
                    "400": _error("A field Twilio always sends is missing"),
                    "403": _FORBIDDEN_SIGNATURE,
                    "413": _error("Body larger than [inbound] max_body_bytes"),
                },
            }
        },
        "/twilio/status": {
            "post": {
                "tags": ["twilio"],
                "summary": "Delivery status callback (Twilio-signed)",
                "security": [],
                "parameters": [
                    _SIGNATURE,
                    _query(
                        "id",
                        {"type": "string", "pattern": "^[0-9]{1,18}$"},
                        "Our sms_outbound.id, set in the StatusCallback",
                    ),
                ],
                "requestBody": {
                    "required": True,
                    "content": {form: {"schema": ref("TwilioStatus")}},
                },
                "responses": {
                    "200": _TWIML,
                    "400": _error("A field Twilio always sends is missing"),
                    "403": _FORBIDDEN_SIGNATURE,
                    "413": _error("Body larger than [inbound] max_body_bytes"),
                },
            }
        },
        "/sms": {
            "post": {
                "tags": ["sms"],
                "summary": "Queue one SMS (scope send)",
                "security": bearer,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("SendRequest")}},
                },
                "responses": {
                    "202": _json(
                        ref("Accepted"), "Queued (or the earlier row of this correlationKey)"
                    ),
                    "400": _error("Invalid request; field names the member"),
                    "404": _error("Unknown sender or recipient; field names it"),
                    "409": _error("The sender is not active"),
                    "413": _error("Body larger than [inbound] max_body_bytes"),
                    "415": _error("Not application/json"),
                    **_ERRORS_AUTH,
                },
            },
            "get": {
                "tags": ["sms"],
                "summary": "List messages, newest first (scope read)",
                "description": _OWN_ONLY,
                "security": bearer,
                "parameters": [
                    *_PAGING,
                    _query("recipientType", STRING, "e.g. EMPLOYEE"),
                    _query("recipientId", STRING, "Recipient id"),
                    _query("clientId", STRING, "Same as recipientType=CLIENT&recipientId=..."),
                    _query("staffId", STRING, "Same as recipientType=STAFF&recipientId=..."),
                    status_filter,
                    _query("sender", STRING, "Sender code"),
                    _query("createdFrom", DATE_TIME, "Created at or after"),
                    _query("createdTo", DATE_TIME, "Created before"),
                ],
                "responses": {
                    "200": _json(ref("MessagePage"), "A page of messages"),
                    "400": _error("Bad paging or filter value"),
                    **_ERRORS_AUTH,
                },
            },
        },
        "/sms/batch": {
            "post": {
                "tags": ["sms"],
                "summary": "Queue up to 1,000 SMS in one call, as one batch (scope send)",
                "description": "Each item is the body of a POST /sms, checked as POST /sms"
                " checks one, and gets its own answer in `items` (its id, or an error whose field"
                " is items[i].member); one bad item stops no other. 202 whenever the envelope is"
                " well formed, even if every item was refused; 400 (naming the field) for a"
                " malformed envelope, which writes nothing. An item's correlationKey makes it"
                " idempotent as in POST /sms (a retried item answers with its row's id and"
                " current status); a correlationKey repeated within one batch is refused"
                " (duplicate_correlation_key) for the repeating item.",
                "security": bearer,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": ref("BatchRequest")}},
                },
                "responses": {
                    "202": _json(
                        ref("BatchAccepted"),
                        "The envelope was taken; each item's answer is in items",
                    ),
                    "400": _error("Malformed envelope (items, label, an unknown member)"),
                    "413": _error("Body larger than 8 MiB"),
                    "415": _error("Not application/json"),
                    **_ERRORS_AUTH,
                },
            }
        },
        "/batches/{id}": {
            "get": {
                "tags": ["sms"],
                "summary": "What became of a batch's messages (scope read)",
                "description": "Without the admin scope: only batches this key opened; another"
                " key's, a CSV import's or a PL/SQL run's batch is 404, as an unknown id.",
                "security": bearer,
                "parameters": [_ID],
                "responses": {
                    "200": _json(ref("BatchSummary"), "The batch's counts"),
                    "404": _error("No such batch, or another key's (without admin)"),
                    **_ERRORS_AUTH,
                },
            }
        },
        "/sms/{id}": {
            "get": {
                "tags": ["sms"],
                "summary": "One message with its events and replies (scope read)",
                "description": _OWN_ONLY,
                "security": bearer,
                "parameters": [_ID],
                "responses": {
                    "200": _json(ref("MessageDetail"), "The message"),
                    "404": _error("No such message, or another key's (without admin)"),
                    **_ERRORS_AUTH,
                },
            }
        },
        "/sms/{id}/cancel": {
            "post": {
                "tags": ["sms"],
                "summary": "Cancel a queued message (scope send)",
                "description": _OWN_ONLY,
                "security": bearer,
                "parameters": [_ID],
                "responses": {
                    "200": _json(ref("Accepted"), "Canceled"),
                    "404": _error("No such message, or another key's (without admin)"),
                    "409": _error("No longer cancelable (already sending or final)"),
                    **_ERRORS_AUTH,
                },
            }
        },
        "/inbound": {
            "get": {
                "tags": ["replies"],
                "summary": "Replies, newest first (scope read)",
                "description": "Without the admin scope: only replies threaded to the key's own"
                " messages (replies matched to no message are for admin keys).",
                "security": bearer,
                "parameters": [
                    *_PAGING,
                    _query(
                        "status",
                        {"type": "string", "enum": list(INBOUND_STATUSES)},
                        "Processing status",
                    ),
                ],
                "responses": {
                    "200": _json(ref("ReplyPage"), "A page of replies"),
                    "400": _error("Bad paging or filter value"),
                    **_ERRORS_AUTH,
                },
            }
        },
        "/stats": {
            "get": {
                "tags": ["sms"],
                "summary": "Message counts by status and sender (scope read)",
                "description": "Without the admin scope: counts of the messages this key queued.",
                "security": bearer,
                "responses": {"200": _json(ref("Stats"), "Counts"), **_ERRORS_AUTH},
            }
        },
        "/reports/cost": {
            "get": {
                "tags": ["sms"],
                "summary": "What Twilio charged, by sender, UTC month and currency (scope read)",
                "description": "Messages submitted to Twilio in the months from..to (both"
                " included; default: the three months up to this one, or from and the two"
                " after it). cost is the positive amount charged (Twilio reports a charge as a"
                " negative price); amounts in different currencies are never added: one item"
                " per unit, and one with unit null for messages not priced yet. Without the"
                " admin scope: the messages this key queued.",
                "security": bearer,
                "parameters": [
                    _query("from", MONTH, "First month, YYYY-MM (UTC)"),
                    _query("to", MONTH, "Last month, YYYY-MM (UTC), not before from"),
                ],
                "responses": {
                    "200": _json(ref("CostReport"), "Cost by sender and month"),
                    "400": _error(
                        "A malformed month (field from or to), to before from, or more than"
                        f" {MAX_MONTHS} months"
                    ),
                    **_ERRORS_AUTH,
                },
            }
        },
        "/health": {
            "get": {
                "tags": ["ops"],
                "summary": "Liveness, including the database",
                "security": [],
                "responses": {
                    "200": _json(ref("Health"), "Up"),
                    "503": _json(
                        ref("Health"), "The database is unavailable, or read-only (degraded)"
                    ),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "tags": ["ops"],
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def openapi_document(base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ERP SMS Bridge",
            "version": "1.0.0",
            "description": "Queue and follow SMS from applications outside the database, read"
            " replies, and receive Twilio's webhooks. See docs/rest-api.md.",
        },
        "servers": [{"url": base_url}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key from `sms-bridge apikey create`. A key reads,"
                    " counts and cancels only the messages it queued (and the replies to them);"
                    " a key with the admin scope, every message and reply",
                }
            },
        },
    }
