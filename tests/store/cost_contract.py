"""The store contract for prices and cost by sender and month: every engine must pass these.

Mixed into the SQLite suite (tests/store/test_store_sqlite.py) and the Oracle one
(tests/store/test_store_oracle.py, when SMS_BRIDGE_TEST_ORACLE_DSN is set).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bridge.domain.cost import CostRow
from bridge.domain.models import Message, Sender, SubmitResult
from bridge.domain.statuses import Status
from bridge.store import Store
from tests.store.store_contract import contract_now, new_sender, queue

JAN = datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC)  # the last second of January, UTC
FEB = datetime(2025, 2, 1, 0, 0, 0, tzinfo=UTC)


def _sent(
    store: Store,
    sender: Sender,
    submitted_at: datetime,
    *,
    segments: int = 1,
    final: Status | None = Status.DELIVERED,
    created_by: str | None = None,
) -> Message:
    """A message of ``sender`` submitted at ``submitted_at`` (and final a minute later)."""
    now = contract_now(store.now())
    message_id = queue(store, sender, now, created_by=created_by)
    (claimed,) = store.claim_batch(sender.code, 1, now, lease_seconds=60, worker="w")
    assert claimed.id == message_id
    sid = "SM" + uuid.uuid4().hex
    result = SubmitResult(message_id, sid, "queued", "+14155550100", segments, "GSM-7")
    assert store.mark_submitted([result], submitted_at) == 1
    if final is not None:
        store.record_status(
            submitted_at + timedelta(minutes=1), final, source="sync", provider_sid=sid
        )
    found = store.get(message_id)
    assert found is not None
    return found


class CostContract:
    def test_a_price_is_recorded_on_a_final_message_and_never_replaced_by_null(
        self, store: Store
    ) -> None:
        sender = new_sender(store, contract_now(store.now()))
        message = _sent(store, sender, JAN)
        assert message.status is Status.DELIVERED and message.price is None
        assert store.record_price(message.id, -0.0079, "usd") is True
        priced = store.get(message.id)
        assert priced is not None
        assert (round(float(priced.price or 0), 5), priced.price_unit) == (-0.0079, "USD")
        assert priced.updated_at == message.updated_at  # billing, not a change of the message
        assert store.record_price(message.id, None, None) is False
        assert store.record_price(message.id, -0.0079, "USD") is False  # the same: no write
        again = store.get(message.id)
        assert again is not None and again.price_unit == "USD" and again.price is not None

    def test_cost_by_sender_and_month_one_row_per_currency(self, store: Store) -> None:
        now = contract_now(store.now())
        a, b = new_sender(store, now), new_sender(store, now)
        for price in (-0.0079, -0.0081):
            store.record_price(_sent(store, a, JAN).id, price, "USD")
        store.record_price(_sent(store, a, JAN, segments=2).id, -0.05, "EUR")
        _sent(store, a, FEB, segments=3)  # not priced yet
        store.record_price(_sent(store, b, FEB).id, -0.0079, "USD")
        _sent(store, b, FEB + timedelta(days=40))  # March: outside the window

        rows = [
            r
            for r in store.cost_by_sender_and_month(
                datetime(2025, 1, 1, tzinfo=UTC), FEB.replace(month=3)
            )
            if r.sender_code in (a.code, b.code)
        ]
        assert rows == [
            CostRow(a.code, "2025-01", "EUR", 1, 1, 2, 0.05),
            CostRow(a.code, "2025-01", "USD", 2, 2, 2, 0.016),
            CostRow(a.code, "2025-02", None, 1, 0, 3, 0.0),
            CostRow(b.code, "2025-02", "USD", 1, 1, 1, 0.0079),
        ]
        only_feb = store.cost_by_sender_and_month(FEB, FEB.replace(month=3))
        assert {(r.sender_code, r.month) for r in only_feb if r.sender_code == a.code} == {
            (a.code, "2025-02")
        }

    def test_cost_of_one_key_only_counts_its_messages(self, store: Store) -> None:
        sender = new_sender(store, contract_now(store.now()))
        store.record_price(_sent(store, sender, JAN, created_by="key-a").id, -0.01, "USD")
        store.record_price(_sent(store, sender, JAN, created_by="key-b").id, -0.02, "USD")
        since, until = datetime(2025, 1, 1, tzinfo=UTC), FEB
        mine = store.cost_by_sender_and_month(since, until, created_by="key-a")
        assert [(r.sender_code, r.messages, r.cost) for r in mine] == [(sender.code, 1, 0.01)]

    def test_unpriced_final_messages_newest_first_within_the_window(self, store: Store) -> None:
        sender = new_sender(store, contract_now(store.now()))
        old = _sent(store, sender, JAN - timedelta(days=2))
        early = _sent(store, sender, JAN - timedelta(hours=5))
        late = _sent(store, sender, JAN - timedelta(hours=2), final=Status.UNDELIVERED)
        priced = _sent(store, sender, JAN - timedelta(hours=3))
        store.record_price(priced.id, -0.0079, "USD")
        _sent(store, sender, JAN - timedelta(hours=4), final=Status.FAILED)  # never charged
        _sent(store, sender, JAN - timedelta(hours=4), final=None)  # not final
        fresh = _sent(store, sender, JAN - timedelta(minutes=10))  # final 9 minutes ago
        found = store.unpriced_final(JAN - timedelta(days=1), JAN - timedelta(minutes=30))
        ids = [m.id for m in found if m.sender_code == sender.code]
        assert ids == [late.id, early.id]
        assert old.id not in ids and fresh.id not in ids
        limited = store.unpriced_final(JAN - timedelta(days=1), JAN, limit=1)
        assert [m.id for m in limited] == [fresh.id]
