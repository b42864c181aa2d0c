"""A create of unknown outcome is reconciled only after reconcile_after_seconds (the worker's
wiring of the grace, not only the store's)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.config import BridgeSettings, Settings
from bridge.domain.policy import Action, Outcome
from bridge.outbound.worker import Flight, Worker
from tests.outbound.support import enqueue_many, prepare_db


def test_the_worker_leaves_twilio_time_to_list_the_message(tmp_path: Path) -> None:
    store = prepare_db(tmp_path / "grace.db")
    (message_id,) = enqueue_many(store, 1)
    now = datetime.now(UTC)
    (message,) = store.claim_batch("HR", 1, now, lease_seconds=300, worker="w")
    settings = replace(Settings(), bridge=BridgeSettings(reconcile_after_seconds=60.0))
    worker = Worker(settings, store, None, None, clock=lambda: now, name="w")  # type: ignore[arg-type]
    sender = store.get_sender("HR")
    assert sender is not None
    try:
        flight = Flight(message, sender, "+14155550100", 1, "GSM-7")
        worker.record(flight, Outcome(Action.UNKNOWN, message="ReadTimeout"), now)
    finally:
        worker.pool.shutdown()
    due = [m.id for m in store.expired_leases(now + timedelta(seconds=59))]
    assert message_id not in due  # not yet: Twilio may still be creating it
    assert message_id in [m.id for m in store.expired_leases(now + timedelta(seconds=60))]
    store.close()
