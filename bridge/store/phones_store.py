"""Store operations for a recipient's several numbers (``sms_recipient_phones_v``, issue 13 #3).

A mixin of :class:`bridge.store.Store`. The worker reads a recipient's numbers when it prepares
a claimed message (bridge.domain.phone_choice takes the first usable one) and records which one
it took, and why it skipped the others, as an sms_events row.

The phones view is optional: a site that installed its own ``sms_recipients_v`` (``db install
--no-demo``) before the view existed has none, and a view whose tables were dropped does not
compile. Then every recipient has no rows here and the bridge sends to
``sms_recipients_v.mobile_number`` as before; the view is looked for again every
``RECHECK_SECONDS`` (logged once per miss), so creating it needs no restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from bridge.domain import column_sizes
from bridge.domain.phone_choice import Candidate, ordered
from bridge.domain.statuses import Status
from bridge.store import queries
from bridge.store.rows import StoreBase, event_row

log = logging.getLogger(__name__)

PHONES_VIEW = "sms_recipient_phones_v"
RECHECK_SECONDS = 300.0

GET_RECIPIENT_PHONES = """
SELECT phone_number, phone_type, preference
  FROM sms_recipient_phones_v
 WHERE recipient_type = :recipient_type AND recipient_id = :recipient_id
   AND phone_number IS NOT NULL
"""

# A missing (or, on Oracle, invalid) view: ORA-00942 table or view does not exist, ORA-04063
# view has errors, ORA-00904 a site's own view without phone_type or preference; SQLite names
# the view, or the table behind it, in "no such table", a missing column in "no such column".
# Each falls back to mobile_number rather than failing every message to a recipient.
_MISSING_CODES = frozenset({"ORA-00942", "ORA-04063", "ORA-00904"})


class PhonesStoreMixin(StoreBase):
    _phones_view_missing_until = 0.0  # time.monotonic() until which the view is not read

    def recipient_phones(self, recipient_type: str, recipient_id: str) -> list[Candidate]:
        """The numbers of one recipient by preference (1 first); [] when the view has none
        for it, or there is no phones view (the caller falls back to mobile_number)."""
        params = {"recipient_type": recipient_type, "recipient_id": recipient_id}
        column_sizes.check("sms_outbound", params)  # the columns the view's keys come from
        if time.monotonic() < self._phones_view_missing_until:
            return []
        try:
            with self.dialect.transaction("recipient", write=False) as tx:
                rows = tx.rows(GET_RECIPIENT_PHONES, params)
        except Exception as exc:
            if not self._phones_view_missing(exc):
                raise
            self._phones_view_missing_until = time.monotonic() + RECHECK_SECONDS
            log.warning(
                "%s cannot be read (%s; it needs recipient_type, recipient_id, phone_number,"
                " phone_type, preference): sending to sms_recipients_v.mobile_number; looked for"
                " again in %d s",
                PHONES_VIEW,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                RECHECK_SECONDS,
            )
            return []
        return ordered(
            [
                Candidate(
                    number=str(r["phone_number"]),
                    phone_type=None if r["phone_type"] is None else str(r["phone_type"]),
                    preference=None if r["preference"] is None else int(r["preference"]),
                )
                for r in rows
            ]
        )

    def record_number_choices(self, notes: Sequence[tuple[int, str]], now: datetime) -> None:
        """One event per (message id, text) saying which number was used and why the others
        were skipped: SENDING (the claimed row's status), source 'bridge', not applied (the
        row does not move), the text cut to sms_events.detail. One transaction."""
        if not notes:
            return
        with self.dialect.transaction("number-choice") as tx:
            tx.executemany(
                queries.INSERT_EVENT,
                [
                    event_row(i, Status.SENDING, "bridge", now, applied=False, detail=text)
                    for i, text in notes
                ],
            )

    def _phones_view_missing(self, exc: BaseException) -> bool:
        if self.dialect.name == "sqlite":
            return str(exc).startswith(("no such table", "no such column"))
        error = exc.args[0] if exc.args else None
        return str(getattr(error, "full_code", "") or "") in _MISSING_CODES
