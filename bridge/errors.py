"""One error base class, and the named SMS errors shared with PL/SQL.

The table below is the single Python source of the named errors. ``plsql/packages/sms_err.pks``
declares the same names, numbers and messages (``tests/plsql/test_plsql_error_parity.py`` keeps
them equal), so a caller sees the same error whether the row was queued from PL/SQL, the CLI or
the REST API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


class BridgeError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(BridgeError):
    """A configuration value is missing or wrong; the message names the key and the file."""


class StoreError(BridgeError):
    """The database could not be reached or answered unexpectedly."""


class SchemaMissingError(StoreError):
    """The database has no bridge schema (or, on SQLite, does not exist): only ``sms-bridge db
    install`` creates one, so a mistyped path never becomes an empty database."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"no sms-bridge schema in {where}: run `sms-bridge db install` to create it"
        )


@dataclass(frozen=True)
class ErrorSpec:
    name: str  # PL/SQL exception name without the e_ prefix, e.g. "unknown_sender"
    number: int  # ORA-20xxx number as raised by raise_application_error
    message: str  # template; %s placeholders are filled left to right, as in sms_err.msg


ERROR_SPECS: tuple[ErrorSpec, ...] = (
    ErrorSpec(
        "recipient_count",
        -20001,
        "exactly one recipient is required: a recipient type and id, or a number",
    ),
    ErrorSpec("unknown_sender", -20002, "unknown sender %s"),
    ErrorSpec("inactive_sender", -20003, "sender %s is not active"),
    ErrorSpec("empty_body", -20004, "the message body is empty"),
    ErrorSpec(
        "body_too_long", -20005, "the message body has %s characters; at most 1600 are allowed"
    ),
    ErrorSpec(
        "bad_priority", -20006, "priority %s is not 1 (urgent), 2 (transactional) or 3 (bulk)"
    ),
    ErrorSpec("unknown_recipient", -20007, "unknown recipient %s %s"),
    ErrorSpec("bad_number", -20008, "%s is not an E.164 phone number"),
    ErrorSpec("not_found", -20009, "no message with id %s"),
    ErrorSpec("not_cancelable", -20010, "message %s is %s and can no longer be canceled"),
    ErrorSpec("bad_window", -20011, "expires_at is not after send_after"),
    ErrorSpec(
        "correlation_incomplete", -20012, "source_system and correlation_key must be given together"
    ),
    ErrorSpec(
        "bad_reply_code",
        -20013,
        "reply code %s is not 2 to 16 letters, digits or inner hyphens with at least one digit",
    ),
    # A text longer than its column (bridge/domain/column_sizes.py checks every text before it
    # is bound; an ORA-12899 that still reaches the Oracle dialect becomes this error too).
    ErrorSpec("value_too_long", -20014, "%s is too long: at most %s"),
    # NULL, or '' (which Oracle reads as NULL), for a NOT NULL column (ORA-01400, ORA-01407).
    ErrorSpec("missing_value", -20015, "%s must not be empty"),
    # "api:..." source systems are the REST API's (its keys' correlation keys): only a key
    # itself queues there, as created_by "api:<name>" (enqueue_rules.is_reserved_source).
    ErrorSpec(
        "reserved_source_system",
        -20016,
        "source system %s is reserved for the REST API (api:...): use another source system",
    ),
    # A message queued into a batch (sms_batches) that does not exist.
    ErrorSpec("unknown_batch", -20017, "unknown batch %s"),
    # A batch source (sms_batches.source) other than PLSQL, CSV or REST.
    ErrorSpec("bad_batch_source", -20018, "batch source %s is not PLSQL, CSV or REST"),
)

SPECS_BY_NAME = {spec.name: spec for spec in ERROR_SPECS}


class SendGateBusy(StoreError):
    """Another worker held the identical-twin gate too long (Oracle: FOR UPDATE WAIT ran out):
    this round's claims are given back without using an attempt, and claimed again later."""


class RepeatedKeyError(BridgeError):
    """An item of one batch carries the correlation key of an earlier item of the same batch.
    Queuing it would answer it with the earlier item's id and silently drop its own message;
    it is refused instead, naming the earlier item (``first``: its position in the call)."""

    name = "duplicate_correlation_key"

    def __init__(self, correlation_key: str, first: int) -> None:
        super().__init__(f"correlation key {correlation_key!r} repeats an earlier item's")
        self.correlation_key = correlation_key
        self.first = first


class SmsError(BridgeError):
    """A named error from the enqueue API; ``spec`` ties it to its PL/SQL twin."""

    spec: ClassVar[ErrorSpec]

    def __init__(self, *args: object, message: str | None = None) -> None:
        if message is None:
            shown = tuple(_shown(a) for a in args)
            message = self.spec.message % shown if args else self.spec.message
        super().__init__(message)
        self.message = message

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def number(self) -> int:
        return self.spec.number


class ColumnValueError(SmsError):
    """A named error about the value of one column; ``column`` names it (``correlation_key``),
    so a caller can name its own field (the REST API answers with ``correlationKey``)."""

    def __init__(self, *args: object, message: str | None = None) -> None:
        super().__init__(*args, message=message)
        # The template starts with the column: from Oracle's text, its first word.
        self.column: str = str(args[0]) if args else self.message.split(" ", 1)[0]


def _shown(value: object) -> str:
    """A value as the message shows it: quoted when it holds a newline or another control
    character, so the error stays one line and the stray character is visible."""
    text = str(value)
    return repr(text) if not text.isprintable() else text


def _error_class(spec: ErrorSpec, base: type[SmsError] = SmsError) -> type[SmsError]:
    class_name = "".join(part.title() for part in spec.name.split("_")) + "Error"
    return type(class_name, (base,), {"spec": spec, "__doc__": spec.message})


RecipientCountError = _error_class(SPECS_BY_NAME["recipient_count"])
UnknownSenderError = _error_class(SPECS_BY_NAME["unknown_sender"])
InactiveSenderError = _error_class(SPECS_BY_NAME["inactive_sender"])
EmptyBodyError = _error_class(SPECS_BY_NAME["empty_body"])
BodyTooLongError = _error_class(SPECS_BY_NAME["body_too_long"])
BadPriorityError = _error_class(SPECS_BY_NAME["bad_priority"])
UnknownRecipientError = _error_class(SPECS_BY_NAME["unknown_recipient"])
BadNumberError = _error_class(SPECS_BY_NAME["bad_number"])
NotFoundError = _error_class(SPECS_BY_NAME["not_found"])
NotCancelableError = _error_class(SPECS_BY_NAME["not_cancelable"])
BadWindowError = _error_class(SPECS_BY_NAME["bad_window"])
CorrelationIncompleteError = _error_class(SPECS_BY_NAME["correlation_incomplete"])
BadReplyCodeError = _error_class(SPECS_BY_NAME["bad_reply_code"])
ValueTooLongError = _error_class(SPECS_BY_NAME["value_too_long"], ColumnValueError)
MissingValueError = _error_class(SPECS_BY_NAME["missing_value"], ColumnValueError)
ReservedSourceSystemError = _error_class(SPECS_BY_NAME["reserved_source_system"])
UnknownBatchError = _error_class(SPECS_BY_NAME["unknown_batch"])
BadBatchSourceError = _error_class(SPECS_BY_NAME["bad_batch_source"])

ERROR_CLASSES: dict[int, type[SmsError]] = {
    cls.spec.number: cls
    for cls in (
        RecipientCountError,
        UnknownSenderError,
        InactiveSenderError,
        EmptyBodyError,
        BodyTooLongError,
        BadPriorityError,
        UnknownRecipientError,
        BadNumberError,
        NotFoundError,
        NotCancelableError,
        BadWindowError,
        CorrelationIncompleteError,
        BadReplyCodeError,
        ValueTooLongError,
        MissingValueError,
        ReservedSourceSystemError,
        UnknownBatchError,
        BadBatchSourceError,
    )
}


def from_oracle(number: int, message: str) -> SmsError | None:
    """Map an ORA-20xxx raised by sms_api to its Python class, keeping Oracle's message text."""
    cls = ERROR_CLASSES.get(number)
    if cls is None:
        return None
    # Oracle prefixes "ORA-20002: " and may append the PL/SQL call stack on later lines.
    first_line = message.splitlines()[0] if message else ""
    text = first_line.split(": ", 1)[1] if first_line.startswith("ORA-") else first_line
    return cls(message=text or cls.spec.message)
