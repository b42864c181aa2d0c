"""Store operations for the Twilio Lookup cache (``sms_number_lookups``).

A mixin of :class:`bridge.store.Store`. The worker reads the answers of a batch's numbers in
one query before it sends, and writes the new answers in one transaction. The write is one
portable statement pair, UPDATE then INSERT, on both engines: on SQLite the write transaction
(``BEGIN IMMEDIATE``) runs alone, so the INSERT never meets a twin; on Oracle two workers
looking up one new number at once can both take the INSERT, and the later one fails with
ORA-00001 after waiting for the other's commit (Oracle undoes only that statement): its UPDATE,
run again, then finds the row and writes its own, equally fresh, answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bridge.domain import column_sizes
from bridge.domain.line_types import LineType
from bridge.store.dialect import chunks, ids_in
from bridge.store.rows import StoreBase

LOOKUP_CHUNK = 500  # numbers per IN list (Oracle allows 1000 expressions in one)

GET_LOOKUPS = """
SELECT phone_number, line_type, carrier, looked_up_at, error_code
  FROM sms_number_lookups
 WHERE phone_number IN ({numbers})
"""

UPDATE_LOOKUP = """
UPDATE sms_number_lookups
   SET line_type = :line_type, carrier = :carrier, looked_up_at = :looked_up_at,
       error_code = :error_code
 WHERE phone_number = :phone_number
"""

INSERT_LOOKUP = """
INSERT INTO sms_number_lookups (phone_number, line_type, carrier, looked_up_at, error_code)
VALUES (:phone_number, :line_type, :carrier, :looked_up_at, :error_code)
"""


class LookupStoreMixin(StoreBase):
    def line_types(self, numbers: Iterable[str]) -> dict[str, LineType]:
        """The cached answers of ``numbers`` (fresh or not: the caller applies the TTL)."""
        wanted = sorted(set(numbers))
        found: dict[str, LineType] = {}
        if not wanted:
            return found
        with self.dialect.transaction("lookup", write=False) as tx:
            for part in chunks(wanted, LOOKUP_CHUNK):
                in_list, binds = ids_in(part, "n")
                for row in tx.rows(GET_LOOKUPS.format(numbers=in_list), binds):
                    found[str(row["phone_number"])] = LineType(
                        phone_number=str(row["phone_number"]),
                        line_type=str(row["line_type"]),
                        looked_up_at=row["looked_up_at"],
                        carrier=row["carrier"],
                        error_code=None if row["error_code"] is None else int(row["error_code"]),
                    )
        return found

    def save_line_types(self, answers: Sequence[LineType]) -> None:
        """Insert or replace the answers of their numbers, in one transaction."""
        if not answers:
            return
        rows: list[dict[str, Any]] = []
        for answer in answers:
            row = {
                "phone_number": answer.phone_number,
                "line_type": answer.line_type,
                # Twilio's carrier name is not ours to refuse: cut to the column.
                "carrier": column_sizes.fit("sms_number_lookups", "carrier", answer.carrier),
                "looked_up_at": answer.looked_up_at,
                "error_code": answer.error_code,
            }
            column_sizes.check("sms_number_lookups", row)
            rows.append(row)
        rows.sort(key=lambda r: str(r["phone_number"]))  # one lock order for every caller
        with self.dialect.transaction("lookup") as tx:
            for row in rows:
                if tx.execute(UPDATE_LOOKUP, row) > 0:
                    continue
                try:
                    tx.execute(INSERT_LOOKUP, row)
                except Exception as exc:
                    # Oracle: another worker inserted this number first (ORA-00001, raised once
                    # its commit ended the wait on the unique index): the row is there now.
                    # An outage (a timeout, a lost session) is raised as it is.
                    if self.dialect.is_unavailable(exc) or tx.execute(UPDATE_LOOKUP, row) == 0:
                        raise
