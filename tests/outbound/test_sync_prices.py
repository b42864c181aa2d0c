"""Twilio's price (issue 14, cost): the sandbox prices a message only once it is final, often
later; the sync job records the price from the same look-up that moves the status, and goes
back for final messages still without one. A known price is never replaced by a null."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.domain.models import EnqueueRequest, SubmitResult
from bridge.domain.statuses import Status
from bridge.outbound.gateway import RemoteMessage, TwilioGateway, parse_price
from bridge.outbound.recovery import sync
from tests.outbound.support import UNREACHABLE, Env, enqueue_many, prepare_db
from tests.sandbox.sandbox_support import Control, SandboxProcess

FINAL = {"delivered", "undelivered", "failed"}


def _wait(probe: object, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_sync_job_records_the_price_twilio_sets_after_the_final_status(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    control.pricing(per_segment="0.0075", unit="USD", delay_seconds=3)
    env = Env(db_path=tmp_path / "price.db", sandbox_url=sandbox.url, maildir=tmp_path / "m")
    store = prepare_db(env.db_path)
    now = datetime.now(UTC)
    ids = [
        store.enqueue(EnqueueRequest(sender_code="HR", body="one segment", to_number=t), now)
        for t in ("+14155550100", UNREACHABLE)
    ]
    ids.append(
        store.enqueue(
            EnqueueRequest(sender_code="HR", body="x" * 200, to_number="+14155550101"), now
        )
    )
    env.run_worker()
    _wait(lambda: all(m["status"] in FINAL for m in control.messages()), "final statuses")
    gateway = TwilioGateway(load_settings(None, env.environ()).twilio, environment={})

    later = datetime.now(UTC) + timedelta(minutes=1)
    assert sync(store, gateway, later, older_than=timedelta(0)) == 3
    rows = [store.get(i) for i in ids]
    assert [r.status for r in rows if r] == [Status.DELIVERED, Status.UNDELIVERED, Status.DELIVERED]
    assert [r.price for r in rows if r] == [None, None, None]  # final, not priced yet

    _wait(lambda: all(m["price"] for m in control.messages()), "Twilio's prices")
    # The statuses are final: only the job's second look, for final messages without a price.
    assert sync(store, gateway, later + timedelta(minutes=5), older_than=timedelta(0)) == 0
    rows = [store.get(i) for i in ids]
    assert [(r.price, r.price_unit) for r in rows if r] == [
        (-0.0075, "USD"),
        (-0.0075, "USD"),  # undelivered messages are charged too
        (-0.015, "USD"),  # two segments
    ]
    month = later.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    (cost,) = store.cost_by_sender_and_month(month, later + timedelta(days=40))
    assert (cost.sender_code, cost.price_unit, cost.messages, cost.priced) == ("HR", "USD", 3, 3)
    assert (cost.segments, cost.cost) == (4, 0.03)
    store.close()


class PricedTwilio:
    """Twilio's view of each SID: a status and a price (None: not priced)."""

    def __init__(self, answers: dict[str, tuple[str, str | None]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def fetch(self, sid: str, *, account: str | None = None) -> RemoteMessage:
        self.asked.append(sid)
        status, price = self.answers[sid]
        unit = None if price is None else "USD"
        return RemoteMessage(
            sid,
            status,
            None,
            None,
            None,
            "",
            price=None if price is None else float(price),
            price_unit=unit,
        )


def test_a_known_price_is_not_replaced_by_null_and_the_second_look_is_bounded(
    tmp_path: Path,
) -> None:
    store = prepare_db(tmp_path / "known.db")
    ids = enqueue_many(store, 3)
    t0 = datetime.now(UTC)
    store.claim_batch("HR", 10, t0, lease_seconds=60, worker="w")
    sids = [f"SM{i:032x}" for i in ids]
    store.mark_submitted(
        [SubmitResult(i, sid, "queued", "+14155550100") for i, sid in zip(ids, sids, strict=True)],
        t0,
    )
    # The first was priced while still SENT (a look-up returned it); the others are final.
    store.record_status(t0, Status.SENT, source="sync", provider_sid=sids[0])
    store.record_price(ids[0], -0.0079, "USD")
    store.record_status(t0, Status.DELIVERED, source="sync", provider_sid=sids[1])
    store.record_status(
        t0 - timedelta(days=2), Status.DELIVERED, source="sync", provider_sid=sids[2]
    )
    twilio = PricedTwilio(
        {sids[0]: ("delivered", None), sids[1]: ("delivered", None), sids[2]: ("delivered", "-1")}
    )
    later = t0 + timedelta(hours=1)
    assert sync(store, twilio, later, older_than=timedelta(minutes=30)) == 1  # type: ignore[arg-type]
    first = store.get(ids[0])
    assert first is not None and first.status is Status.DELIVERED
    assert (first.price, first.price_unit) == (-0.0079, "USD")  # kept: Twilio's null is no news
    # Final within the last 24 hours and without a price: asked again. Final two days ago: not.
    assert twilio.asked == [sids[0], sids[1]]
    assert store.get(ids[2]).price is None  # type: ignore[union-attr]
    store.close()


@pytest.mark.parametrize(
    ("price", "unit", "expected"),
    [
        ("-0.00790", "usd", (-0.0079, "USD")),
        ("-9999999.99999", "USD", (-9999999.99999, "USD")),
        ("-10000000", "USD", (None, None)),  # beyond NUMBER(12,5): would be ORA-01438
        ("nan", "USD", (None, None)),
        ("-inf", "USD", (None, None)),
        ("", "USD", (None, None)),
        ("-0.0079", "US", (None, None)),
        ("cheap", "USD", (None, None)),
    ],
)
def test_a_price_is_kept_only_when_its_column_can_hold_it(
    price: str, unit: str, expected: tuple[float | None, str | None]
) -> None:
    parsed = parse_price(price, unit)
    assert (parsed["price"], parsed["price_unit"]) == expected
