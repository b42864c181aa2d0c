"""Expiry at Twilio too (issue 13 #1): every create of a message that has an expiry, or whose
sender has a default validity, carries Twilio's ValidityPeriod; Twilio's 30036 is EXPIRED."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.domain.models import EnqueueRequest
from bridge.domain.policy import validity_period
from bridge.domain.statuses import Status, from_provider
from bridge.outbound.gateway import TwilioGateway
from bridge.outbound.recovery import sync
from tests.outbound.support import Env, prepare_db, start
from tests.sandbox.sandbox_support import Control, SandboxProcess

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_the_validity_is_the_time_left_or_the_senders_default_whichever_is_shorter() -> None:
    assert validity_period(NOW, None, None) is None
    assert validity_period(NOW, NOW + timedelta(seconds=90.9), None) == 90  # never past it
    assert validity_period(NOW, None, 600) == 600
    assert validity_period(NOW, NOW + timedelta(hours=2), 600) == 600
    assert validity_period(NOW, NOW + timedelta(seconds=30), 600) == 30
    assert validity_period(NOW, NOW + timedelta(days=2), None) == 36_000  # Twilio's maximum
    assert validity_period(NOW, NOW + timedelta(milliseconds=200), None) == 1  # its minimum


def test_twilios_30036_is_expired_and_other_failures_stay_failed() -> None:
    assert from_provider("failed", 30036) is Status.EXPIRED
    assert from_provider("undelivered", 30036) is Status.EXPIRED
    assert from_provider("failed", 30008) is Status.FAILED
    assert from_provider("delivered", 30036) is Status.DELIVERED


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    process = start("--queued-delay", "3")  # every message waits 3 s in Twilio's queue
    yield process
    process.stop()


@pytest.mark.slow
def test_creates_carry_the_validity_and_a_message_kept_too_long_ends_expired(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = Env(db_path=tmp_path / "validity.db", sandbox_url=sandbox.url, maildir=tmp_path / "m")
    store = prepare_db(env.db_path)
    now = datetime.now(UTC)

    def enqueue(body: str, expires_in: timedelta | None, sender: str = "HR") -> int:
        expires_at = None if expires_in is None else now + expires_in
        request = EnqueueRequest(
            sender_code=sender, body=body, to_number="+14155550100", expires_at=expires_at
        )
        return store.enqueue(request, now)

    plain = enqueue("no expiry", None)
    in_an_hour = enqueue("expires in an hour", timedelta(hours=1))
    hr = store.get_sender("HR")
    assert hr is not None
    store.save_sender(replace(hr, code="IT", validity_seconds=1), now)  # same number
    short = enqueue("the IT sender keeps it 1 s", None, sender="IT")
    env.run_worker()
    params = {r["params"]["Body"]: r["params"] for r in control.requests(kind="create")}
    assert "ValidityPeriod" not in params["no expiry"]
    assert 3590 <= int(params["expires in an hour"]["ValidityPeriod"]) <= 3600
    assert params["the IT sender keeps it 1 s"]["ValidityPeriod"] == "1"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(
        m["status"] == "failed" for m in control.messages()
    ):
        time.sleep(0.1)
    gateway = TwilioGateway(load_settings(None, env.environ()).twilio, environment={})
    sync(store, gateway, datetime.now(UTC) + timedelta(minutes=1), older_than=timedelta(0))
    expired = store.get(short)
    assert expired is not None
    assert (expired.status, expired.error_code) == (Status.EXPIRED, 30036)
    for waiting in (plain, in_an_hour):
        row = store.get(waiting)
        assert row is not None and row.status in (Status.SUBMITTED, Status.SENT)
    store.close()


def test_the_validity_is_counted_when_the_create_leaves_not_when_the_batch_was_claimed(
    tmp_path: Path,
) -> None:
    # Between the claim and the create the worker may spend seconds (line-type look-ups,
    # the send gate): Twilio counts ValidityPeriod from the create it receives.
    from bridge.config import Settings
    from bridge.outbound.worker import Flight, Worker

    store = prepare_db(tmp_path / "v.db")
    claimed = datetime.now(UTC)
    request = EnqueueRequest(
        sender_code="HR", body="x", to_number="+14155550100",
        expires_at=claimed + timedelta(seconds=100),
    )  # fmt: skip
    (message,) = (store.get(store.enqueue(request, claimed)),)
    sender = store.get_sender("HR")
    assert message is not None and sender is not None
    seen: list[int | None] = []

    class Gateway:
        def send(self, **kw: object) -> None:
            seen.append(kw["validity_period"])  # type: ignore[arg-type]

    later = claimed + timedelta(seconds=30)
    worker = Worker(Settings(), store, Gateway(), None, clock=lambda: later, name="w")  # type: ignore[arg-type]
    try:
        worker.send(Flight(message, sender, "+14155550100", 1, "GSM-7"))
    finally:
        worker.pool.shutdown()
    assert seen == [70]
    store.close()
