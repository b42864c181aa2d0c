"""The outbound worker end to end: real sandbox process, real twilio library, SQLite file,
the worker as a process (``sms-bridge run``), SMTP through aiosmtpd on loopback."""

from __future__ import annotations

import signal
import socket
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.domain.models import EnqueueRequest
from bridge.domain.statuses import Status
from bridge.outbound.gateway import TwilioGateway
from bridge.outbound.recovery import sync
from tests.outbound.support import (
    ACCOUNT_SID,
    FROM,
    LANDLINE,
    UNREACHABLE,
    Env,
    enqueue_many,
    iter_statuses,
    prepare_db,
)
from tests.sandbox.sandbox_support import Control, SandboxProcess

pytestmark = pytest.mark.slow
AT_TWILIO = {"SUBMITTED", "SENT", "DELIVERED"}


@pytest.fixture
def env(tmp_path: Path, sandbox: SandboxProcess, control: Control) -> Env:
    return Env(db_path=tmp_path / "bridge.db", sandbox_url=sandbox.url, maildir=tmp_path / "mail")


def gateway(env: Env) -> TwilioGateway:
    return TwilioGateway(load_settings(None, env.environ()).twilio, environment={})


def per_body(control: Control) -> Counter[str]:
    return Counter(m["body"] for m in control.messages())


def drain_until_settled(env: Env, ids: list[int], rounds: int = 20, **overrides: str) -> list[str]:
    store = env.store()
    try:
        for _ in range(rounds):
            env.run_worker(**overrides)
            statuses = list(iter_statuses(store, ids))
            if not {"QUEUED", "SENDING"} & set(statuses):
                return statuses
            time.sleep(0.3)
        return list(iter_statuses(store, ids))
    finally:
        store.close()


def test_messages_reach_delivered(env: Env, control: Control) -> None:
    store = prepare_db(env.db_path)
    ids = enqueue_many(store, 20)
    unreachable = enqueue_many(store, 1, to=UNREACHABLE, tag="unreachable")
    env.run_worker()
    assert set(iter_statuses(store, ids + unreachable)) == {"SUBMITTED"}
    deadline = time.monotonic() + 20  # the sandbox's lifecycle: queued -> sending -> sent -> ...
    while time.monotonic() < deadline and {m["status"] for m in control.messages()} - {
        "delivered",
        "undelivered",
    }:
        time.sleep(0.1)
    moved = sync(
        store, gateway(env), datetime.now(UTC) + timedelta(minutes=1), older_than=timedelta(0)
    )
    assert moved == 21
    assert set(iter_statuses(store, ids)) == {"DELIVERED"}
    failed = store.get(unreachable[0])
    assert failed is not None
    assert (failed.status, failed.error_code) == (Status.UNDELIVERED, 30003)
    assert set(per_body(control).values()) == {1} and sum(per_body(control).values()) == 21
    sent = control.messages(to="+14155550100")[0]
    assert sent["create_params"]["StatusCallback"].endswith(
        "/twilio/status?id=" + str(store.get_by_sid(sent["sid"]).id)
    )  # type: ignore[union-attr]
    store.close()


def test_landlines_become_invalid(env: Env, control: Control) -> None:
    store = prepare_db(env.db_path)
    at_twilio = enqueue_many(store, 1, to=LANDLINE, tag="magic")
    local = enqueue_many(store, 1, to="+442071838750", tag="uk")
    env.run_worker()
    remote, known = store.get(at_twilio[0]), store.get(local[0])
    assert remote is not None and known is not None
    assert (remote.status, remote.error_code) == (Status.INVALID, 21614)
    assert known.status is Status.INVALID and "fixed line" in (known.status_reason or "")
    assert [r["params"]["To"] for r in control.requests(kind="create")] == [LANDLINE]
    store.close()


def test_opted_out_recipient_is_suppressed_without_a_request(env: Env, control: Control) -> None:
    store = prepare_db(env.db_path)
    store.set_optout("+14155550177", FROM, True, datetime.now(UTC), keyword="STOP")
    ids = enqueue_many(store, 2, to="+14155550177")
    control.post("/_sandbox/optout", {"number": "+14155550178", "sender": FROM, "opted_out": True})
    at_twilio = enqueue_many(store, 1, to="+14155550178", tag="opted out at twilio")
    env.run_worker()
    assert set(iter_statuses(store, ids + at_twilio)) == {"SUPPRESSED"}
    assert not [r for r in control.requests() if r["params"].get("To") == "+14155550177"]
    assert store.is_opted_out("+14155550178", FROM)  # 21610 recorded as an opt-out
    store.close()


def test_quiet_hours_defer_with_a_controlled_clock(env: Env, control: Control) -> None:
    from bridge.runner import Runner

    store = prepare_db(
        env.db_path, quiet_start="21:00", quiet_end="08:00", default_time_zone="America/New_York"
    )
    night = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 23:30 in New York
    clock = {"now": night}
    normal = store.enqueue(
        EnqueueRequest(sender_code="HR", body="tomorrow is fine", to_number="+12125550123"), night
    )
    urgent = store.enqueue(
        EnqueueRequest(sender_code="HR", body="urgent now", priority=1, to_number="+12125550124"),
        night,
    )
    settings = load_settings(None, env.environ())
    runner = Runner(
        settings,
        store,
        clock=lambda: clock["now"],
        gateway=TwilioGateway(settings.twilio, environment={}),
    )
    runner.drain()
    deferred, sent = store.get(normal), store.get(urgent)
    assert deferred is not None and sent is not None
    assert sent.status is Status.SUBMITTED
    assert deferred.status is Status.QUEUED and deferred.attempts == 0
    assert deferred.next_attempt_at == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert [m["body"] for m in control.messages()] == ["urgent now"]
    clock["now"] = datetime(2026, 11, 24, 13, 1, tzinfo=UTC)
    runner = Runner(
        settings,
        store,
        clock=lambda: clock["now"],
        gateway=TwilioGateway(settings.twilio, environment={}),
    )
    runner.drain()
    after = store.get(normal)
    assert after is not None and after.status is Status.SUBMITTED
    store.close()


@pytest.mark.parametrize("io", ["async", "threads"])
def test_429_storm_ends_submitted_without_duplicates(env: Env, control: Control, io: str) -> None:
    store = prepare_db(env.db_path)
    ids = enqueue_many(store, 100)
    control.faults(rate_429=0.5)
    statuses = drain_until_settled(env, ids, bridge_io=io)
    assert set(statuses) == {"SUBMITTED"}
    counts = per_body(control)
    assert len(counts) == 100 and set(counts.values()) == {1}
    rejected = [r for r in control.requests() if r.get("fault") == "429"]
    assert len(rejected) > 20  # the storm really happened
    store.close()


@pytest.mark.parametrize(
    "faults",
    [
        {"rate_500": 0.4, "fraction_500_after_create": 0.5},
        {"slow_rate": 0.2, "slow_ms": 3000},  # beyond the client's 2 s timeout, after creating
        {"reset_rate": 0.2, "fraction_reset_after_create": 0.5},
    ],
    ids=["500", "timeout", "reset"],
)
@pytest.mark.parametrize("io", ["async", "threads"])
def test_unknown_outcomes_end_with_exactly_one_message_per_row(
    env: Env, control: Control, faults: dict[str, float], io: str
) -> None:
    store = prepare_db(env.db_path)
    ids = enqueue_many(store, 40)
    control.faults(**faults)
    statuses = drain_until_settled(env, ids, bridge_io=io)
    # Reconciled rows take the status Twilio reports for them, which may be further along.
    assert set(statuses) <= AT_TWILIO and "SUBMITTED" in statuses
    counts = per_body(control)
    assert len(counts) == 40 and set(counts.values()) == {1}
    deadline = time.monotonic() + 6  # a slow answer is logged once it has been written
    while True:
        outcomes = Counter(r.get("fault") for r in control.requests())
        if sum(n for fault, n in outcomes.items() if fault) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sum(n for fault, n in outcomes.items() if fault) > 0, outcomes
    store.close()


def test_kill_9_mid_batch_then_restart(env: Env, control: Control) -> None:
    store = prepare_db(env.db_path)
    ids = enqueue_many(store, 150)
    control.faults(latency_ms={"dist": "fixed", "value": 300})
    worker = env.popen_worker(bridge_concurrency="16")
    deadline = time.monotonic() + 30
    while len(control.messages()) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    assert worker.stderr is not None
    worker.stderr.close()
    assert "SENDING" in set(iter_statuses(store, ids))  # it really died mid-batch
    control.faults(latency_ms={"dist": "none"})
    time.sleep(5.2)  # the dead worker's leases (5 s) run out
    statuses = drain_until_settled(env, ids)
    assert set(statuses) <= AT_TWILIO | {"QUEUED"}  # every row final, at Twilio, or queued
    counts = per_body(control)
    assert max(counts.values()) == 1
    assert len(counts) == sum(1 for s in statuses if s in AT_TWILIO)
    store.close()


def test_two_workers_produce_no_duplicates(env: Env, control: Control) -> None:
    store = prepare_db(env.db_path)
    # Both workers run (not --once) and idle until the rows become due, so both are polling
    # when the work appears, whatever their start-up times on a loaded machine.
    due = datetime.now(UTC) + timedelta(seconds=3)
    ids = [
        store.enqueue(
            EnqueueRequest(
                sender_code="HR", body=f"twin {i}", to_number="+14155550100", send_after=due
            ),
            datetime.now(UTC),
        )
        for i in range(300)
    ]
    control.faults(latency_ms={"dist": "uniform", "min": 20, "max": 60})
    workers = [
        env.popen_worker(
            bridge_concurrency="8", bridge_batch_size="10", bridge_poll_max_seconds="0.1"
        )
        for _ in range(2)
    ]
    deadline = time.monotonic() + 90
    while set(iter_statuses(store, ids)) != {"SUBMITTED"} and time.monotonic() < deadline:
        time.sleep(0.2)
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        assert w.wait(30) == 0
        assert w.stderr is not None
        w.stderr.close()
    assert set(iter_statuses(store, ids)) == {"SUBMITTED"}
    counts = per_body(control)
    assert len(counts) == 300 and set(counts.values()) == {1}
    claimed_by = Counter(m.claimed_by for m in (store.get(i) for i in ids) if m is not None)
    assert len(claimed_by) == 2, claimed_by  # both workers did share the work
    store.close()


def test_error_digest_arrives_at_smtp_with_the_right_counts(env: Env, control: Control) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    from bridge.mail.notify import Notifier
    from bridge.mail.transport import SmtpTransport

    class Keep(Sink):
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            self.messages.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    store = prepare_db(env.db_path)
    since = datetime.now(UTC) - timedelta(seconds=1)
    enqueue_many(store, 2, to=LANDLINE, tag="landline")
    enqueue_many(store, 1, to="+442071838750", tag="uk fixed")
    enqueue_many(store, 3)
    env.run_worker()
    handler = Keep()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = load_settings(
            None,
            env.environ(
                mail_transport="smtp", mail_smtp_host="127.0.0.1", mail_smtp_port=str(port)
            ),
        )
        notifier = Notifier(settings.mail, SmtpTransport(settings.mail))
        assert notifier.error_digest(store, since, datetime.now(UTC) + timedelta(seconds=1))
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    mail = message_from_bytes(handler.messages[0])
    assert mail["To"] == "ops@example.com"
    assert mail["Subject"].startswith("[sms-bridge] 3 message error(s)")
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in mail.walk()
        if not p.is_multipart()
    }
    assert set(parts) == {"text/plain", "text/html"}
    table = {
        tuple(line.split()[:3]): int(line.split()[3])
        for line in parts["text/plain"].splitlines()
        if line.startswith("HR ")
    }
    assert table == {("HR", "INVALID", "21614"): 2, ("HR", "INVALID", "-"): 1}
    store.close()


@pytest.mark.parametrize("io", ["async", "threads"])
def test_sigterm_finishes_in_flight_and_releases_the_rest(
    env: Env, control: Control, io: str
) -> None:
    # On the event loop nothing is cancelled: every create started when it was handed over,
    # so each is awaited and recorded; only claims never handed over are released.
    store = prepare_db(env.db_path)
    ids = enqueue_many(store, 120)
    control.faults(latency_ms={"dist": "fixed", "value": 400})
    worker = env.popen_worker(bridge_concurrency="8", bridge_io=io)
    deadline = time.monotonic() + 30
    while not control.requests(kind="create") and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert worker.stderr is not None
    worker.stderr.close()
    statuses = list(iter_statuses(store, ids))
    assert "SENDING" not in statuses  # nothing left claimed
    assert "QUEUED" in statuses  # it stopped early, giving work back
    counts = per_body(control)
    assert max(counts.values()) == 1 and len(counts) == statuses.count("SUBMITTED")
    released = [m for m in (store.get(i) for i in ids) if m and m.status is Status.QUEUED]
    assert all(m.attempts == 0 for m in released)
    store.close()


def test_bad_credentials_stop_sending_and_alert_once(env: Env, control: Control) -> None:
    import mailbox

    store = prepare_db(env.db_path)
    ids = enqueue_many(store, 5)
    # The start check (IncomingPhoneNumbers) stops --once before it claims anything: one
    # line naming the account and the fix, a non-zero exit (cron and the operator see it).
    stderr = env.run_worker(twilio_auth_token="wrong-token", expect_exit=1)
    (line,) = stderr.strip().splitlines()
    assert "run stopped before claiming: Twilio rejected the credentials" in line
    assert ACCOUNT_SID in line and "20003" in line and "[twilio] auth_token" in line
    assert set(iter_statuses(store, ids)) == {"QUEUED"}  # nothing lost, nothing final
    for message in (store.get(i) for i in ids):
        assert message is not None and message.attempts == 0 and message.error_code is None
    assert control.requests(kind="create") == []  # not one send tried
    assert [r["kind"] for r in control.requests()] == ["numbers"]
    box = mailbox.Maildir(env.maildir, create=False)
    (mail,) = list(box)
    assert mail["Subject"] == (
        "[sms-bridge ALERT] Twilio rejected the bridge's credentials: sending stopped"
    )
    # ...and its alert promises no re-check that a --once run will never make.
    text = mail.get_payload()[0].get_payload(decode=True).decode()
    assert "re-checks" not in text and "next run" in text
    store.close()
