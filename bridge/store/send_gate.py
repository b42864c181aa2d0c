"""The last write before a create: the number used, and the identical-twin gate.

Recovery needs the number that was actually used to find a create of unknown outcome, so it is
on the row before Twilio sees the request. In the same transaction, under a lock every worker
takes (``Dialect.lock_send_gate``), a message whose number and text equal those of another row
still unresolved is queued again to wait for it (bridge.domain.twins): of two identical
messages only one is ever in doubt. Mixed into ``Store``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bridge.domain.batches import dedupe_reason
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
    # (id, earlier id): SUPPRESSED by the sender's dedupe window, final, never sent.
    duplicates: list[tuple[int, int]] = field(default_factory=list)

    @property
    def withheld(self) -> set[int]:
        return {h.id for h in self.holds} | set(self.gone) | {d for d, _ in self.duplicates}


class SendGateStoreMixin(StoreBase):
    def record_prepared(
        self,
        prepared: Sequence[tuple[int, str, int, str]],
        now: datetime,
        *,
        worker: str,
        dedupe: Mapping[int, tuple[str, int]] | None = None,
    ) -> GateResult:
        """Store the resolved number and segments of each ``(id, to, segments, encoding)``
        before the create, for the claims that are still ``worker``'s; hold back twins.

        ``prepared`` is in claim order: of two twins in it, the first goes. ``dedupe`` maps
        the id of a message whose sender has a dedupe window to (sender code, seconds): one
        whose text Twilio already accepted for that number from that sender within the
        window is SUPPRESSED (``duplicate_of`` the earlier one) instead of sent. Under the
        gate, so two workers cannot both find no earlier message and both send.
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
            held = {h.id for h in holds}
            duplicates = self._suppress_duplicates(
                tx, [p for p in batch if p.id not in held], dedupe or {}, now, worker
            )
        return GateResult(holds, gone, duplicates)

    def _suppress_duplicates(
        self,
        tx: Tx,
        going: Sequence[Prepared],
        dedupe: Mapping[int, tuple[str, int]],
        now: datetime,
        worker: str,
    ) -> list[tuple[int, int]]:
        found: list[tuple[int, int, str]] = []
        for p in going:
            if p.id not in dedupe:
                continue
            sender_code, seconds = dedupe[p.id]
            earlier = tx.scalar(
                queries.DEDUPE_EARLIER,
                {
                    "to_number": p.to_number,
                    "sender_code": sender_code,
                    "id": p.id,
                    "since": now - timedelta(seconds=seconds),
                    "body": p.body,
                },
            )
            if earlier is not None:
                found.append((p.id, int(earlier), dedupe_reason(int(earlier), seconds)))
        if not found:
            return []
        tx.executemany(
            queries.DEDUPE_SUPPRESS,
            [
                {
                    "id": i,
                    "duplicate_of": earlier,
                    "reason": fit(OUT, "status_reason", reason),
                    "now": now,
                    "worker": worker,
                }
                for i, earlier, reason in found
            ],
        )
        tx.executemany(
            queries.INSERT_EVENT,
            [
                event_row(i, Status.SUPPRESSED, "bridge", now, detail=reason)
                for i, _, reason in found
            ],
        )
        return [(i, earlier) for i, earlier, _ in found]

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
