"""The last write before a create: the number used, and the identical-twin gate.

Recovery needs the number that was actually used to find a create of unknown outcome, so it is
on the row before Twilio sees the request. In the same transaction, under a lock every worker
takes (``Dialect.lock_send_gate``), a message whose number and text equal those of another row
still unresolved is queued again to wait for it (bridge.domain.twins): of two identical
messages only one is ever in doubt. Mixed into ``Store``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.domain.column_sizes import fit
from bridge.domain.statuses import Status
from bridge.domain.twins import Hold, Prepared, Unresolved, hold_twins
from bridge.store import queries
from bridge.store.dialect import Tx
from bridge.store.rows import StoreBase, event_row

OUT = "sms_outbound"


@dataclass(frozen=True)
class GateResult:
    """What ``record_prepared`` decided for a batch: the twins held back (queued again) and
    the rows that are no longer this worker's claim (recovery took them over). Neither is sent.
    """

    holds: list[Hold]
    gone: list[int]

    @property
    def withheld(self) -> set[int]:
        return {h.id for h in self.holds} | set(self.gone)


class SendGateStoreMixin(StoreBase):
    def record_prepared(
        self, prepared: Sequence[tuple[int, str, int, str]], now: datetime, *, worker: str
    ) -> GateResult:
        """Store the resolved number and segments of each ``(id, to, segments, encoding)``
        before the create, for the claims that are still ``worker``'s; hold back twins.

        ``prepared`` is in claim order: of two twins in it, the first goes.
        """
        if not prepared:
            return GateResult([], [])
        with self.dialect.transaction("prepared") as tx:
            self.dialect.lock_send_gate(tx, now)
            tx.executemany(
                queries.RECORD_PREPARED,
                [
                    {
                        "id": i,
                        "to_number": to,
                        "num_segments": n,
                        "encoding": enc,
                        "now": now,
                        "worker": worker,
                    }
                    for i, to, n, enc in prepared
                ],
            )
            numbers = {to for _, to, _, _ in prepared}
            unresolved = [u for u in self._unresolved(tx) if u.to_number in numbers]
            # The batch's own rows come back too (SENDING, with the numbers just written):
            # their texts are read here rather than trusted from the caller.
            mine = {u.id: u for u in unresolved if u.claimed_by == worker}
            batch = [
                Prepared(i, to, mine[i].body)
                for i, to, _, _ in prepared
                if i in mine and mine[i].to_number == to
            ]
            going = {p.id for p in batch}
            gone = [i for i, _, _, _ in prepared if i not in going]
            holds = hold_twins(batch, unresolved, now)
            self._hold(tx, holds, now)
        return GateResult(holds, gone)

    def _unresolved(self, tx: Tx) -> list[Unresolved]:
        return [
            Unresolved(
                int(r["id"]),
                str(r["to_number"]),
                str(r["body"]),
                r.get("lease_until"),
                r.get("claimed_by"),
            )
            for r in tx.rows(queries.UNRESOLVED)
        ]

    def _hold(self, tx: Tx, holds: Sequence[Hold], now: datetime) -> None:
        """Back to QUEUED without using up an attempt, each with an event naming its twin."""
        if not holds:
            return
        reasons = {
            h.id: (
                f"waiting for #{h.blocker}: the same text to the same number is in flight or"
                " not yet reconciled"
            )
            for h in holds
        }
        tx.executemany(
            queries.REQUEUE,
            [
                {
                    "id": h.id,
                    "next_attempt_at": h.until,
                    "reason": fit(OUT, "status_reason", reasons[h.id]),
                    "error_code": None,
                    "now": now,
                    "uncount": 1,
                }
                for h in holds
            ],
        )
        # Each hold is this worker's SENDING row (checked above, under the gate): it moved.
        tx.executemany(
            queries.INSERT_EVENT,
            [event_row(h.id, Status.QUEUED, "bridge", now, detail=reasons[h.id]) for h in holds],
        )
