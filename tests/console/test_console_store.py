"""The console's store operations (bridge/store/console_store.py) on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bridge import errors
from bridge.domain.models import EnqueueRequest
from bridge.domain.statuses import Status
from bridge.store import Store, open_store
from bridge.store.console_store import ConsoleFilter
from tests.console.seed import Seeded, seed
from tests.inbound.conftest import ALICE, make_settings


@pytest.fixture
def seeded(tmp_path: Path, now: datetime) -> Iterator[tuple[Store, Seeded]]:
    store = open_store(make_settings(tmp_path / "c.db", tmp_path / "spool").database)
    store.install(now)
    yield store, seed(store, now)
    store.close()


def test_hourly_buckets_count_each_message_in_its_hour(
    seeded: tuple[Store, Seeded], now: datetime
) -> None:
    store, _ = seeded
    hours = store.console_hourly(now)
    assert len(hours) == 24 and hours[-1].start <= now < hours[-1].start + timedelta(hours=1)
    assert sum(h.submitted for h in hours) == 4
    assert sum(h.delivered for h in hours) == 2 and sum(h.failed for h in hours) == 2
    five_ago = next(
        h for h in hours if h.start <= now - timedelta(hours=5) < h.start + timedelta(hours=1)
    )
    assert (five_ago.submitted, five_ago.delivered) == (1, 1)
    assert store.console_hourly(now + timedelta(days=2))[-1].submitted == 0


def test_queue_errors_and_workers(seeded: tuple[Store, Seeded], now: datetime) -> None:
    store, s = seeded
    (line,) = store.console_queue(now)
    assert (line.sender_code, line.priority, line.queued, line.due) == ("IT", 1, 1, 1)
    assert line.oldest_due_id == s.queued and line.oldest_due_at is not None
    assert store.console_queue(now - timedelta(hours=2))[0].due == 0
    assert {e.code for e in store.console_top_errors(now - timedelta(days=1))} == {30003, 30005}
    (worker,) = store.console_workers(now - timedelta(days=1))
    assert worker.name == "worker-a@host1" and worker.claims == 4


def test_message_filters(seeded: tuple[Store, Seeded], now: datetime) -> None:
    store, s = seeded
    ids = lambda f: [m.id for m in store.console_messages(f, 50, 0).items]  # noqa: E731
    assert ids(ConsoleFilter(status="FAILED")) == [s.failed]
    assert ids(ConsoleFilter(to_number=ALICE)) == [s.undelivered, s.failed, s.delivered]
    assert ids(ConsoleFilter(created_from=now + timedelta(seconds=1))) == []
    page = store.console_messages(ConsoleFilter(), 2, 0)
    assert page.has_more and len(page.items) == 2


def test_requeue_only_final_failures_and_a_number_stays_a_number(
    seeded: tuple[Store, Seeded], now: datetime
) -> None:
    store, s = seeded
    with pytest.raises(ValueError, match="only FAILED"):
        store.console_requeue(s.delivered, now, "ops")
    with pytest.raises(errors.NotFoundError):
        store.console_requeue(999, now, "ops")
    raw = store.enqueue(EnqueueRequest(sender_code="HR", body="hi", to_number=ALICE), now)
    store.record_status(now, Status.EXPIRED, source="bridge", message_id=raw)
    again = store.get(store.console_requeue(raw, now, "ops"))
    assert again is not None and again.to_number == ALICE and again.recipient_id is None


def test_reprocess_only_error_replies(seeded: tuple[Store, Seeded], now: datetime) -> None:
    store, s = seeded
    assert not store.console_reprocess_reply(s.new_reply, now, "ops")
    assert store.console_reprocess_reply(s.error_reply, now, "ops")
    assert not store.console_reprocess_reply(s.error_reply, now, "ops")
    assert [r["id"] for r in store.console_replies("error")] == []
    assert "reply #" in (store.events(s.delivered)[-1].detail or "")
