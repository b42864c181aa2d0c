"""Opt-outs from Twilio's history (bridge/replies/optout_sync.py) against the real sandbox:
inbound messages listed through the twilio library, keywords applied with the webhook's rules,
an older change never overwriting a newer one, idempotent; and the worker's job, once for all
workers."""

from __future__ import annotations

import functools
import mailbox
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.config import load_settings
from bridge.domain.optout_history import HISTORY_SOURCE, HistoryChange
from bridge.outbound.gateway import TwilioCheckError, TwilioGateway
from bridge.replies.optout_sync import sync_optouts
from bridge.runner import Runner
from bridge.store import Store
from tests.outbound.support import FROM, Env, prepare_db
from tests.sandbox.sandbox_support import Control, SandboxProcess

HANDSET = "+14155550171"
EARLY_BIRD = "+14155550172"  # opted out before the bridge existed
ASKER = "+14155550173"  # texts HELP only


@pytest.fixture
def env(tmp_path: Path, sandbox: SandboxProcess) -> Env:
    return Env(tmp_path / "optouts.db", sandbox.url, tmp_path / "mail")


def text(control: Control, frm: str, body: str, at: datetime | None = None) -> dict[str, Any]:
    """A handset's text to FROM that our webhook never got (it was down), at ``at``."""
    payload: dict[str, Any] = {"from": frm, "to": FROM, "body": body, "webhook": False}
    if at is not None:
        payload["date_sent"] = at.isoformat()
    answer = control.post("/_sandbox/reply", payload)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["message"])


def gateway(env: Env, **overrides: str) -> TwilioGateway:
    return TwilioGateway(load_settings(None, env.environ(**overrides)).twilio, environment={})


def run_sync(store: Store, gw: TwilioGateway, since: datetime, page_size: int = 2) -> Any:
    listing = functools.partial(gw.inbound_since, page_size=page_size)  # several pages
    return sync_optouts(store, listing, lambda account: gw.clock_offset(store.now, account), since)


def test_history_applies_the_latest_keyword_of_each_handset_once(
    env: Env, control: Control
) -> None:
    store = prepare_db(env.db_path)
    now = datetime.now(UTC).replace(microsecond=0)
    text(control, EARLY_BIRD, "stop\u00a0", now - timedelta(days=300))  # folded: STOP
    text(control, HANDSET, "STOP", now - timedelta(days=3))
    text(control, HANDSET, "Start.", now - timedelta(days=2))
    last_stop = text(control, HANDSET, "ＳＴＯＰ", now - timedelta(days=1))  # fullwidth
    text(control, ASKER, "HELP", now - timedelta(hours=5))
    text(control, HANDSET, "stop it please")  # no whole-body keyword: an ordinary reply
    gw = gateway(env)
    first = run_sync(store, gw, now - timedelta(days=400))
    assert (first.numbers, first.messages) == (1, 6)
    assert (first.opted_out, first.opted_in, first.older) == (2, 0, 2)
    assert store.is_opted_out(HANDSET, FROM) and store.is_opted_out(EARLY_BIRD, FROM)
    assert store.get_optout(ASKER, FROM) is None  # HELP changes nothing
    row = store.get_optout(HANDSET, FROM)
    assert row is not None and row["source"] == HISTORY_SOURCE and row["keyword"] == "STOP"
    sent_at = parsedate_to_datetime(last_stop["date_sent"])
    assert abs(row["changed_at"] - sent_at) <= timedelta(seconds=3)  # Twilio's time, no skew
    assert first.line() == (
        "optouts sync: 1 number(s) scanned, 6 message(s) read, 2 opt-out(s) applied,"
        " 0 opt-in(s) applied, 2 older than current ignored"
    )
    # The listing asked for inbound messages to our number since then, page after page.
    lists = control.requests(kind="list")
    assert len(lists) >= 3 and all(r["params"]["To"] == FROM for r in lists)
    assert all("DateSent>" in r["params"] for r in lists)
    # Twice: nothing changes the second time.
    second = run_sync(store, gw, now - timedelta(days=400))
    assert (second.opted_out, second.opted_in, second.changes) == (0, 0, [])
    assert store.get_optout(HANDSET, FROM) == row
    store.close()


def test_a_newer_live_opt_in_keeps_over_an_older_history_stop(env: Env, control: Control) -> None:
    store = prepare_db(env.db_path)
    now = datetime.now(UTC)
    text(control, HANDSET, "STOP", now - timedelta(hours=2))
    store.set_optout(HANDSET, FROM, False, now - timedelta(hours=1), keyword="START")  # live
    result = run_sync(store, gateway(env), now - timedelta(days=1))
    assert (result.opted_out, result.older) == (0, 1)
    assert not store.is_opted_out(HANDSET, FROM)
    row = store.get_optout(HANDSET, FROM)
    assert row is not None and row["source"] == "inbound"
    # The other way round: a history START newer than a live STOP wins.
    text(control, EARLY_BIRD, "UNSTOP", now - timedelta(minutes=10))
    store.set_optout(EARLY_BIRD, FROM, True, now - timedelta(hours=1), keyword="STOP")
    result = run_sync(store, gateway(env), now - timedelta(days=1))
    assert result.opted_in == 1 and not store.is_opted_out(EARLY_BIRD, FROM)
    store.close()


def test_twilio_clock_ahead_does_not_let_a_history_stop_overtake_a_later_live_start(
    env: Env, control: Control
) -> None:
    store = prepare_db(env.db_path)
    control.faults(clock_offset_seconds=300)  # Twilio's clock 5 minutes ahead of ours
    message = text(control, HANDSET, "STOP")  # now on our clock, now + 5 min on Twilio's
    store.set_optout(HANDSET, FROM, False, datetime.now(UTC) + timedelta(seconds=5))  # START
    result = run_sync(store, gateway(env), datetime.now(UTC) - timedelta(days=1))
    assert (result.opted_out, result.older) == (0, 1), result
    assert not store.is_opted_out(HANDSET, FROM)
    # Alone, the STOP is dated on our clock: Twilio's date_sent minus the skew.
    text(control, EARLY_BIRD, "STOP")
    result = run_sync(store, gateway(env), datetime.now(UTC) - timedelta(days=1))
    assert result.opted_out == 1
    row = store.get_optout(EARLY_BIRD, FROM)
    assert row is not None
    twilio_time = parsedate_to_datetime(message["date_sent"])
    assert twilio_time - row["changed_at"] > timedelta(seconds=290)
    store.close()


def test_a_reply_the_webhook_stored_is_not_applied_again(env: Env, control: Control) -> None:
    from bridge.domain.models import InboundRecord

    store = prepare_db(env.db_path)
    message = text(control, HANDSET, "STOP", datetime.now(UTC) - timedelta(hours=1))
    record = InboundRecord(
        message_sid=message["sid"], from_number=HANDSET, to_number=FROM, body="STOP"
    )
    store.insert_inbound(record, datetime.now(UTC))
    result = run_sync(store, gateway(env), datetime.now(UTC) - timedelta(days=1))
    assert (result.opted_out, result.already_received) == (0, 1)
    store.close()


def test_twilio_refusing_the_listing_is_one_line(env: Env, control: Control) -> None:
    store = prepare_db(env.db_path)
    with pytest.raises(TwilioCheckError, match="rejected the account SID / auth token"):
        run_sync(store, gateway(env, twilio_auth_token="wrong"), datetime.now(UTC))
    store.close()


def test_the_worker_job_runs_once_for_all_workers_from_the_last_run(
    env: Env, control: Control
) -> None:
    store = prepare_db(env.db_path)
    settings = load_settings(None, env.environ())
    clock = {"now": datetime.now(UTC)}
    text(control, HANDSET, "STOP", clock["now"] - timedelta(days=390))  # within 400 days
    text(control, EARLY_BIRD, "STOP", clock["now"] - timedelta(days=420))  # before them
    workers = [Runner(settings, store, clock=lambda: clock["now"]) for _ in range(2)]
    try:
        for runner in workers:
            runner.optout_sync()
        lists = control.requests(kind="list")
        assert len(lists) == 1  # one worker ran it
        since = datetime.fromisoformat(lists[0]["params"]["DateSent>"].replace("Z", "+00:00"))
        assert since.date() == (clock["now"] - timedelta(days=401)).date()  # look-back + a day
        assert store.is_opted_out(HANDSET, FROM) and not store.is_opted_out(EARLY_BIRD, FROM)
        found = [c for r in workers for c in r.history_changes]
        assert [(c.phone_number, c.opted_out) for c in found] == [(HANDSET, True)]
        # A day later (either worker): from the last run, less the day of overlap.
        last_run = clock["now"]
        clock["now"] += timedelta(days=1)
        for runner in workers:
            runner.optout_sync()
        (latest,) = [r for r in control.requests(kind="list") if r not in lists]
        since = datetime.fromisoformat(latest["params"]["DateSent>"].replace("Z", "+00:00"))
        assert abs(since - (last_run - timedelta(days=1))) < timedelta(seconds=2)
    finally:
        for runner in workers:
            runner.worker.shutdown()
        store.close()


def test_the_error_digest_says_what_the_sync_jobs_found(env: Env, control: Control) -> None:
    from bridge.outbound.recovery import sync
    from tests.outbound.support import enqueue_many

    store = prepare_db(env.db_path)
    settings = load_settings(None, env.environ(mail_error_digest_minutes="15"))
    now = datetime.now(UTC)
    runner = Runner(settings, store, clock=lambda: now)
    try:
        # Nothing found, nothing failed: no digest.
        runner.digest()
        box = mailbox.Maildir(env.maildir, create=True)
        assert len(box) == 0
        (message_id,) = enqueue_many(store, 1, to="+14155550188")
        env.run_worker()  # sent; no callback URL, so its delivery is learnt by the sync job
        deadline = time.monotonic() + 10
        while control.messages()[0]["status"] != "delivered" and time.monotonic() < deadline:
            time.sleep(0.05)
        later = now + timedelta(minutes=1)  # after the first digest's window
        assert sync(store, gateway(env), later, older_than=timedelta(0)) == 1
        runner.history_changes.append(
            HistoryChange(HANDSET, FROM, True, "STOP", now - timedelta(days=3))
        )
        clock_later = now + timedelta(minutes=15)
        runner.clock = lambda: clock_later
        runner.digest()
        (mail,) = list(box)
        assert str(mail["Subject"]).startswith("[sms-bridge] found by the sync jobs, ")
        body = mail.get_payload()[0].get_payload(decode=True).decode()
        assert "status sync: 1 message(s) moved forward without their callback" in body
        assert f"#{message_id} HR to=+1415*****88 -> DELIVERED" in body
        assert "opt-out history (Twilio's Messages list): 1 opt-out(s), 0 opt-in(s)" in body
        assert "+1415*****71 opted out of +1500*****06 (STOP, " in body
        assert HANDSET not in body and "+14155550188" not in body  # masked, as elsewhere
        assert runner.history_changes == []  # reported once
    finally:
        runner.worker.shutdown()
        store.close()


def test_the_sync_settings_are_validated_and_used(
    env: Env, control: Control, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.errors import ConfigError

    for key, value, says in [
        ("bridge_sync_limit", "0", "must be at least 1"),
        ("bridge_sync_interval_minutes", "0", "must be at least 1"),
        ("bridge_optout_sync_interval_minutes", "-1", "must be 0 (off) or more"),
        ("bridge_optout_sync_lookback_days", "0", "must be at least 1"),
    ]:
        with pytest.raises(ConfigError) as failed:
            load_settings(None, env.environ(**{key: value}))
        variable = f"SMS_BRIDGE_{key.upper()}"
        assert str(failed.value) == f"environment variable {variable}: {says}", failed.value
    store = prepare_db(env.db_path)
    settings = load_settings(
        None,
        env.environ(bridge_sync_interval_minutes="7", bridge_sync_limit="3"),
    )
    runner = Runner(settings, store)
    try:
        runner.schedule_jobs()
        jobs = {getattr(j.job_func, "__name__", ""): j for j in runner.scheduler.jobs}
        assert jobs["sync"].interval == 7 and jobs["sync"].unit == "minutes"
        assert jobs["optout_sync"].interval == 5  # asked every 5 min, run when due (daily)
        limits: list[int] = []
        real = store.stale_submissions

        def spy(before: datetime, *, limit: int) -> Any:
            limits.append(limit)
            return real(before, limit=limit)

        monkeypatch.setattr(store, "stale_submissions", spy)
        runner.sync()
        assert limits == [3]
        off = Runner(
            load_settings(None, env.environ(bridge_optout_sync_interval_minutes="0")), store
        )
        off.schedule_jobs()
        assert "optout_sync" not in {
            getattr(j.job_func, "__name__", "") for j in off.scheduler.jobs
        }
        off.worker.shutdown()
    finally:
        runner.worker.shutdown()
        store.close()
