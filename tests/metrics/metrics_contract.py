"""Store.queue_snapshot on every engine (subclasses provide ``store``): SQLite always
(test_metrics_store.py), Oracle when SMS_BRIDGE_TEST_ORACLE_DSN is set
(test_metrics_store_oracle.py)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from bridge.domain.models import EnqueueRequest, Sender, SubmitResult
from bridge.store import Store
from tests.store.store_contract import contract_now


def _queue(store: Store, sender: str, at: datetime, **kw: object) -> int:
    request = EnqueueRequest(sender_code=sender, body=f"m {at} {kw}", to_number="+14155550100")
    return store.enqueue(dataclasses.replace(request, **kw), at)  # type: ignore[arg-type]


class MetricsStoreContract:
    def test_queue_snapshot(self, store: Store) -> None:
        now = contract_now(store.now())
        for code in ("MA", "MB"):
            store.save_sender(Sender(code=code, from_number="+15005550006", mps=10), now)
        _queue(store, "MA", now - timedelta(minutes=10))
        _queue(store, "MA", now - timedelta(minutes=4), priority=1)
        _queue(store, "MA", now, send_after=now + timedelta(hours=1), priority=3)
        for i in range(3):
            _queue(store, "MB", now - timedelta(seconds=40 + i), body=f"b{i}")
        claimed = store.claim_batch("MB", 2, now, lease_seconds=60, worker="m")
        store.mark_submitted([SubmitResult(claimed[0].id, "SM" + "1" * 32, "queued", "+1415")], now)
        done = _queue(store, "MA", now - timedelta(hours=1), body="canceled")
        store.cancel(done, now)

        snapshot = store.queue_snapshot(now)
        assert snapshot.depth == {
            ("QUEUED", "MA", 2): 1,
            ("QUEUED", "MA", 1): 1,
            ("QUEUED", "MA", 3): 1,
            ("QUEUED", "MB", 2): 1,
            ("SENDING", "MB", 2): 1,
            ("SUBMITTED", "MB", 2): 1,
        }
        assert {k: v.count for k, v in snapshot.due.items()} == {"MA": 2, "MB": 1}
        # On Oracle sms_api.enqueue stamps due times with the database clock (not ``at``).
        oldest = snapshot.due["MA"].oldest
        assert oldest.tzinfo is not None and oldest <= now
        if store.engine == "sqlite":
            assert oldest == now - timedelta(minutes=10)
        assert {"MA", "MB"} <= set(snapshot.senders)
