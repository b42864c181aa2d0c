"""The store contract for batches and the dedupe window: every engine must pass these.

Mixed into the SQLite suite (tests/store/test_store_sqlite.py) and the Oracle one
(tests/store/test_store_oracle.py, when SMS_BRIDGE_TEST_ORACLE_DSN is set).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from bridge import errors
from bridge.domain.models import EnqueueRequest, Message, SubmitResult
from bridge.domain.statuses import Status
from bridge.store import Store
from tests.store.store_contract import contract_now, count_rows, new_sender, queue


def _request(sender_code: str, n: int, **kw: object) -> EnqueueRequest:
    fields: dict[str, object] = {"to_number": f"+1415555{n:04d}", "body": f"batch item {n}"}
    fields.update(kw)
    return EnqueueRequest(sender_code=sender_code, **fields)  # type: ignore[arg-type]


def _get(store: Store, message_id: int) -> Message:
    message = store.get(message_id)
    assert message is not None
    return message


def _claim_one(store: Store, code: str, now: datetime, worker: str = "w1") -> int:
    (message,) = store.claim_batch(code, 1, now, lease_seconds=60, worker=worker)
    return message.id


def _submit(store: Store, message_id: int, to: str, now: datetime) -> None:
    sid = "SM" + uuid.uuid4().hex
    store.mark_submitted([SubmitResult(message_id, sid, "queued", to, 1, "GSM-7")], now)


class BatchContract:
    @pytest.fixture
    def now(self, store: Store) -> datetime:
        return contract_now(store.now())

    def test_items_answer_one_by_one_and_a_refusal_writes_nothing(
        self, store: Store, now: datetime
    ) -> None:
        sender = new_sender(store, now)
        batch = store.create_batch("REST", now, label="nightly", created_by="tests")
        rows_before = count_rows(store, "sms_outbound")
        requests = [
            _request(sender.code, 1),
            _request("NO_SUCH_SENDER", 2),
            _request(sender.code, 3, body="   "),
            _request(sender.code, 4, reference="x" * 101),
            _request(sender.code, 5, to_number="12345"),
            _request(sender.code, 6),
        ]
        results = store.enqueue_many(requests, now, batch_id=batch, rejected_before=2)
        assert isinstance(results[0], int) and isinstance(results[5], int)
        assert isinstance(results[1], errors.UnknownSenderError)
        assert isinstance(results[2], errors.EmptyBodyError)
        assert isinstance(results[3], errors.ValueTooLongError)
        assert isinstance(results[4], errors.BadNumberError)
        assert count_rows(store, "sms_outbound") == rows_before + 2
        for message_id in (results[0], results[5]):
            assert isinstance(message_id, int)
            assert _get(store, message_id).batch_id == batch
        summary = store.batch_summary(batch)
        assert summary is not None
        assert (summary.attempted, summary.rejected, summary.pending) == (8, 6, 2)
        assert summary.failed == 6
        assert (summary.label, summary.source, summary.created_by) == ("nightly", "REST", "tests")

    def test_items_are_idempotent_by_correlation_key(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        batch = store.create_batch("CSV", now)
        source = f"T{uuid.uuid4().hex[:8]}"
        requests = [
            _request(sender.code, n, source_system=source, correlation_key=f"k{n}")
            for n in range(3)
        ]
        first = store.enqueue_many(requests, now, batch_id=batch)
        rows = count_rows(store, "sms_outbound")
        again = store.enqueue_many(requests, now, batch_id=batch)
        assert again == first
        assert count_rows(store, "sms_outbound") == rows

    def test_a_key_repeated_within_one_call_is_refused_not_merged(
        self, store: Store, now: datetime
    ) -> None:
        # Merged, the repeat would be answered with the first item's id and its text lost.
        sender = new_sender(store, now)
        source = f"T{uuid.uuid4().hex[:8]}"
        rows = count_rows(store, "sms_outbound")
        requests = [
            _request(sender.code, 1, source_system=source, correlation_key="same"),
            _request(sender.code, 2, source_system=source, correlation_key="other"),
            _request(sender.code, 3, source_system=source, correlation_key="same"),
        ]
        results = store.enqueue_many(requests, now)
        assert isinstance(results[0], int) and isinstance(results[1], int)
        assert isinstance(results[2], errors.RepeatedKeyError)
        assert results[2].first == 0
        assert count_rows(store, "sms_outbound") == rows + 2
        # The same key under another source system is another key.
        other = _request(sender.code, 4, source_system=source + "X", correlation_key="same")
        assert isinstance(store.enqueue_many([requests[0], other], now)[1], int)

    def test_batch_of_earlier_only_when_one_batch_holds_every_item(
        self, store: Store, now: datetime
    ) -> None:
        sender = new_sender(store, now)
        source = f"T{uuid.uuid4().hex[:8]}"

        def keyed(n: int, src: str = source) -> EnqueueRequest:
            return _request(sender.code, n, source_system=src, correlation_key=f"k{n}")

        batch = store.create_batch("CSV", now)
        store.enqueue_many([keyed(1), keyed(2)], now, batch_id=batch)
        assert store.batch_of_earlier([keyed(1), keyed(2)]) == batch
        assert store.batch_of_earlier([keyed(2)]) == batch
        assert store.batch_of_earlier([keyed(1), keyed(3)]) is None  # k3 is new
        assert store.batch_of_earlier([keyed(1), keyed(1)]) is None  # a repeat is refused
        assert store.batch_of_earlier([keyed(1), _request(sender.code, 4)]) is None  # no key
        assert store.batch_of_earlier([keyed(1, source + "X")]) is None  # another system's
        other = store.create_batch("CSV", now)
        store.enqueue_many([keyed(5)], now, batch_id=other)
        assert store.batch_of_earlier([keyed(1), keyed(5)]) is None  # two batches
        store.enqueue_many([keyed(6)], now)
        assert store.batch_of_earlier([keyed(6)]) is None  # in no batch
        assert store.batch_of_earlier([]) is None

    def test_statuses_of_reads_each_rows_status(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        first, second = (queue(store, sender, now, body=text) for text in ("one", "two"))
        assert _claim_one(store, sender.code, now) == first
        _submit(store, first, "+14155550100", now)
        found = store.statuses_of([first, second, 987654321])
        assert found == {first: Status.SUBMITTED, second: Status.QUEUED}
        assert store.statuses_of([]) == {}

    def test_a_batch_source_or_text_out_of_bounds_is_a_named_error(
        self, store: Store, now: datetime
    ) -> None:
        batches = count_rows(store, "sms_batches")
        with pytest.raises(errors.BadBatchSourceError, match="batch source plsql is not"):
            store.create_batch("plsql", now)
        with pytest.raises(errors.ValueTooLongError, match="label is too long"):
            store.create_batch("CSV", now, label="x" * 201)
        with pytest.raises(errors.ValueTooLongError, match="created_by is too long"):
            store.create_batch("CSV", now, created_by="x" * 129)
        assert count_rows(store, "sms_batches") == batches

    def test_an_unknown_batch_refuses_each_item(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        rows = count_rows(store, "sms_outbound")
        (result,) = store.enqueue_many([_request(sender.code, 1)], now, batch_id=987654321)
        assert isinstance(result, errors.UnknownBatchError)
        assert count_rows(store, "sms_outbound") == rows
        with pytest.raises(errors.UnknownBatchError):
            store.enqueue(_request(sender.code, 2, batch_id=987654321), now)

    def test_more_items_than_a_chunk(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        batch = store.create_batch("CSV", now)
        requests = [_request(sender.code, n) for n in range(1203)]
        requests[700] = _request(sender.code, 700, body="")
        results = store.enqueue_many(requests, now, batch_id=batch)
        assert sum(isinstance(r, int) for r in results) == 1202
        assert isinstance(results[700], errors.EmptyBodyError)
        summary = store.batch_summary(batch)
        assert summary is not None
        assert (summary.attempted, summary.rejected) == (1203, 1)

    def test_summary_counts_where_each_message_ended(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        batch = store.create_batch("PLSQL", now)
        ids = [
            r
            for r in store.enqueue_many(
                [_request(sender.code, n) for n in range(6)], now, batch_id=batch
            )
            if isinstance(r, int)
        ]
        store.finalize(ids[0], Status.INVALID, now, reason="not a number")
        store.finalize(ids[1], Status.SUPPRESSED, now, reason="recipient opted out")
        store.finalize(ids[2], Status.EXPIRED, now, reason="too late")
        with store.dialect.transaction("seed") as tx:
            tx.execute(
                "UPDATE sms_outbound SET status = 'SUPPRESSED', duplicate_of = :d WHERE id = :id",
                {"d": ids[0], "id": ids[3]},
            )
            tx.execute(
                "UPDATE sms_outbound SET status = 'DELIVERED', provider_sid = :sid WHERE id = :id",
                {"sid": "SM" + uuid.uuid4().hex, "id": ids[4]},
            )
            tx.execute(
                "UPDATE sms_outbound SET status = 'UNDELIVERED', provider_sid = :sid"
                " WHERE id = :id",
                {"sid": "SM" + uuid.uuid4().hex, "id": ids[5]},
            )
        summary = store.batch_summary(batch)
        assert summary is not None
        got = (
            summary.attempted,
            summary.submitted,
            summary.delivered,
            summary.invalid,
            summary.unsubscribed,
            summary.duplicate,
            summary.failed,
            summary.expired,
            summary.pending,
        )
        assert got == (6, 2, 1, 1, 1, 1, 1, 1, 0)
        assert store.batch_summary(987654321) is None

    # -- the dedupe window -----------------------------------------------------------------

    def test_the_same_text_within_the_window_is_suppressed_not_sent(
        self, store: Store, now: datetime
    ) -> None:
        sender = new_sender(store, now, dedupe_window_seconds=3600)
        to = "+14155550142"
        first = queue(store, sender, now, to_number=to, body="Your shift starts at 8")
        assert _claim_one(store, sender.code, now) == first
        store.record_prepared([(first, to, 1, "GSM-7")], now, worker="w1")
        _submit(store, first, to, now)
        later = now + timedelta(minutes=10)
        second = queue(store, sender, now, to_number=to, body="Your shift starts at 8")
        other_text = queue(store, sender, now, to_number=to, body="Your shift starts at 9")
        claimed = store.claim_batch(sender.code, 5, later, lease_seconds=60, worker="w1")
        assert {m.id for m in claimed} == {second, other_text}
        gate = store.record_prepared(
            [(second, to, 1, "GSM-7"), (other_text, to, 1, "GSM-7")],
            later,
            worker="w1",
            dedupe={second: (sender.code, 3600), other_text: (sender.code, 3600)},
        )
        assert gate.duplicates == [(second, first)]
        assert gate.withheld == {second}
        suppressed = _get(store, second)
        assert suppressed.status is Status.SUPPRESSED
        assert suppressed.duplicate_of == first
        assert suppressed.provider_sid is None
        assert f"#{first}" in (suppressed.status_reason or "")
        assert _get(store, other_text).status is Status.SENDING

    def test_outside_the_window_or_without_one_it_is_sent(
        self, store: Store, now: datetime
    ) -> None:
        sender = new_sender(store, now, dedupe_window_seconds=60)
        to = "+14155550143"
        first = queue(store, sender, now, to_number=to, body="Reminder")
        _claim_one(store, sender.code, now)
        store.record_prepared([(first, to, 1, "GSM-7")], now, worker="w1")
        _submit(store, first, to, now)
        later = now + timedelta(minutes=5)
        second = queue(store, sender, now, to_number=to, body="Reminder")
        _claim_one(store, sender.code, later)
        gate = store.record_prepared(
            [(second, to, 1, "GSM-7")], later, worker="w1", dedupe={second: (sender.code, 60)}
        )
        assert gate.duplicates == []
        third = queue(store, sender, now, to_number=to, body="Reminder")
        store.finalize(second, Status.FAILED, later, reason="test")
        _claim_one(store, sender.code, later)
        # No dedupe entry (the sender has no window): sent whatever went before.
        assert store.record_prepared([(third, to, 1, "GSM-7")], later, worker="w1").duplicates == []
