"""The checks ``sms_api.enqueue`` makes, in Python (pure: no I/O).

Oracle runs them in PL/SQL (plsql/packages/sms_api.pkb); the SQLite dialect and the REST API run
these. Same order, same named errors, so both engines reject the same requests the same way.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from bridge import errors
from bridge.domain import column_sizes
from bridge.domain.models import EnqueueRequest, Sender
from bridge.domain.segments import utf16_units
from bridge.domain.threading_match import is_reply_code

# Who queued a message, as the QUEUED event's source: the CLI passes created_by "cli"; every
# other caller (ERP PL/SQL, the REST API) is "api". sms_api.queue decides the same way.
CLI_CREATED_BY = "cli"


def event_source(created_by: str | None) -> str:
    return "cli" if created_by == CLI_CREATED_BY else "api"


# Twilio's limit, in UTF-16 units; within sms_outbound.body's NVARCHAR2(2000) (a test checks).
MAX_BODY_CHARS = 1600
E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # fullmatch: "$" would let a trailing newline in


API_NAMESPACE = "api:"  # the REST API keys' source systems: "api:<key name>"

_OPTIONAL_TEXTS = ("reference", "reply_code", "source_system", "correlation_key", "created_by")


def blank_as_null(request: EnqueueRequest) -> EnqueueRequest:
    """The request as Oracle stores it: an empty optional text is NULL there ('' is NULL), so
    SQLite must not keep '' either (two ("", "") correlation keys would be one message)."""
    blanks: dict[str, Any] = {n: None for n in _OPTIONAL_TEXTS if getattr(request, n) == ""}
    return dataclasses.replace(request, **blanks) if blanks else request


# The texts of a request, each stored in the sms_outbound column of the same name. The body is
# left to its own rule (empty_body, body_too_long), which MAX_BODY_CHARS keeps within its column.
TEXT_COLUMNS = (
    "sender_code",
    "recipient_type",
    "recipient_id",
    "to_number",
    "reference",
    "reply_code",
    "source_system",
    "correlation_key",
    "created_by",
)


def check_lengths(request: EnqueueRequest) -> None:
    """Every text of ``request`` fits its sms_outbound column (sizes from the DDL), else
    :class:`~bridge.errors.ValueTooLongError` naming the column. Run before anything reaches
    either engine (``Store.enqueue``), so both refuse the same requests the same way; a missing
    value is left to the rules below, which name it better."""
    column_sizes.check(
        "sms_outbound", {name: getattr(request, name) for name in TEXT_COLUMNS}, empty_ok=True
    )


def check_shape(request: EnqueueRequest) -> None:
    """Everything that needs no database: recipient count, body, priority, window."""
    has_ref = request.recipient_type is not None or request.recipient_id is not None
    ref_complete = bool(request.recipient_type) and bool(request.recipient_id)
    has_number = request.to_number is not None
    if has_ref == has_number or (has_ref and not ref_complete):
        raise errors.RecipientCountError()
    if has_number and not E164.fullmatch(request.to_number or ""):
        raise errors.BadNumberError(request.to_number)
    if not request.body or not request.body.strip():
        raise errors.EmptyBodyError()
    # Characters as SMS counts them (UTF-16 units), as sms_api does with LENGTH2.
    if utf16_units(request.body) > MAX_BODY_CHARS:
        raise errors.BodyTooLongError(utf16_units(request.body))
    if isinstance(request.priority, bool) or request.priority not in (1, 2, 3):
        raise errors.BadPriorityError(request.priority)
    if (
        request.send_after is not None
        and request.expires_at is not None
        and request.expires_at <= request.send_after
    ):
        raise errors.BadWindowError()
    # Blank counts as missing: Oracle reads '' as NULL, and both engines must agree.
    if (not request.source_system) != (not request.correlation_key):
        raise errors.CorrelationIncompleteError()
    # The REST API's namespace is its keys' own: only a key queues there, as itself.
    if is_reserved_source(request.source_system) and request.source_system != request.created_by:
        raise errors.ReservedSourceSystemError(request.source_system)
    # A code the reply parser could never find would silently never match by reference.
    if request.reply_code is not None and not is_reply_code(request.reply_code):
        raise errors.BadReplyCodeError(request.reply_code)


def is_reserved_source(source_system: str | None) -> bool:
    """A source_system in the REST API's namespace ("api:...", in any case). ERP, PL/SQL and
    CLI callers may not use it; the API queues there only as the key itself (source_system =
    created_by = "api:<name>"): check_shape and sms_api.enqueue refuse anything else
    (reserved_source_system), so a key's correlation keys never meet an ERP system's."""
    head = (source_system or "")[: len(API_NAMESPACE)]
    return head.lower() == API_NAMESPACE


def check_sender(code: str, sender: Sender | None) -> Sender:
    if sender is None:
        raise errors.UnknownSenderError(code)
    if not sender.active:
        raise errors.InactiveSenderError(code)
    return sender
