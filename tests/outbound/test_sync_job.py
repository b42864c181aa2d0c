"""The sync job asks Twilio about stuck rows, least recently asked first, and moves them only
forward; a row it could not learn anything about goes to the back of the line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.domain.models import SubmitResult
from bridge.domain.statuses import Status
from bridge.outbound.gateway import RemoteMessage
from bridge.outbound.recovery import sync
from tests.outbound.support import enqueue_many, prepare_db


class StubTwilio:
    """Twilio's view of each SID; a SID it does not know raises, as a 404 would."""

    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses
        self.asked: list[str] = []
        self.accounts: list[str | None] = []  # the account each fetch went through

    def fetch(self, sid: str, *, account: str | None = None) -> RemoteMessage:
        self.asked.append(sid)
        self.accounts.append(account)
        if sid not in self.statuses:
            raise LookupError(f"20404: no message {sid}")
        return RemoteMessage(sid, self.statuses[sid], None, None, None, "")


def test_sync_moves_forward_and_rotates_what_it_learned_nothing_about(tmp_path: Path) -> None:
    store = prepare_db(tmp_path / "sync.db")
    ids = enqueue_many(store, 3)
    t0 = datetime.now(UTC)
    store.claim_batch("HR", 10, t0, lease_seconds=60, worker="w")
    sids = [f"SM{i:032x}" for i in ids]
    store.mark_submitted(
        [SubmitResult(i, sid, "queued", "+14155550100") for i, sid in zip(ids, sids, strict=True)],
        t0,
    )
    # Twilio: the first was delivered, the second is still queued, the third it does not know.
    twilio = StubTwilio({sids[0]: "delivered", sids[1]: "queued"})
    later = t0 + timedelta(hours=1)
    moved = sync(store, twilio, later, older_than=timedelta(minutes=30), limit=10)  # type: ignore[arg-type]
    assert moved == 1
    statuses = [m.status for m in (store.get(i) for i in ids) if m is not None]
    assert statuses == [Status.DELIVERED, Status.SUBMITTED, Status.SUBMITTED]
    assert twilio.asked == sids
    # Both rows without news were touched: the next run within 30 minutes asks nobody.
    assert sync(store, twilio, later + timedelta(minutes=10), older_than=timedelta(minutes=30)) == 0  # type: ignore[arg-type]
    assert twilio.asked == sids
    store.close()


def test_sync_fetches_through_the_senders_account(tmp_path: Path) -> None:
    """A message exists only in the account that created it: the sync asks that account."""
    from dataclasses import replace

    store = prepare_db(tmp_path / "sync.db")
    hr = store.get_sender("HR")
    assert hr is not None
    store.save_sender(replace(hr, twilio_account="hr"), datetime.now(UTC))
    ids = enqueue_many(store, 2)
    t0 = datetime.now(UTC)  # after the enqueue: the rows are due
    store.claim_batch("HR", 10, t0, lease_seconds=60, worker="w")
    sids = [f"SM{i:032x}" for i in ids]
    store.mark_submitted(
        [SubmitResult(i, sid, "queued", "+14155550100") for i, sid in zip(ids, sids, strict=True)],
        t0,
    )
    twilio = StubTwilio({sids[0]: "delivered", sids[1]: "delivered"})
    later = t0 + timedelta(hours=1)
    assert sync(store, twilio, later, older_than=timedelta(minutes=30)) == 2  # type: ignore[arg-type]
    assert twilio.accounts[:2] == ["hr", "hr"]
    store.close()
