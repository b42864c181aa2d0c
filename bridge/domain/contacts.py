"""Contacts a site keeps in the bridge itself (``sms_contacts``), and the rules of a contacts file.

Pure: the CSV text and the default region are passed in (the CLI reads the file and the
settings); nothing here reads a file, the environment or a clock. A file is checked whole
before anything is written, and every problem names its line and its column, so an operator
can fix the file and import it again.

The sizes are the columns of ``plsql/tables/sms_contacts.sql``, read from the table generated
from that DDL (:mod:`bridge.domain.column_sizes`). A value that passes here fits both engines;
the store checks them again before it binds anything (:func:`size_problems`), whoever the
caller is.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.domain import column_sizes, phone

# The header of a contacts file, in the documented order (any order is read).
HEADER = ("type", "id", "name", "mobile", "time_zone", "manager_email")
# CSV column -> sms_contacts column.
CSV_COLUMNS: Mapping[str, str] = {
    "type": "recipient_type",
    "id": "recipient_id",
    "name": "full_name",
    "mobile": "mobile_number",
    "time_zone": "time_zone",
    "manager_email": "manager_email",
}


# sms_contacts column -> its size and semantics (CHAR: characters; else UTF-8 bytes), from the
# DDL; the Oracle dialect sizes its binds with them.
COLUMN_SIZES: Mapping[str, column_sizes.Column] = {
    name: column_sizes.column("sms_contacts", name) for name in CSV_COLUMNS.values()
}
REQUIRED_COLUMNS = frozenset(name for name, spec in COLUMN_SIZES.items() if not spec.nullable)

_TYPE = re.compile(r"[A-Z0-9_-]+", re.ASCII)
# Plausible, not RFC 5322: an ASCII local part, an @, and a domain with at least one dot.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+",
    re.ASCII,
)


@dataclass(frozen=True)
class Contact:
    """One row of sms_contacts (the timestamps are set when read back from the store)."""

    recipient_type: str
    recipient_id: str
    full_name: str | None
    mobile_number: str  # E.164
    time_zone: str | None = None
    manager_email: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.recipient_type, self.recipient_id)


@dataclass(frozen=True)
class Problem:
    """Why one line of a contacts file cannot be imported."""

    line: int  # 1-based line of the file where the row starts (the header is line 1)
    field: str  # the CSV column, or "header" / "row" for the shape of the file
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass(frozen=True)
class ContactFile:
    """What a contacts file holds: the contacts when ``problems`` is empty."""

    contacts: tuple[Contact, ...]
    problems: tuple[Problem, ...]


def size_problems(contact: Contact) -> list[tuple[str, str]]:
    """(column, why) for each value of ``contact`` that sms_contacts cannot hold: a required one
    missing, or one longer than its column."""
    problems: list[tuple[str, str]] = []
    for column in COLUMN_SIZES:
        why = column_sizes.problem("sms_contacts", column, getattr(contact, column))
        if why is not None:
            problems.append((column, why))
    return problems


def read_contacts(text: str, default_region: str) -> ContactFile:
    """Every row of a contacts CSV (``text``, already decoded), checked.

    The first line is the header (:data:`HEADER`, in any order, case and surrounding spaces
    ignored); blank lines are skipped; values are stripped. A pair (type, id) may appear once.
    """
    text = text.removeprefix("\ufeff")  # a byte order mark, as spreadsheets write one
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return ContactFile((), (Problem(1, "header", f"not CSV: {exc}"),))
    columns = [name.strip().lower() for name in header or ()]
    problem = _header_problem(columns)
    if problem is not None:
        return ContactFile((), (Problem(1, "header", problem),))
    contacts: list[Contact] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader, None)
        except csv.Error as exc:
            problems.append(Problem(line, "row", f"not CSV: {exc}"))
            break  # the reader cannot say where the next row starts
        if values is None:
            break
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(columns):
            problems.append(
                Problem(line, "row", f"{len(values)} fields; the header has {len(columns)}")
            )
            continue
        found = contact_from_fields(dict(zip(columns, values, strict=True)), default_region)
        if isinstance(found, tuple):
            problems.append(Problem(line, *found))
            continue
        first = seen.setdefault(found.key, line)
        if first != line:
            duplicate = f"{found.recipient_type} {found.recipient_id} is already on line {first}"
            problems.append(Problem(line, "id", duplicate))
            continue
        contacts.append(found)
    return ContactFile(tuple(contacts), tuple(problems))


def contact_from_fields(
    fields: Mapping[str, str], default_region: str
) -> Contact | tuple[str, str]:
    """The contact one CSV row describes, or (CSV column, why not) for its first bad value."""
    values = {name: fields.get(name, "").strip() for name in HEADER}
    for name, value in values.items():
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            return name, "holds a control character"
    kind = values["type"].upper()
    if not kind:
        return "type", "is empty"
    if not _TYPE.fullmatch(kind):
        return "type", f"{values['type']!r} is not letters, digits, '_' or '-'"
    if not values["id"]:
        return "id", "is empty"
    if not values["mobile"]:
        return "mobile", "is empty"
    number = phone.normalize(values["mobile"], default_region)
    if isinstance(number, phone.Rejected):
        # Without a country code the number was read in the default region: say which.
        national = not values["mobile"].startswith("+")
        hint = (
            f" (read in region {default_region})" if national and "region" in number.reason else ""
        )
        return "mobile", f"{number.reason}{hint}"
    zone = values["time_zone"] or None
    if zone is not None and not _known_zone(zone):
        return "time_zone", f"{zone!r} is not a known time zone (e.g. Europe/Paris)"
    email = values["manager_email"] or None
    if email is not None and not _EMAIL.fullmatch(email):
        return "manager_email", f"{email!r} is not an email address"
    contact = Contact(
        recipient_type=kind,
        recipient_id=values["id"],
        full_name=values["name"] or None,
        mobile_number=number.e164,
        time_zone=zone,
        manager_email=email,
    )
    for column, why in size_problems(contact):
        return _CSV_NAMES[column], why
    return contact


_CSV_NAMES = {column: name for name, column in CSV_COLUMNS.items()}


def _header_problem(columns: Sequence[str]) -> str | None:
    expected = ",".join(HEADER)
    if not any(columns):
        return f"the file is empty; the first line must be {expected}"
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    missing = [c for c in HEADER if c not in columns]
    unknown = [c for c in columns if c not in HEADER]
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if unknown:
        parts.append("unknown " + ", ".join(repr(c) for c in unknown))
    if repeated:
        parts.append("repeated " + ", ".join(repeated))
    return f"{'; '.join(parts)} (expected {expected})" if parts else None


def _known_zone(name: str) -> bool:
    # The same test the worker applies to a recipient's zone (domain.policy.zone_for).
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
