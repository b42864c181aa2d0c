"""``sms-bridge recipients import|list``: the contacts a site keeps in the bridge (sms_contacts).

For a site without HR tables to map ``sms_recipients_v`` onto: the default view reads
``sms_contacts``, so an imported contact is a recipient (``enqueue --recipient TYPE:ID``).
``import`` checks the whole file first (``bridge.domain.contacts``) and writes nothing unless
every row is good, then upserts it in one transaction; ``list`` masks numbers unless asked.
``bridge.cli.main`` registers the commands with :func:`add_parsers`; the handlers have the
signature of the others there.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from bridge import errors
from bridge.cli.inbound import EXIT_OK
from bridge.config import Settings
from bridge.domain.contacts import HEADER, Contact, read_contacts
from bridge.domain.phone import mask
from bridge.store import Store


class ContactFileError(errors.ConfigError):
    """A contacts file that cannot be imported, named with its line and column. A ConfigError,
    so ``main`` prints it as one line and exits 2 (bad input), as for a wrong setting."""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``recipients import`` and ``recipients list`` on the top-level subparsers."""
    recipients = sub.add_parser(
        "recipients",
        help="contacts kept in the bridge (sms_contacts, in the default recipients view)",
    )
    actions = recipients.add_subparsers(dest="recipients_command", required=True, metavar="ACTION")
    imported = actions.add_parser(
        "import",
        help="add or update contacts from a CSV file (all rows or none)",
        description=f"Read a UTF-8 CSV file whose first line is {','.join(HEADER)}; every row is "
        "checked first (mobile read with [bridge] default_region), and a bad row fails the "
        "whole file. Rows are matched by (type, id): new ones are added, known ones replaced.",
    )
    imported.add_argument("file", type=Path, help="the CSV file")
    imported.set_defaults(handler=cmd_recipients_import)
    listed = actions.add_parser("list", help="list contacts (numbers masked)")
    listed.add_argument("--type", help="only contacts of this recipient type")
    listed.add_argument("--json", action="store_true")
    listed.add_argument("--raw-numbers", action="store_true", help="show whole numbers")
    listed.set_defaults(handler=cmd_recipients_list)


def cmd_recipients_import(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContactFileError(f"{path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContactFileError(f"{path}:{line}: not UTF-8 text (save the file as UTF-8)") from None
    found = read_contacts(text, settings.bridge.default_region)
    if found.problems:
        first, more = found.problems[0], len(found.problems) - 1
        others = f" (and {more} more bad row{'s' if more > 1 else ''}; nothing imported)"
        raise ContactFileError(
            f"{path}:{first.line}: {first.field}: {first.message}"
            + (others if more else " (nothing imported)")
        )
    saved = store.upsert_contacts(found.contacts, store.now())
    print(
        f"{len(found.contacts)} contacts imported ({saved.inserted} new, {saved.updated} updated)"
    )
    return EXIT_OK


def cmd_recipients_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    kind = args.type.strip().upper() if args.type else None  # as enqueue --recipient reads it
    contacts = store.list_contacts(kind)
    shown = [_row(c, raw=args.raw_numbers) for c in contacts]
    if args.json:
        print(json.dumps(shown, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not shown:
        print(f"no contacts{f' of type {kind}' if kind else ''}")
        return EXIT_OK
    columns = ("type", "id", "name", "mobile", "time_zone", "manager_email", "updated_at")
    cells = [[str(row[c] if row[c] is not None else "-") for c in columns] for row in shown]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    for line in [list(columns), *cells]:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    return EXIT_OK


def _row(contact: Contact, *, raw: bool) -> dict[str, Any]:
    """One contact under the CSV's column names (so a listing reads like the file)."""
    return {
        "type": contact.recipient_type,
        "id": contact.recipient_id,
        "name": contact.full_name,
        "mobile": contact.mobile_number if raw else mask(contact.mobile_number),
        "time_zone": contact.time_zone,
        "manager_email": contact.manager_email,
        "created_at": _instant(contact.created_at),
        "updated_at": _instant(contact.updated_at),
    }


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds").replace("+00:00", "Z")
