"""The worker shares its capacity between senders: no sender takes every round."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bridge.config import BridgeSettings, Settings
from bridge.domain.models import Sender
from bridge.outbound.worker import Worker


class TwoBusySenders:
    """Both senders always have more ready than the worker can take."""

    def __init__(self) -> None:
        self.claims: list[tuple[str, int]] = []

    def ready_senders(self, now: datetime) -> list[str]:
        return ["BULK", "HR"]

    def get_sender(self, code: str) -> Sender:
        return Sender(code=code, from_number="+15005550006")

    def claim_batch(self, code: str, limit: int, now: datetime, **kw: Any) -> list[object]:
        self.claims.append((code, limit))
        return [object()] * limit


def test_each_round_starts_at_the_next_sender() -> None:
    settings = replace(Settings(), bridge=BridgeSettings(concurrency=4, batch_size=4))
    store = TwoBusySenders()
    worker = Worker(
        settings,
        store,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]  # nothing is sent: launch is replaced below
        None,  # type: ignore[arg-type]
        clock=lambda: datetime(2026, 1, 5, 12, tzinfo=UTC),
        name="w",
    )
    worker.launch = lambda batch, now: None  # type: ignore[method-assign]
    try:
        for _ in range(4):
            assert worker.step() == 4
    finally:
        worker.pool.shutdown()
    # The whole capacity goes to one sender per round, alternating: neither is starved.
    assert store.claims == [("BULK", 4), ("HR", 4), ("BULK", 4), ("HR", 4)]
