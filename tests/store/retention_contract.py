"""The store contract for retention (Store.purge): every engine must pass these.

Mixed into the SQLite suite (tests/store/test_store_sqlite.py) and the Oracle one
(tests/store/test_store_oracle.py, when SMS_BRIDGE_TEST_ORACLE_DSN is set). The cut-offs are
passed in, so "older than the period" is "final before the cut-off" here, on either clock.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from bridge.domain.line_types import LineType
from bridge.domain.models import InboundRecord, Sender, SubmitResult
from bridge.domain.retention import PURGED_BODY
from bridge.domain.statuses import Status
from bridge.store import Store
from tests.store.store_contract import contract_now, new_sender, queue

NUMBER = "+14155550123"
MASKED = "+1415*****23"
OTHER = "+14155550999"


def _row(store: Store, table: str, row_id: int) -> dict[str, Any]:
    with store.dialect.transaction("read", write=False) as tx:
        row = tx.row(f"SELECT * FROM {table} WHERE id = :id", {"id": row_id})
    assert row is not None
    return row


def _details(store: Store, message_id: int) -> list[str | None]:
    return [e.detail for e in store.events(message_id)]


def _optouts(store: Store) -> list[tuple[object, ...]]:
    with store.dialect.transaction("read", write=False) as tx:
        rows = tx.rows("SELECT * FROM sms_optouts ORDER BY phone_number, scope")
    return [tuple(sorted(r.items())) for r in rows]


class RetentionContract:
    @pytest.fixture
    def now(self, store: Store) -> datetime:
        return contract_now(store.now())

    def _delivered(self, store: Store, sender: Sender, now: datetime, **kw: object) -> int:
        message_id = queue(store, sender, now, to_number=NUMBER, **kw)
        (claimed,) = store.claim_batch(sender.code, 1, now, lease_seconds=60, worker="w1")
        assert claimed.id == message_id
        sid = "SM" + uuid.uuid4().hex
        store.mark_submitted([SubmitResult(message_id, sid, "queued", NUMBER, 2, "GSM-7")], now)
        store.record_status(
            now,
            Status.DELIVERED,
            source="callback",
            provider_sid=sid,
            detail=f"delivered to {NUMBER} at 09:30",
        )
        with store.dialect.transaction("price") as tx:
            tx.execute(
                "UPDATE sms_outbound SET price = -0.0158, price_unit = 'USD' WHERE id = :id",
                {"id": message_id},
            )
        return message_id

    def _reply(self, store: Store, now: datetime, status: str, **kw: Any) -> int:
        record = InboundRecord(
            message_sid="SM" + uuid.uuid4().hex,
            from_number=kw.pop("from_number", NUMBER),
            to_number="+15005550006",
            body=kw.pop("body", "yes, see you at 9"),
            raw_payload='{"From": ["' + NUMBER + '"], "Body": ["yes, see you at 9"]}',
            **kw,
        )
        inbound_id, _ = store.record_inbound(record, now)
        if status != "NEW":
            assert store.mark_inbound(inbound_id, status, now, error_message=f"call {NUMBER}")
        return inbound_id

    def test_purge_replaces_personal_data_and_keeps_the_record(
        self, store: Store, now: datetime
    ) -> None:
        sender = new_sender(store, now)
        old = self._delivered(store, sender, now, body="Your PIN is 4711")
        canceled = queue(store, sender, now, to_number=NUMBER, body="cancel me")
        store.cancel(canceled, now, reason=f"asked by {NUMBER}")
        newer = queue(store, sender, now, to_number=OTHER, body="too recent")
        store.cancel(newer, now + timedelta(hours=2), reason="later")
        pending = queue(store, sender, now, to_number=OTHER, body="still queued")
        store.set_optout(NUMBER, "*", True, now, keyword="STOP")
        optouts = _optouts(store)
        done = self._reply(store, now, "PROCESSED")
        ignored = self._reply(store, now, "IGNORED")
        fresh = self._reply(store, now, "NEW")
        failed = self._reply(store, now, "ERROR")
        before = {m: _row(store, "sms_outbound", m) for m in (old, canceled, newer, pending)}
        replies_before = {i: _row(store, "sms_inbound", i) for i in (fresh, failed)}

        cut = now + timedelta(minutes=1)
        stamp = now + timedelta(hours=3)
        dry = store.purge(stamp, outbound_before=cut, inbound_before=cut, dry_run=True)
        assert {m: _row(store, "sms_outbound", m) for m in before} == before  # nothing written
        result = store.purge(stamp, outbound_before=cut, inbound_before=cut)

        assert (dry.messages, dry.events, dry.replies) == (2, 2, 2)
        assert (result.messages, result.events, result.replies) == (
            dry.messages,
            dry.events,
            dry.replies,
        )
        assert dry.dry_run and not result.dry_run

        row = _row(store, "sms_outbound", old)
        assert (row["body"], row["to_number"], row["purged_at"]) == (PURGED_BODY, MASKED, stamp)
        kept = ("status", "num_segments", "encoding", "provider_sid", "final_at", "created_at")
        assert {k: row[k] for k in kept} == {k: before[old][k] for k in kept}
        assert row["status"] == "DELIVERED" and int(row["num_segments"]) == 2
        assert float(row["price"]) == pytest.approx(-0.0158) and row["price_unit"] == "USD"
        message = store.get(old)
        assert message is not None and message.purged_at == stamp

        row = _row(store, "sms_outbound", canceled)
        assert (row["body"], row["to_number"], row["status"]) == (PURGED_BODY, MASKED, "CANCELED")
        assert row["status_reason"] == f"asked by {MASKED}"
        assert f"asked by {MASKED}" in _details(store, canceled)
        assert f"delivered to {MASKED} at 09:30" in _details(store, old)
        assert "claimed by w1" in _details(store, old)  # no number: as it was
        assert not any(NUMBER in (d or "") for m in (old, canceled) for d in _details(store, m))
        assert [e.status for e in store.events(old)] == [
            "QUEUED",
            "SENDING",
            "SUBMITTED",
            "DELIVERED",
        ]

        for untouched in (newer, pending):
            assert _row(store, "sms_outbound", untouched) == before[untouched]
        assert _optouts(store) == optouts

        for inbound_id in (done, ignored):
            reply = _row(store, "sms_inbound", inbound_id)
            assert (reply["body"], reply["from_number"], reply["raw_payload"]) == (
                PURGED_BODY,
                MASKED,
                None,
            )
            assert reply["error_message"] == f"call {MASKED}" and reply["purged_at"] == stamp
        for inbound_id, row_before in replies_before.items():
            assert _row(store, "sms_inbound", inbound_id) == row_before

        again = store.purge(stamp + timedelta(hours=1), outbound_before=cut, inbound_before=cut)
        assert (again.messages, again.events, again.replies) == (0, 0, 0)
        assert _row(store, "sms_outbound", old)["purged_at"] == stamp

    def test_pages_of_replies_handled_at_one_instant_miss_none_and_repeat_none(
        self, store: Store, now: datetime
    ) -> None:
        # Seven replies share processed_at, an ERROR one among them (never purged): pages of
        # two walk past each other by (processed_at, id), not by the instant alone.
        handled = [self._reply(store, now, "PROCESSED") for _ in range(6)]
        failed = self._reply(store, now, "ERROR")
        cut = now + timedelta(minutes=1)
        dry = store.purge(now, outbound_before=cut, inbound_before=cut, chunk=2, dry_run=True)
        assert dry.replies == 6
        done = store.purge(now, outbound_before=cut, inbound_before=cut, chunk=2)
        assert done.replies == 6
        assert all(_row(store, "sms_inbound", i)["purged_at"] is not None for i in handled)
        assert _row(store, "sms_inbound", failed)["purged_at"] is None
        again = store.purge(now, outbound_before=cut, inbound_before=cut, chunk=2)
        assert again.replies == 0

    def test_line_type_answers_past_their_ttl_are_deleted_and_fresh_ones_kept(
        self, store: Store, now: datetime
    ) -> None:
        old = [f"+1415666{n:04d}" for n in range(5)]
        fresh = "+14156669999"
        store.save_line_types(
            [LineType(n, "mobile", now - timedelta(days=31), carrier="Carrier") for n in old]
            + [LineType(fresh, "landline", now - timedelta(days=29))]
        )
        cut = now - timedelta(days=90)
        dry = store.purge(now, outbound_before=cut, inbound_before=cut, chunk=2, dry_run=True)
        assert dry.lookups == 5
        assert set(store.line_types([*old, fresh])) == {*old, fresh}  # a dry run deletes nothing
        done = store.purge(now, outbound_before=cut, inbound_before=cut, chunk=2)
        assert done.lookups == 5
        assert set(store.line_types([*old, fresh])) == {fresh}
        assert store.purge(now, outbound_before=cut, inbound_before=cut).lookups == 0

    def test_purge_commits_chunk_by_chunk_and_resumes_where_it_stopped(
        self, store: Store, now: datetime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        sender = new_sender(store, now)
        ids = [queue(store, sender, now, to_number=NUMBER, body=f"n{i}") for i in range(7)]
        for message_id in ids:
            store.cancel(message_id, now, reason=f"for {NUMBER}")
        cut = now + timedelta(minutes=1)
        dry = store.purge(now, outbound_before=cut, inbound_before=cut, chunk=3, dry_run=True)
        assert (dry.messages, dry.events) == (7, 7)

        chunk_of_messages = store._purge_messages
        calls: list[int] = []

        def fail_on_the_second_chunk(*args: Any) -> tuple[int, int, int]:
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("the database went away")
            return chunk_of_messages(*args)

        monkeypatch.setattr(store, "_purge_messages", fail_on_the_second_chunk)
        with pytest.raises(RuntimeError):
            store.purge(now, outbound_before=cut, inbound_before=cut, chunk=3)
        monkeypatch.undo()
        purged = [m for m in ids if _row(store, "sms_outbound", m)["purged_at"] is not None]
        assert purged == ids[:3]  # the first chunk was committed, the second rolled back

        rest = store.purge(now, outbound_before=cut, inbound_before=cut, chunk=3)
        assert (rest.messages, rest.events) == (4, 4)
        assert all(_row(store, "sms_outbound", m)["body"] == PURGED_BODY for m in ids)
