"""Store operations for the contacts a site keeps in the bridge (``sms_contacts``).

A mixin of :class:`bridge.store.Store`, like ``inbound_store.py``. ``upsert_contacts`` writes a
whole batch in one transaction (all or nothing): every value is checked against its column
before anything is bound, the rows already there are read in the same transaction (so the
counts say what it did), and each dialect writes them with one ``executemany`` per chunk
(SQLite: ``INSERT ... ON CONFLICT``; Oracle: ``MERGE`` with typed binds). The default
``sms_recipients_v`` reads the table, so a contact is a recipient once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bridge.domain.contacts import Contact, size_problems
from bridge.store.dialect import Params, Tx, chunks, ids_in
from bridge.store.rows import StoreBase, build

# Rows per executemany (and ids per IN list: Oracle allows 1000 expressions in one).
CONTACT_CHUNK = 500

LIST_CONTACTS = """
SELECT recipient_type, recipient_id, full_name, mobile_number, time_zone, manager_email,
       created_at, updated_at
  FROM sms_contacts
"""

EXISTING_CONTACTS = """
SELECT recipient_id FROM sms_contacts
 WHERE recipient_type = :recipient_type AND recipient_id IN ({ids})
"""


@dataclass(frozen=True)
class ContactsSaved:
    inserted: int
    updated: int


@runtime_checkable
class ContactsDialect(Protocol):
    """What a dialect adds for this mixin (both engines' dialects implement it)."""

    def upsert_contacts(self, tx: Tx, rows: Sequence[Params]) -> None:
        """Insert or update each row (the columns of sms_contacts plus ``now``) by its key."""


class ContactStoreMixin(StoreBase):
    def upsert_contacts(self, contacts: Sequence[Contact], now: datetime) -> ContactsSaved:
        """Insert or update ``contacts`` by (recipient_type, recipient_id), all or none.

        A value sms_contacts cannot hold, or a key given twice, raises ValueError naming the
        contact before anything is written; a row the database refuses (its CHECKs: an
        upper-case type, an E.164 number) rolls back the whole batch.
        """
        first: dict[tuple[str, str], int] = {}
        for index, contact in enumerate(contacts, start=1):
            # One row per key: SQLite's ON CONFLICT lets the last one win, an Oracle MERGE run
            # with executemany promises no such order (a duplicate can meet ORA-00001), and
            # the counts below assume distinct keys. read_contacts refuses such a file already.
            earlier = first.setdefault(contact.key, index)
            if earlier != index:
                raise ValueError(
                    f"contact {index} ({contact.recipient_type} {contact.recipient_id}):"
                    f" the same type and id as contact {earlier}"
                )
            problems = size_problems(contact)
            if problems:
                column, why = problems[0]
                raise ValueError(
                    f"contact {index} ({contact.recipient_type} {contact.recipient_id}):"
                    f" {column} {why}"
                )
        dialect = self.dialect
        assert isinstance(dialect, ContactsDialect)
        rows = [
            {
                "recipient_type": c.recipient_type,
                "recipient_id": c.recipient_id,
                "full_name": c.full_name,
                "mobile_number": c.mobile_number,
                "time_zone": c.time_zone,
                "manager_email": c.manager_email,
                "now": now,
            }
            for c in contacts
        ]
        keys = {c.key for c in contacts}
        with self.dialect.transaction("contacts") as tx:
            existing = self._existing_contacts(tx, keys)
            for part in chunks(rows, CONTACT_CHUNK):
                dialect.upsert_contacts(tx, part)
        inserted = len(keys - existing)
        return ContactsSaved(inserted=inserted, updated=len(rows) - inserted)

    def list_contacts(self, recipient_type: str | None = None) -> list[Contact]:
        """Every contact, or those of one type, by type then id."""
        sql, params = LIST_CONTACTS, dict[str, str]()
        if recipient_type is not None:
            sql += " WHERE recipient_type = :recipient_type"
            params["recipient_type"] = recipient_type
        with self.dialect.transaction("contacts", write=False) as tx:
            found = tx.rows(sql + " ORDER BY recipient_type, recipient_id", params)
        return [build(Contact, row) for row in found]

    def _existing_contacts(self, tx: Tx, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        by_type: dict[str, list[str]] = {}
        for kind, ident in sorted(keys):
            by_type.setdefault(kind, []).append(ident)
        existing: set[tuple[str, str]] = set()
        for kind, idents in by_type.items():
            for part in chunks(idents, CONTACT_CHUNK):
                in_list, binds = ids_in(part)
                found = tx.rows(
                    EXISTING_CONTACTS.format(ids=in_list), {"recipient_type": kind, **binds}
                )
                existing.update((kind, row["recipient_id"]) for row in found)
        return existing
