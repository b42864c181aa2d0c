"""Identical twins (issue 11 #1): two rows with one number and one text are never both in doubt.

Recovery can only recognise a create of unknown outcome by To, From and Body. With both twins
unresolved at once it could give one row the other's message and send the other again; the
send gate (bridge.store.send_gate) makes the later one wait.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.domain.models import EnqueueRequest, SubmitResult
from bridge.domain.statuses import Status
from bridge.store import Store
from tests.outbound.support import Env, iter_statuses, prepare_db
from tests.sandbox.sandbox_support import Control, SandboxProcess

TO = "+14155550100"
OTHER = "+14155550101"
AT_TWILIO = {"SUBMITTED", "SENT", "DELIVERED"}


def enqueue(store: Store, body: str, to: str = TO, at: datetime | None = None) -> int:
    request = EnqueueRequest(sender_code="HR", body=body, to_number=to)
    return store.enqueue(request, at or datetime.now(UTC))


def claim(store: Store, now: datetime, worker: str = "w1", limit: int = 10) -> list[int]:
    return [m.id for m in store.claim_batch("HR", limit, now, lease_seconds=30, worker=worker)]


# -- the gate on one database --------------------------------------------------------------


def test_the_later_twin_in_a_batch_waits_without_using_an_attempt(tmp_path: Path) -> None:
    store = prepare_db(tmp_path / "gate.db")
    first = enqueue(store, "Reply YES 4821")
    second = enqueue(store, "Reply YES 4821")
    other_text = enqueue(store, "Reply YES 9999")
    other_number = enqueue(store, "Reply YES 4821", to=OTHER)
    now = datetime.now(UTC)
    assert claim(store, now) == [first, second, other_text, other_number]
    numbers = {first: TO, second: TO, other_text: TO, other_number: OTHER}
    gate = store.record_prepared(
        [(i, to, 1, "GSM-7") for i, to in numbers.items()], now, worker="w1"
    )
    holds = gate.holds
    assert gate.gone == [] and gate.withheld == {second}
    assert [(h.id, h.blocker) for h in holds] == [(second, first)]
    held = store.get(second)
    assert held is not None and held.status is Status.QUEUED and held.attempts == 0
    assert held.next_attempt_at is not None and held.next_attempt_at > now
    assert f"#{first}" in (held.status_reason or "")
    assert [e.detail for e in store.events(second)][-1] == held.status_reason
    for going in (first, other_text, other_number):
        row = store.get(going)
        assert row is not None and row.status is Status.SENDING
    store.close()


def test_a_twin_waits_for_another_workers_unresolved_create(tmp_path: Path) -> None:
    store = prepare_db(tmp_path / "gate.db")
    first = enqueue(store, "Your shift starts at 7")
    now = datetime.now(UTC)
    assert claim(store, now, worker="w1") == [first]
    assert store.record_prepared([(first, TO, 1, "GSM-7")], now, worker="w1").holds == []
    # The first create's answer was lost: its row waits for reconciliation.
    store.mark_unknown(first, now, "HTTP 500", reconcile_at=now + timedelta(seconds=3))
    second = enqueue(store, "Your shift starts at 7", at=now)
    assert claim(store, now, worker="w2") == [second]
    (hold,) = store.record_prepared([(second, TO, 1, "GSM-7")], now, worker="w2").holds
    assert (hold.id, hold.blocker) == (second, first)
    assert hold.until == now + timedelta(seconds=3)  # the blocker's reconciliation, not longer
    # Once the first is resolved (Twilio has it), the twin goes.
    store.mark_submitted([SubmitResult(first, "SM" + "a" * 32, "queued", TO, 1, "GSM-7")], now)
    later = hold.until
    assert claim(store, later, worker="w2") == [second]
    assert store.record_prepared([(second, TO, 1, "GSM-7")], later, worker="w2").holds == []
    store.close()


def test_a_twin_of_a_final_or_queued_row_goes(tmp_path: Path) -> None:
    store = prepare_db(tmp_path / "gate.db")
    done = enqueue(store, "Same text")
    waiting = enqueue(store, "Same text")
    now = datetime.now(UTC)
    claim(store, now, limit=1)
    store.record_prepared([(done, TO, 1, "GSM-7")], now, worker="w1")
    store.finalize(done, Status.FAILED, now, reason="test")
    # `waiting` is QUEUED (never claimed): it is no twin in doubt for anyone.
    third = enqueue(store, "Same text", at=now)
    claimed = claim(store, now)
    assert claimed == [waiting, third]
    holds = store.record_prepared([(i, TO, 1, "GSM-7") for i in claimed], now, worker="w1").holds
    assert [(h.id, h.blocker) for h in holds] == [(third, waiting)]
    store.close()


def test_a_claim_recovery_took_over_is_neither_prepared_nor_sent(tmp_path: Path) -> None:
    store = prepare_db(tmp_path / "gate.db")
    taken = enqueue(store, "Stalled before its create")
    now = datetime.now(UTC)
    assert store.claim_batch("HR", 10, now, lease_seconds=1, worker="w1")[0].id == taken
    later = now + timedelta(seconds=5)  # the worker stalled past its lease
    assert store.claim_for_recovery(taken, later, 60, "recovery")
    gate = store.record_prepared([(taken, OTHER, 1, "GSM-7")], later, worker="w1")
    assert (gate.holds, gate.gone, gate.withheld) == ([], [taken], {taken})
    row = store.get(taken)
    assert row is not None and row.to_number == TO and row.claimed_by == "recovery"
    store.close()


# -- end to end: the measured case -----------------------------------------------------------


@pytest.mark.slow
def test_identical_pairs_through_500_after_create_are_each_sent_exactly_once(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    # Measured before the gate: 240 rows in identical pairs, 30% 500-after-create and no
    # status callbacks gave 15 extra SMS and 15 SIDs on the wrong row.
    env = Env(db_path=tmp_path / "twins.db", sandbox_url=sandbox.url, maildir=tmp_path / "mail")
    # Rate-limited, first of each pair queued first: twins are claimed seconds apart, so a
    # twin's create is older than the other's claim (where the look-up window stopped).
    store = prepare_db(env.db_path, mps=16.0)
    pairs = 40
    ids = [enqueue(store, f"Reminder {k}: reply YES") for _ in range(2) for k in range(pairs)]
    control.faults(rate_500=0.3, fraction_500_after_create=1.0)
    statuses: list[str] = []
    for _ in range(40):
        # Reconciled only after every twin was claimed: both in doubt at once.
        env.run_worker(bridge_concurrency="16", bridge_reconcile_after_seconds="6")
        statuses = list(iter_statuses(store, ids))
        if not {"QUEUED", "SENDING"} & set(statuses):
            break
    assert set(statuses) <= AT_TWILIO, Counter(statuses)
    at_twilio = control.messages()
    per_body = Counter(m["body"] for m in at_twilio)
    assert per_body == {f"Reminder {k}: reply YES": 2 for k in range(pairs)}  # no extra SMS
    by_sid = {m["sid"]: m for m in at_twilio}
    rows = [store.get(i) for i in ids]
    sids = [r.provider_sid for r in rows if r is not None]
    assert len(set(sids)) == len(ids)  # every row its own message
    for row in rows:
        assert row is not None and row.provider_sid in by_sid
        assert by_sid[row.provider_sid]["body"] == row.body  # and the right one
    assert any(r.get("fault") == "500-after" for r in control.requests())
    store.close()


def test_a_busy_gate_gives_the_claims_back_unspent_and_sends_nothing(tmp_path: Path) -> None:
    # Oracle: another session held the send-gate row past FOR UPDATE WAIT 5 (ORA-30006).
    from dataclasses import replace as replace_settings

    from bridge.config import BridgeSettings, Settings
    from bridge.errors import SendGateBusy
    from bridge.outbound.worker import Worker

    store = prepare_db(tmp_path / "busy.db")
    first, second = enqueue(store, "one"), enqueue(store, "two")
    now = datetime.now(UTC) + timedelta(seconds=1)
    settings = replace_settings(Settings(), bridge=BridgeSettings(concurrency=4, batch_size=4))

    class NoSends:
        def send(self, **kw: object) -> None:
            raise AssertionError("nothing may be sent when the gate was not taken")

    def busy(*args: object, **kwargs: object) -> None:
        raise SendGateBusy("the identical-twin gate stayed locked 5 s")

    worker = Worker(settings, store, NoSends(), None, clock=lambda: now, name="w1")  # type: ignore[arg-type]
    store.record_prepared = busy  # type: ignore[method-assign]
    try:
        assert worker.step() == 2
    finally:
        worker.pool.shutdown()
    assert worker.in_flight == {}
    for message_id in (first, second):
        row = store.get(message_id)
        assert row is not None and (row.status, row.attempts) == (Status.QUEUED, 0)
    store.close()
