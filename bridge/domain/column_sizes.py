"""The text columns of the Oracle tables, and the checks a value makes before it is bound.

Pure (no I/O): the table below is derived from ``plsql/tables/*.sql`` by
``python -m bridge.store.column_sizes --write``, which rewrites only the block between the
GENERATED markers (the installed package has no ``plsql/``; ``tests/store`` fails when the block
and the DDL differ). Every text the store binds to a sized column is checked here first, on
both engines: SQLite stores any length, Oracle refuses what does not fit (ORA-12899), so a value
that passes here fits both, and both refuse the same values with the same named error.

How a column counts (Oracle's length semantics, in an AL32UTF8 database):

- ``VARCHAR2(n)`` / ``VARCHAR2(n BYTE)``: n bytes, counted in UTF-8 (what AL32UTF8 stores, and
  never less than a single-byte character set needs);
- ``VARCHAR2(n CHAR)``: n characters (code points: AL32UTF8 counts an emoji as one);
- ``NVARCHAR2(n)``: n characters of the AL16UTF16 national character set, i.e. UTF-16 code
  units (an emoji counts two, as ``LENGTH2`` and SMS count it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bridge import errors
from bridge.domain.segments import fit_utf16, utf16_units

BYTE = "BYTE"
CHAR = "CHAR"
_NATIONAL = frozenset({"NVARCHAR2", "NCHAR"})


@dataclass(frozen=True)
class Column:
    """One text column: its type, its size in its own unit, and whether it takes NULL."""

    type: str  # VARCHAR2, NVARCHAR2, CHAR or NCHAR
    size: int
    semantics: str  # BYTE or CHAR; NVARCHAR2/NCHAR are CHAR, counted in UTF-16 units
    nullable: bool

    @property
    def chars(self) -> bool:
        """The size counts characters (CHAR semantics or a national type), not bytes."""
        return self.semantics == CHAR

    @property
    def unit(self) -> str:
        return "characters" if self.chars else "bytes"

    @property
    def limit(self) -> str:
        """The size as a message shows it: ``128 characters``, ``30 bytes``."""
        return f"{self.size} {self.unit}"

    def length(self, value: str) -> int:
        """The length of ``value`` as this column counts it."""
        if self.type in _NATIONAL:
            return utf16_units(value)
        if self.chars:
            return len(value)
        return len(value.encode("utf-8"))

    def fits(self, value: str) -> bool:
        return self.length(value) <= self.size

    def fit(self, value: str) -> str:
        """The longest prefix of ``value`` this column holds, never splitting a character
        (a surrogate pair, a UTF-8 sequence): for free text the bridge writes itself."""
        if self.fits(value):
            return value
        if self.type in _NATIONAL:
            return fit_utf16(value, self.size)
        if self.chars:
            return value[: self.size]
        return value.encode("utf-8")[: self.size].decode("utf-8", errors="ignore")


def column(table: str, name: str) -> Column:
    """The text column ``table.name``; KeyError when the DDL has no such text column."""
    return COLUMNS[table][name]


def fit(table: str, name: str, value: str | None) -> str | None:
    """``value`` cut to what ``table.name`` holds (None stays None)."""
    return None if value is None else column(table, name).fit(value)


def problem(table: str, name: str, value: str | None, *, empty_ok: bool = False) -> str | None:
    """Why ``table.name`` cannot hold ``value`` (None: it can).

    ``empty_ok`` False: None or '' in a NOT NULL column is a problem too (Oracle reads '' as
    NULL, and refuses it with ORA-01400 where SQLite would store it).
    """
    spec = column(table, name)
    if value is None or value == "":
        return None if empty_ok or spec.nullable else "is empty"
    length = spec.length(value)
    if length > spec.size:
        return f"has {length} {spec.unit}; at most {spec.size} fit"
    return None


def check(table: str, values: Mapping[str, object], *, empty_ok: bool = False) -> None:
    """Raise the named error for the first text in ``values`` that its column of ``table``
    cannot hold: :class:`~bridge.errors.ValueTooLongError` (longer than the column) or
    :class:`~bridge.errors.MissingValueError` (None or '' in a NOT NULL column, unless
    ``empty_ok``). Keys that are not text columns of ``table`` (``now``, numbers) are ignored,
    so a statement's binds can be passed as they are."""
    columns = COLUMNS[table]
    for name, value in values.items():
        spec = columns.get(name)
        if spec is None or not (value is None or isinstance(value, str)):
            continue
        if value is None or value == "":
            if not (empty_ok or spec.nullable):
                raise errors.MissingValueError(name)
        elif spec.length(value) > spec.size:
            raise errors.ValueTooLongError(name, spec.limit)


# ORA-12899: value too large for column "APP"."SMS_OUTBOUND"."CORRELATION_KEY" (actual: 130,
# maximum: 128); ORA-01400: cannot insert NULL into ("APP"."SMS_OUTBOUND"."BODY"); ORA-01407:
# cannot update ("APP"."SMS_OUTBOUND"."BODY") to NULL.
_QUOTED_NAME = re.compile(r'"([^"]+)"')
_SIZES = re.compile(r"actual:\s*(?P<actual>\d+),\s*maximum:\s*(?P<maximum>\d+)")
_MISSING_CODES = frozenset({"ORA-01400", "ORA-01407"})


def from_oracle(full_code: str, message: str) -> errors.SmsError | None:
    """The named error for Oracle's own "does not fit" errors, which a value reaching the
    database unchecked meets: ORA-12899 is ``value_too_long``, ORA-01400/ORA-01407 (NULL in a
    NOT NULL column) ``missing_value``, each naming the column (and the limit the database
    reports, else the DDL's). None for any other error."""
    if full_code != "ORA-12899" and full_code not in _MISSING_CODES:
        return None
    first_line = message.splitlines()[0] if message else ""
    names = [name.lower() for name in _QUOTED_NAME.findall(first_line)]
    table, name = (names[-2], names[-1]) if len(names) >= 2 else ("", names[-1] if names else "")
    shown = name or "a value"
    if full_code in _MISSING_CODES:
        return errors.MissingValueError(shown)
    # The database's numbers, in its column's own unit: the column may differ from the DDL
    # here (a schema installed before a change to CHAR semantics, say).
    sizes = _SIZES.search(first_line)
    spec = COLUMNS.get(table, {}).get(name)
    if sizes is not None:
        limit = f"{sizes['maximum']} (the value has {sizes['actual']})"
    else:
        limit = spec.limit if spec is not None else "the size of its column"
    return errors.ValueTooLongError(shown, limit)


# BEGIN GENERATED by `python -m bridge.store.column_sizes --write` from plsql/tables/*.sql
COLUMNS: Mapping[str, Mapping[str, Column]] = {
    "sms_api_keys": {
        "name": Column("VARCHAR2", 100, BYTE, nullable=False),
        "key_prefix": Column("VARCHAR2", 16, BYTE, nullable=False),
        "key_hash": Column("VARCHAR2", 128, BYTE, nullable=False),
        "scopes": Column("VARCHAR2", 400, BYTE, nullable=False),
    },
    "sms_batches": {
        "source": Column("VARCHAR2", 10, BYTE, nullable=False),
        "label": Column("VARCHAR2", 200, CHAR, nullable=True),
        "created_by": Column("VARCHAR2", 128, BYTE, nullable=True),
    },
    "sms_contacts": {
        "recipient_type": Column("VARCHAR2", 30, BYTE, nullable=False),
        "recipient_id": Column("VARCHAR2", 64, BYTE, nullable=False),
        "full_name": Column("VARCHAR2", 200, CHAR, nullable=True),
        "mobile_number": Column("VARCHAR2", 32, BYTE, nullable=False),
        "time_zone": Column("VARCHAR2", 64, BYTE, nullable=True),
        "manager_email": Column("VARCHAR2", 254, BYTE, nullable=True),
    },
    "sms_events": {
        "status": Column("VARCHAR2", 12, BYTE, nullable=False),
        "provider_status": Column("VARCHAR2", 32, BYTE, nullable=True),
        "source": Column("VARCHAR2", 10, BYTE, nullable=False),
        "applied": Column("VARCHAR2", 1, BYTE, nullable=False),
        "detail": Column("VARCHAR2", 1000, CHAR, nullable=True),
        "callback_key": Column("VARCHAR2", 100, BYTE, nullable=True),
    },
    "sms_inbound": {
        "message_sid": Column("VARCHAR2", 64, BYTE, nullable=False),
        "account_sid": Column("VARCHAR2", 64, BYTE, nullable=True),
        "from_number": Column("VARCHAR2", 32, BYTE, nullable=False),
        "to_number": Column("VARCHAR2", 32, BYTE, nullable=False),
        "body": Column("NVARCHAR2", 2000, CHAR, nullable=True),
        "keyword": Column("VARCHAR2", 30, CHAR, nullable=True),
        "match_method": Column("VARCHAR2", 10, BYTE, nullable=True),
        "recipient_type": Column("VARCHAR2", 30, BYTE, nullable=True),
        "recipient_id": Column("VARCHAR2", 64, BYTE, nullable=True),
        "status": Column("VARCHAR2", 10, BYTE, nullable=False),
        "error_message": Column("VARCHAR2", 1000, CHAR, nullable=True),
    },
    "sms_job_runs": {
        "job_name": Column("VARCHAR2", 30, BYTE, nullable=False),
        "run_by": Column("VARCHAR2", 128, BYTE, nullable=True),
    },
    "sms_keywords": {
        "keyword": Column("VARCHAR2", 30, CHAR, nullable=False),
        "sender_code": Column("VARCHAR2", 30, BYTE, nullable=False),
        "action": Column("VARCHAR2", 10, BYTE, nullable=False),
        "handler": Column("VARCHAR2", 400, BYTE, nullable=True),
        "reply_text": Column("NVARCHAR2", 2000, CHAR, nullable=True),
        "active": Column("VARCHAR2", 1, BYTE, nullable=False),
    },
    "sms_number_lookups": {
        "phone_number": Column("VARCHAR2", 32, BYTE, nullable=False),
        "line_type": Column("VARCHAR2", 20, BYTE, nullable=False),
        "carrier": Column("VARCHAR2", 200, CHAR, nullable=True),
    },
    "sms_optouts": {
        "phone_number": Column("VARCHAR2", 32, BYTE, nullable=False),
        "scope": Column("VARCHAR2", 40, BYTE, nullable=False),
        "state": Column("VARCHAR2", 10, BYTE, nullable=False),
        "keyword": Column("VARCHAR2", 30, CHAR, nullable=True),
        "source": Column("VARCHAR2", 30, BYTE, nullable=False),
    },
    "sms_outbound": {
        "sender_code": Column("VARCHAR2", 30, BYTE, nullable=False),
        "recipient_type": Column("VARCHAR2", 30, BYTE, nullable=True),
        "recipient_id": Column("VARCHAR2", 64, BYTE, nullable=True),
        "to_number": Column("VARCHAR2", 32, BYTE, nullable=True),
        "body": Column("NVARCHAR2", 2000, CHAR, nullable=False),
        "status": Column("VARCHAR2", 12, BYTE, nullable=False),
        "status_reason": Column("VARCHAR2", 400, CHAR, nullable=True),
        "reference": Column("VARCHAR2", 100, CHAR, nullable=True),
        "reply_code": Column("VARCHAR2", 20, BYTE, nullable=True),
        "source_system": Column("VARCHAR2", 30, BYTE, nullable=True),
        "correlation_key": Column("VARCHAR2", 128, CHAR, nullable=True),
        "claimed_by": Column("VARCHAR2", 128, BYTE, nullable=True),
        "provider_sid": Column("VARCHAR2", 64, BYTE, nullable=True),
        "provider_status": Column("VARCHAR2", 32, BYTE, nullable=True),
        "error_message": Column("VARCHAR2", 1000, CHAR, nullable=True),
        "encoding": Column("VARCHAR2", 10, BYTE, nullable=True),
        "created_by": Column("VARCHAR2", 128, BYTE, nullable=True),
        "price_unit": Column("VARCHAR2", 3, BYTE, nullable=True),
    },
    "sms_schema_version": {
        "description": Column("VARCHAR2", 200, CHAR, nullable=False),
    },
    "sms_senders": {
        "code": Column("VARCHAR2", 30, BYTE, nullable=False),
        "description": Column("VARCHAR2", 200, CHAR, nullable=True),
        "from_number": Column("VARCHAR2", 32, BYTE, nullable=True),
        "messaging_service_sid": Column("VARCHAR2", 64, BYTE, nullable=True),
        "quiet_start": Column("VARCHAR2", 5, BYTE, nullable=True),
        "quiet_end": Column("VARCHAR2", 5, BYTE, nullable=True),
        "default_time_zone": Column("VARCHAR2", 64, BYTE, nullable=False),
        "help_text": Column("NVARCHAR2", 2000, CHAR, nullable=True),
        "active": Column("VARCHAR2", 1, BYTE, nullable=False),
        "line_type_lookup": Column("VARCHAR2", 1, BYTE, nullable=False),
        "twilio_account": Column("VARCHAR2", 30, BYTE, nullable=True),
    },
}
# END GENERATED
