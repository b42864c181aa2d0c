"""The /sms REST API: queue, list, read and cancel messages.

The JSON is checked here for shape (types, one recipient, known fields); the business rules
(body length, priority, sender, recipient) are the store's, i.e. the same checks and named
errors as ``sms_api.enqueue`` in PL/SQL, mapped to HTTP statuses with the field they are about.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import falcon

from bridge import apikeys, errors
from bridge.apikeys import ApiKey, Scope
from bridge.domain.models import EnqueueRequest, Message, MessageFilter, Page
from bridge.domain.statuses import Status
from bridge.store import Store
from inbound.http import (
    ApiError,
    collection,
    invalid,
    only_known,
    paging,
    parse_instant,
    read_json_object,
)
from inbound.representations import may_see_numbers, message_detail, message_json, status_json

# Fineract-style shortcuts: clientId and staffId name a recipient of that type in the site's
# sms_recipients_v (which maps CLIENT and STAFF onto its own tables).
SHORTCUT_TYPES = {"clientId": "CLIENT", "staffId": "STAFF"}
RECIPIENT_FIELDS = ("recipientId", "clientId", "staffId", "to")
POST_FIELDS = frozenset(
    {
        "recipientType",
        "recipientId",
        "clientId",
        "staffId",
        "to",
        "message",
        "sender",
        "priority",
        "sendAfter",
        "expiresAt",
        "reference",
        "replyCode",
        "correlationKey",
    }
)
# Texts that must not be empty. How long they may be is their column's (the store checks every
# text against the Oracle DDL before anything is bound: value_too_long, with the field below);
# replyCode's 16 is the reply-code rule, not a column.
_NON_EMPTY = frozenset({"reference", "replyCode", "correlationKey", "sender"})
_MAX_LEN = {"replyCode": 16}
# sms_outbound column -> the request field that fills it (None: the recipient field used).
_COLUMN_FIELDS: dict[str, str | None] = {
    "sender_code": "sender",
    "recipient_type": "recipientType",
    "recipient_id": None,
    "to_number": "to",
    "body": "message",
    "reference": "reference",
    "reply_code": "replyCode",
    "correlation_key": "correlationKey",
}

# Named store errors -> (HTTP status, request field). None: the recipient field used.
_SMS_ERRORS: dict[str, tuple[int, str | None]] = {
    "recipient_count": (400, None),
    # A sender or recipient named in the body that does not exist is 404 with the field,
    # as for an unknown message id: the request is well formed, its target is missing.
    "unknown_sender": (404, "sender"),
    "inactive_sender": (409, "sender"),
    "empty_body": (400, "message"),
    "body_too_long": (400, "message"),
    "bad_priority": (400, "priority"),
    "unknown_recipient": (404, None),
    "bad_number": (400, "to"),
    "not_found": (404, "id"),
    "not_cancelable": (409, "id"),
    "bad_window": (400, "expiresAt"),
    "correlation_incomplete": (400, "correlationKey"),
    "bad_reply_code": (400, "replyCode"),
    # The field is the one that fills the column the error names (see sms_error).
    "value_too_long": (400, None),
    "missing_value": (400, None),
}


def sms_error(exc: errors.SmsError, recipient_field: str | None = None) -> ApiError:
    status, field = _SMS_ERRORS.get(exc.name, (400, None))
    message = exc.message
    if isinstance(exc, errors.ColumnValueError):
        # A value too long (or empty) for its column: named by the request's field, e.g.
        # "correlationKey is too long: at most 128 characters".
        field = _COLUMN_FIELDS.get(exc.column, exc.column) or recipient_field
        if field and message.startswith(exc.column):
            message = field + message[len(exc.column) :]
    return ApiError(status, exc.name, message, field=field or recipient_field)


def _text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(name, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise invalid(name, f"{name} must be a string")
    if name in _MAX_LEN and not 0 < len(value) <= _MAX_LEN[name]:
        raise invalid(name, f"{name} must have 1 to {_MAX_LEN[name]} characters")
    if name in _NON_EMPTY and not value:
        raise invalid(name, f"{name} must not be empty")
    return value


def _identifier(data: dict[str, Any], name: str) -> str:
    """Ids may be JSON integers (Fineract) or strings; stored as text (VARCHAR2(64))."""
    value = data[name]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**18:
        return str(value)
    if isinstance(value, str) and 0 < len(value.strip()) <= 64:
        return value.strip()
    raise invalid(name, f"{name} must be a non-negative integer or a string of 1 to 64 characters")


def recipient(data: dict[str, Any], key: ApiKey) -> tuple[str, str | None, str | None, str | None]:
    """(field, recipient_type, recipient_id, to_number): exactly one recipient form."""
    if "recipientType" in data and "recipientId" not in data:
        raise invalid("recipientId", "recipientType needs recipientId")
    given = [f for f in RECIPIENT_FIELDS if f in data]
    if len(given) != 1:
        field = given[1] if len(given) > 1 else "recipientId"
        raise ApiError(
            400,
            "recipient_count",
            "exactly one recipient is required: recipientType and recipientId, clientId,"
            " staffId, or to",
            field=field,
        )
    field = given[0]
    if field == "to":
        if not key.allows(Scope.RAW_NUMBERS):
            raise ApiError(
                403,
                "forbidden",
                "sending to a raw number needs the 'raw-numbers' scope",
                field="to",
            )
        return field, None, None, _text(data, "to")
    if field == "recipientId":
        kind = _text(data, "recipientType", required=True) or ""
        if not 0 < len(kind.strip()) <= 30:
            raise invalid("recipientType", "recipientType must have 1 to 30 characters")
        return field, kind.strip().upper(), _identifier(data, field), None
    return field, SHORTCUT_TYPES[field], _identifier(data, field), None


def _priority(data: dict[str, Any]) -> int:
    value = data.get("priority", 2)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("priority", "priority must be 1 (urgent), 2 (transactional) or 3 (bulk)")
    return value


@dataclass(frozen=True)
class Head:
    """What is read of a queue request before its idempotency check: the recipient (and the
    field that named it) and the correlation key."""

    field: str
    kind: str | None
    ident: str | None
    to_number: str | None
    correlation_key: str | None


def parse_head(data: dict[str, Any], key: ApiKey) -> Head:
    only_known(data, POST_FIELDS)
    field, kind, ident, to_number = recipient(data, key)
    return Head(field, kind, ident, to_number, _text(data, "correlationKey"))


def build_request(
    data: dict[str, Any], key: ApiKey, head: Head, default: Callable[[], str]
) -> EnqueueRequest:
    """The EnqueueRequest of POST /sms (and of each item of POST /sms/batch)."""
    # Idempotency is per API key, in the API's own namespace of source systems
    # ("api:<name>"), never an ERP system's even when the key has that system's name.
    source_system = apikeys.source_system(key.name) if head.correlation_key else None
    if head.correlation_key and source_system is None:
        raise invalid(
            "correlationKey",
            f"correlationKey needs an API key name of at most {apikeys.MAX_NAME_CHARS}"
            f" characters; {key.name!r} has {len(key.name)}: ask for a key with a shorter name",
        )
    return EnqueueRequest(
        sender_code=(_text(data, "sender") or default()).upper(),
        body=_text(data, "message", required=True) or "",
        recipient_type=head.kind,
        recipient_id=head.ident,
        to_number=head.to_number,
        priority=_priority(data),
        send_after=_instant(data, "sendAfter"),
        expires_at=_instant(data, "expiresAt"),
        reference=_text(data, "reference"),
        reply_code=_text(data, "replyCode"),  # checked by the store (bad_reply_code)
        source_system=source_system,
        correlation_key=head.correlation_key,
        created_by=apikeys.created_by(key.name),
    )


def earlier_row(store: Store, key: ApiKey, correlation_key: str | None) -> Message | None:
    """A row this key queued with this correlationKey before the API had its own namespace
    (source_system was the key's name): a retry must still get it back, not a second SMS.
    Only the key's own row (created_by), never an ERP system's of the same name."""
    if not correlation_key:
        return None
    page = store.list_messages(
        MessageFilter(
            source_system=key.name,
            correlation_key=correlation_key,
            created_by=apikeys.created_by(key.name),
        ),
        limit=1,
    )
    return page.items[0] if page.items else None


def default_sender(store: Store) -> str:
    active = [s.code for s in store.list_senders() if s.active]
    if len(active) != 1:
        raise invalid("sender", "sender is required when there is not exactly one sender")
    return active[0]


class SmsCollection:
    """POST /sms (queue one message), GET /sms (list with filters)."""

    auth_scopes: ClassVar[Mapping[str, Scope]] = {"POST": Scope.SEND, "GET": Scope.READ}
    query_parameters = frozenset(
        {
            "limit",
            "offset",
            "recipientType",
            "recipientId",
            "clientId",
            "staffId",
            "status",
            "sender",
            "createdFrom",
            "createdTo",
        }
    )

    def __init__(
        self, store: Store, base_url: str, max_body_bytes: int, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.base_url = base_url
        self.max_body_bytes = max_body_bytes
        self.clock = clock

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        key: ApiKey = req.context.api_key
        data = read_json_object(req, self.max_body_bytes)
        head = parse_head(data, key)
        earlier = earlier_row(self.store, key, head.correlation_key)
        if earlier is not None:
            resp.status = falcon.HTTP_202
            resp.location = f"{self.base_url}/sms/{earlier.id}"
            resp.media = status_json(earlier.id, earlier.status)
            return
        request = build_request(data, key, head, lambda: default_sender(self.store))
        try:
            new_id = self.store.enqueue(request, self.clock())
        except errors.SmsError as exc:
            raise sms_error(exc, head.field) from None
        message = self.store.get(new_id)  # its own: the namespace is the key's
        resp.status = falcon.HTTP_202
        resp.location = f"{self.base_url}/sms/{new_id}"
        resp.media = status_json(new_id, message.status if message else Status.QUEUED)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit, offset = paging(req)
        filters = _filters(req, apikeys.owner_of(req.context.api_key))
        page = (
            Page(items=[], limit=limit, offset=offset, has_more=False)
            if filters is None
            else self.store.list_messages(filters, limit, offset)
        )
        raw = may_see_numbers(req.context.api_key)
        items = [message_json(m, self.base_url, raw=raw) for m in page.items]
        resp.media = collection(
            req, self.base_url, items, limit=limit, offset=offset, has_more=page.has_more
        )


class SmsItem:
    """GET /sms/{id}: the message with its events and replies."""

    auth_scopes: ClassVar[Mapping[str, Scope]] = {"GET": Scope.READ}

    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base_url = base_url

    def on_get(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        # Another key's message is 404, as an unknown id: its existence is not revealed.
        message = self.store.get(message_id, created_by=apikeys.owner_of(req.context.api_key))
        if message is None:
            raise sms_error(errors.NotFoundError(message_id))
        resp.media = message_detail(
            message,
            self.store.events(message_id),
            self.store.replies_for(message_id),
            self.base_url,
            raw=may_see_numbers(req.context.api_key),
        )


class SmsCancel:
    """POST /sms/{id}/cancel: cancel a message that is still queued."""

    auth_scopes: ClassVar[Mapping[str, Scope]] = {"POST": Scope.SEND}

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def on_post(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        key: ApiKey = req.context.api_key
        try:
            message = self.store.cancel(
                message_id,
                self.clock(),
                f"canceled by API key {key.name}",
                created_by=apikeys.owner_of(key),  # another key's message: 404, not_found
            )
        except errors.SmsError as exc:
            raise sms_error(exc) from None
        resp.media = status_json(message.id, message.status)


def _instant(data: dict[str, Any], name: str) -> datetime | None:
    return None if data.get(name) is None else parse_instant(data[name], name)


def _filters(req: falcon.Request, owner: str | None = None) -> MessageFilter | None:
    """The filters of GET /sms, combined with AND; None when they contradict each other.

    clientId=7 is recipientType=CLIENT and recipientId=7, so clientId=7 with staffId=7 (or
    with recipientType=EMPLOYEE) matches nothing: an empty page, not an error.
    """
    kinds: set[str] = set()
    idents: set[str] = set()
    if req.get_param("recipientType") is not None:
        kinds.add(req.get_param("recipientType", default="").upper())
    if req.get_param("recipientId") is not None:
        idents.add(req.get_param("recipientId", default=""))
    for name, shortcut_type in SHORTCUT_TYPES.items():
        value = req.get_param(name)
        if value is not None:
            kinds.add(shortcut_type)
            idents.add(value)
    status = req.get_param("status")
    if status is not None and status not in Status.__members__:
        raise invalid("status", f"status must be one of {', '.join(Status.__members__)}")
    created_from, created_to = req.get_param("createdFrom"), req.get_param("createdTo")
    filters = MessageFilter(
        recipient_type=next(iter(kinds)) if kinds else None,
        recipient_id=next(iter(idents)) if idents else None,
        status=status,
        sender_code=(req.get_param("sender") or "").upper() or None,
        created_from=None
        if created_from is None
        else parse_instant(created_from, "createdFrom", clamp=True),
        created_to=None
        if created_to is None
        else parse_instant(created_to, "createdTo", clamp=True),
        created_by=owner,  # a key without admin lists only what it queued
    )
    return None if len(kinds) > 1 or len(idents) > 1 else filters
