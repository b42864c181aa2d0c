"""Reconciling creates of unknown outcome against a real sandbox (design §4).

The sandbox here keeps every message queued for a minute, as Twilio does under load: a
message that is still queued has no date_sent, so a matcher by DateSent would miss it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.domain.models import SubmitResult
from bridge.domain.statuses import Status
from bridge.outbound.gateway import TwilioGateway
from bridge.outbound.recovery import reconcile
from bridge.store import Store
from tests.outbound.support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM,
    Env,
    enqueue_many,
    prepare_db,
    reset_control,
)
from tests.sandbox.sandbox_support import Control, SandboxProcess, start_sandbox

pytestmark = pytest.mark.slow
TO = "+14155550100"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    process = start_sandbox(
        "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN, "--number", FROM,
        "--queued-delay", "60", "--seed", "5",
    )  # fmt: skip
    yield process
    process.stop()


@pytest.fixture
def control(sandbox: SandboxProcess) -> Iterator[Control]:
    ctl = reset_control(sandbox.url)
    yield ctl
    ctl.close()


@pytest.fixture
def gateway(tmp_path: Path, sandbox: SandboxProcess) -> TwilioGateway:
    env = Env(db_path=tmp_path / "unused.db", sandbox_url=sandbox.url, maildir=tmp_path / "mail")
    return TwilioGateway(load_settings(None, env.environ()).twilio, environment={})


def claim_prepared(store: Store, now: datetime) -> list[int]:
    """Claim what is queued and record the number, as the worker does before a create."""
    batch = store.claim_batch("HR", 10, now, lease_seconds=1, worker="crashed")
    store.record_prepared([(m.id, TO, 1, "GSM-7") for m in batch], now, worker="crashed")
    return [m.id for m in batch]


def recover(store: Store, gateway: TwilioGateway, now: datetime) -> None:
    reconcile(store, gateway, now, worker="recovery", lease_seconds=60, max_attempts=5)


@pytest.mark.parametrize(
    "skew", [0.0, -2.0, -300.0, 300.0], ids=["same-clock", "behind-2s", "behind-5min", "ahead-5min"]
)
def test_a_message_still_queued_at_twilio_is_found_not_sent_again(
    tmp_path: Path, control: Control, gateway: TwilioGateway, skew: float
) -> None:
    # Twilio's clock (date_created, the Date header) runs `skew` seconds from ours: before,
    # 1.5 s behind was enough for every unknown outcome to be sent again (issue 11 #2).
    control.faults(clock_offset_seconds=skew)
    store = prepare_db(tmp_path / "queued.db")
    (message_id,) = enqueue_many(store, 1)
    claimed_at = datetime.now(UTC)
    claim_prepared(store, claimed_at)
    # The create reached Twilio but its answer was lost (the worker died, or a timeout).
    message = store.get(message_id)
    assert message is not None
    outcome = gateway.send(
        to=TO, body=message.body, from_number=FROM, messaging_service_sid=None, status_callback=None
    )
    assert outcome.sid is not None
    (at_twilio,) = control.messages()
    assert at_twilio["status"] == "queued" and at_twilio["date_sent"] is None
    recover(store, gateway, claimed_at + timedelta(seconds=5))
    row = store.get(message_id)
    assert row is not None and (row.status, row.provider_sid) == (Status.SUBMITTED, outcome.sid)
    assert len(control.messages()) == 1  # nothing sent twice
    store.close()


def test_an_identical_message_already_on_another_row_is_not_taken(
    tmp_path: Path, control: Control, gateway: TwilioGateway
) -> None:
    # Two identical reminders to one person: the first went out and is recorded; the second's
    # create never reached Twilio. Recovery must queue the second again, not take the first's
    # message (which would also break the unique provider_sid).
    store = prepare_db(tmp_path / "twins.db")
    first, second = enqueue_many(store, 2)
    with store.dialect.transaction("test") as tx:  # the bodies differ by index: make them equal
        tx.execute("UPDATE sms_outbound SET body = 'Reply YES 4821'")
    now = datetime.now(UTC)
    assert claim_prepared(store, now) == [first, second]
    sent = gateway.send(
        to=TO, body="Reply YES 4821", from_number=FROM, messaging_service_sid=None,
        status_callback=None,
    )  # fmt: skip
    assert sent.sid is not None
    store.mark_submitted([SubmitResult(first, sent.sid, "queued", TO, 1, "GSM-7")], now)
    recover(store, gateway, now + timedelta(seconds=5))
    twin = store.get(second)
    assert twin is not None and twin.status is Status.QUEUED and twin.provider_sid is None
    original = store.get(first)
    assert original is not None and original.provider_sid == sent.sid
    assert len(control.messages()) == 1
    store.close()


def test_an_earlier_identical_message_held_by_another_row_is_skipped_under_skew(
    tmp_path: Path, control: Control, gateway: TwilioGateway
) -> None:
    # The look-up reaches minutes back when Twilio's clock is behind: the earlier twin's
    # message is in that window, and only its SID on the other row keeps it from being taken.
    control.faults(clock_offset_seconds=-240.0)
    store = prepare_db(tmp_path / "skew-twins.db")
    first, second = enqueue_many(store, 2)
    with store.dialect.transaction("test") as tx:
        tx.execute("UPDATE sms_outbound SET body = 'Reply YES 4821'")
    now = datetime.now(UTC)
    batch = store.claim_batch("HR", 1, now, lease_seconds=1, worker="w")
    assert [m.id for m in batch] == [first]
    store.record_prepared([(first, TO, 1, "GSM-7")], now, worker="w")
    sent = gateway.send(
        to=TO, body="Reply YES 4821", from_number=FROM, messaging_service_sid=None,
        status_callback=None,
    )  # fmt: skip
    assert sent.sid is not None
    store.mark_submitted([SubmitResult(first, sent.sid, "queued", TO, 1, "GSM-7")], now)
    later = now + timedelta(seconds=30)
    assert claim_prepared(store, later) == [second]  # its create never reached Twilio
    recover(store, gateway, later + timedelta(seconds=5))
    twin = store.get(second)
    assert twin is not None and twin.status is Status.QUEUED and twin.provider_sid is None
    assert len(control.messages()) == 1
    store.close()
