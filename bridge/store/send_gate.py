"""The last write before a create: the number used, and the identical-twin gate.

Recovery needs the number that was actually used to find a create of unknown outcome, so it is
on the row before Twilio sees the request. In the same transaction, under a lock every worker
takes (``Dialect.lock_send_gate``), a message whose number and text equal those of another row
still unresolved is queued again to wait for it (bridge.domain.twins): of two identical
messages only one is ever in doubt. Mixed into ``Store``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bridge.domain.column_sizes import fit
from bridge.domain.statuses import Status
from bridge.domain.twins import Hold, Prepared, Unresolved, hold_twins
from bridge.store import queries
from bridge.store.dialect import Tx, chunks, ids_in
from bridge.store.rows import StoreBase

OUT = "sms_outbound"


class SendGateStoreMixin(StoreBase):
    def record_prepared(
        self, prepared: Sequence[tuple[int, str, int, str]], now: datetime
    ) -> list[Hold]:
        """Store the resolved number and segments of each ``(id, to, segments, encoding)``
        before the create; returns the rows held back as twins (queued again: not to be sent).

        ``prepared`` is in claim order: of two twins in it, the first goes.
        """
        if not prepared:
            return []
        with self.dialect.transaction("prepared") as tx:
            self.dialect.lock_send_gate(tx, now)
            tx.executemany(
                queries.RECORD_PREPARED,
                [
                    {"id": i, "to_number": to, "num_segments": n, "encoding": enc, "now": now}
                    for i, to, n, enc in prepared
                ],
            )
            # The batch's own rows come back too (SENDING, with the numbers just written):
            # their texts are read here rather than trusted from the caller.
            unresolved = self._unresolved(tx, {to for _, to, _, _ in prepared})
            texts = {u.id: u.body for u in unresolved}
            batch = [Prepared(i, to, texts[i]) for i, to, _, _ in prepared if i in texts]
            holds = hold_twins(batch, unresolved, now)
            self._hold(tx, holds, now)
        return holds

    def _unresolved(self, tx: Tx, numbers: set[str]) -> list[Unresolved]:
        found: list[Unresolved] = []
        for part in chunks(sorted(numbers), 500):
            in_list, binds = ids_in(part, prefix="to")
            sql = queries.UNRESOLVED_TO_NUMBERS.format(numbers=in_list)
            found += [
                Unresolved(int(r["id"]), str(r["to_number"]), str(r["body"]), r.get("lease_until"))
                for r in tx.rows(sql, binds)
            ]
        return found

    def _hold(self, tx: Tx, holds: Sequence[Hold], now: datetime) -> None:
        """Back to QUEUED without using up an attempt, each with an event naming its twin."""
        for hold in holds:
            reason = (
                f"waiting for #{hold.blocker}: the same text to the same number is in flight or"
                " not yet reconciled"
            )
            moved = tx.execute(
                queries.REQUEUE,
                {
                    "id": hold.id,
                    "next_attempt_at": hold.until,
                    "reason": fit(OUT, "status_reason", reason),
                    "error_code": None,
                    "now": now,
                    "uncount": 1,
                },
            )
            if moved == 1:
                self._event(tx, hold.id, Status.QUEUED, "bridge", now, detail=reason)
