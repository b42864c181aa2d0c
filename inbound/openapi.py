"""The OpenAPI 3.1 description of every route, written by hand and served at /openapi.json.

tests/inbound/test_openapi_schemathesis.py runs schemathesis against the app over this
document, so a response that drifts from it (a field renamed, a status not declared) fails.
"""

from __future__ import annotations

from typing import Any

from bridge.statuses import Status
from bridge.store.inbound_store import INBOUND_STATUSES

JSON = "application/json"
DATE_TIME = {"type": "string", "format": "date-time"}


def _null(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema or null (OpenAPI 3.1 is JSON Schema 2020-12: a type list)."""
    return {**schema, "type": [schema["type"], "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_ERRORS_AUTH = {
    "401": _error("No API key, or an unknown or revoked one"),
    "403": _error("The API key lacks the scope this route needs"),
    "503": _error("The database is unavailable"),
}
_TWIML = {"description": "TwiML", "content": {"text/xml": {"schema": {"type": "string"}}}}
_FORBIDDEN_SIGNATURE = _error("Missing or bad X-Twilio-Signature: nothing was written")
_STRING = {"type": "string"}
_INT = {"type": "integer"}
_LINKS = {"type": "array", "items": _ref("Link")}


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
    "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999},
}
_SIGNATURE = {
    "name": "X-Twilio-Signature",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "Twilio's HMAC of the public URL and the form fields",
}


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


def _schemas() -> dict[str, Any]:
    message_properties: dict[str, Any] = {
        "id": _INT,
        "status": {"type": "string", "enum": [s.value for s in Status]},
        "sender": _STRING,
        "recipientType": _null(_STRING),
        "recipientId": _null(_STRING),
        "to": {**_null(_STRING), "description": "Masked unless the key has raw-numbers"},
        "message": _STRING,
        "priority": {"type": "integer", "enum": [1, 2, 3]},
        "reference": _null(_STRING),
        "replyCode": _null(_STRING),
        "correlationKey": _null(_STRING),
        "sourceSystem": _null(_STRING),
        "sendAfter": _null(DATE_TIME),
        "expiresAt": _null(DATE_TIME),
        "attempts": _INT,
        "statusReason": _null(_STRING),
        "providerSid": _null(_STRING),
        "providerStatus": _null(_STRING),
        "errorCode": _null(_INT),
        "errorMessage": _null(_STRING),
        "numSegments": _null(_INT),
        "createdAt": DATE_TIME,
        "updatedAt": DATE_TIME,
        "submittedAt": _null(DATE_TIME),
        "finalAt": _null(DATE_TIME),
        "links": _LINKS,
    }
    reply_properties: dict[str, Any] = {
        "id": _INT,
        "messageSid": _STRING,
        "from": {**_STRING, "description": "Masked unless the key has raw-numbers"},
        "to": _STRING,
        "body": _null(_STRING),
        "keyword": _null(_STRING),
        "outboundId": _null(_INT),
        "matchMethod": {
            "type": ["string", "null"],
            "enum": ["REFERENCE", "LATEST", "AMBIGUOUS", "NONE", None],
        },
        "recipientType": _null(_STRING),
        "recipientId": _null(_STRING),
        "status": {"type": "string", "enum": list(INBOUND_STATUSES)},
        "errorMessage": _null(_STRING),
        "receivedAt": DATE_TIME,
        "processedAt": _null(DATE_TIME),
    }
    event_properties: dict[str, Any] = {
        "id": _INT,
        "at": DATE_TIME,
        "status": _STRING,
        "source": _STRING,
        "applied": {"type": "boolean"},
        "providerStatus": _null(_STRING),
        "errorCode": _null(_INT),
        "detail": _null(_STRING),
    }

    def obj(properties: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "properties": properties, "required": list(properties)}

    def page(item: str) -> dict[str, Any]:
        return obj(
            {
                "items": {"type": "array", "items": _ref(item)},
                "hasMore": {"type": "boolean"},
                "limit": _INT,
                "offset": _INT,
                "count": _INT,
                "links": _LINKS,
            }
        )

    detail = obj(
        {
            **message_properties,
            "events": {"type": "array", "items": _ref("Event")},
            "replies": {"type": "array", "items": _ref("Reply")},
        }
    )
    send = {
        "type": "object",
        "additionalProperties": False,
        "required": ["message"],
        "properties": {
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
            "message": {"type": "string", "minLength": 1, "maxLength": 1600, "pattern": "\\S"},
            "sender": {
                "type": "string",
                "minLength": 1,
                "maxLength": 30,
                "description": "Sender code; optional when exactly one sender exists",
            },
            "priority": {"type": "integer", "enum": [1, 2, 3], "default": 2},
            "sendAfter": DATE_TIME,
            "expiresAt": {**DATE_TIME, "description": "Must be after sendAfter"},
            "reference": {"type": "string", "minLength": 1, "maxLength": 100},
            "replyCode": {
                "type": "string",
                "minLength": 1,
                "maxLength": 20,
                "description": "Quoted in the message; matches replies to it",
            },
            "correlationKey": {
                "type": "string",
                "minLength": 1,
                "maxLength": 128,
                "description": "Idempotency key, per API key",
            },
        },
        "oneOf": [
            _recipient_form(["recipientType", "recipientId"]),
            _recipient_form(["clientId"]),
            _recipient_form(["staffId"]),
            _recipient_form(["to"]),
        ],
    }
    return {
        "Error": obj({"error": _STRING, "message": _STRING, "field": _null(_STRING)}),
        "Link": obj({"rel": _STRING, "href": _STRING}),
        "Message": obj(message_properties),
        "MessageDetail": detail,
        "Event": obj(event_properties),
        "Reply": obj(reply_properties),
        "MessagePage": page("Message"),
        "ReplyPage": page("Reply"),
        "SendRequest": send,
        "Accepted": obj(
            {"id": _INT, "status": {"type": "string", "enum": [s.value for s in Status]}}
        ),
        "Stats": obj(
            {
                "total": _INT,
                "byStatus": {"type": "object", "additionalProperties": _INT},
                "bySender": {"type": "object", "additionalProperties": _INT},
                "items": {
                    "type": "array",
                    "items": obj({"sender": _STRING, "status": _STRING, "count": _INT}),
                },
            }
        ),
        "Health": obj(
            {
                "status": {"type": "string", "enum": ["ok", "unavailable"]},
                "database": {"type": "string", "enum": ["ok", "unavailable"]},
                "engine": _STRING,
                "schemaVersion": _null(_INT),
                "spooled": {**_null(_INT), "description": "Webhooks waiting in the spool"},
            }
        ),
        "TwilioInbound": {
            "type": "object",
            "required": ["MessageSid", "From", "To"],
            "properties": {
                n: _STRING for n in ("MessageSid", "AccountSid", "From", "To", "Body", "NumMedia")
            },
        },
        "TwilioStatus": {
            "type": "object",
            "required": ["MessageSid", "MessageStatus"],
            "properties": {
                n: _STRING
                for n in ("MessageSid", "AccountSid", "MessageStatus", "ErrorCode", "To", "From")
            },
        },
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
                    "content": {form: {"schema": _ref("TwilioInbound")}},
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
                    "content": {form: {"schema": _ref("TwilioStatus")}},
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
                    "content": {JSON: {"schema": _ref("SendRequest")}},
                },
                "responses": {
                    "202": _json(
                        _ref("Accepted"), "Queued (or the earlier row of this correlationKey)"
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
                "security": bearer,
                "parameters": [
                    *_PAGING,
                    _query("recipientType", _STRING, "e.g. EMPLOYEE"),
                    _query("recipientId", _STRING, "Recipient id"),
                    _query("clientId", _STRING, "Same as recipientType=CLIENT&recipientId=..."),
                    _query("staffId", _STRING, "Same as recipientType=STAFF&recipientId=..."),
                    status_filter,
                    _query("sender", _STRING, "Sender code"),
                    _query("createdFrom", DATE_TIME, "Created at or after"),
                    _query("createdTo", DATE_TIME, "Created before"),
                ],
                "responses": {
                    "200": _json(_ref("MessagePage"), "A page of messages"),
                    "400": _error("Bad paging or filter value"),
                    **_ERRORS_AUTH,
                },
            },
        },
        "/sms/{id}": {
            "get": {
                "tags": ["sms"],
                "summary": "One message with its events and replies (scope read)",
                "security": bearer,
                "parameters": [_ID],
                "responses": {
                    "200": _json(_ref("MessageDetail"), "The message"),
                    "404": _error("No such message"),
                    **_ERRORS_AUTH,
                },
            }
        },
        "/sms/{id}/cancel": {
            "post": {
                "tags": ["sms"],
                "summary": "Cancel a queued message (scope send)",
                "security": bearer,
                "parameters": [_ID],
                "responses": {
                    "200": _json(_ref("Accepted"), "Canceled"),
                    "404": _error("No such message"),
                    "409": _error("No longer cancelable (already sending or final)"),
                    **_ERRORS_AUTH,
                },
            }
        },
        "/inbound": {
            "get": {
                "tags": ["replies"],
                "summary": "Replies, newest first (scope read)",
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
                    "200": _json(_ref("ReplyPage"), "A page of replies"),
                    "400": _error("Bad paging or filter value"),
                    **_ERRORS_AUTH,
                },
            }
        },
        "/stats": {
            "get": {
                "tags": ["sms"],
                "summary": "Message counts by status and sender (scope read)",
                "security": bearer,
                "responses": {"200": _json(_ref("Stats"), "Counts"), **_ERRORS_AUTH},
            }
        },
        "/health": {
            "get": {
                "tags": ["ops"],
                "summary": "Liveness, including the database",
                "security": [],
                "responses": {
                    "200": _json(_ref("Health"), "Up"),
                    "503": _json(_ref("Health"), "The database is unavailable"),
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
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key from `sms-bridge apikey create`",
                }
            },
        },
    }
