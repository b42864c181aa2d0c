"""A Twilio account per business unit (issue 14 #1), end to end: a sandbox with a subaccount,
the worker as a process, the real twilio library. A sender on a named account sends through
that account's SID and token; a message exists only in the account that created it, so the
sync finds it there; ``sms-bridge check`` checks every account and names the one that fails."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.domain.models import EnqueueRequest, Sender
from bridge.outbound.gateway import TwilioGateway
from bridge.outbound.recovery import sync
from tests.outbound.support import ACCOUNT_SID, FROM, REPO, Env, iter_statuses, prepare_db, start
from tests.sandbox.sandbox_support import Control, SandboxProcess, wait_until

pytestmark = pytest.mark.slow

OPS_SID = "AC" + "0decade0" * 4  # the operations unit's subaccount
OPS_TOKEN = "ops-subaccount-token"
OPS_FROM = "+15005550007"


@pytest.fixture(scope="module")
def accounts_sandbox() -> Iterator[SandboxProcess]:
    sp = start("--subaccount", f"{OPS_SID}:{OPS_TOKEN}:{OPS_FROM}")
    yield sp
    sp.stop()


@pytest.fixture
def env(tmp_path: Path, accounts_sandbox: SandboxProcess) -> Env:
    Control(accounts_sandbox.url).post("/_sandbox/reset")
    return Env(
        db_path=tmp_path / "bridge.db",
        sandbox_url=accounts_sandbox.url,
        maildir=tmp_path / "mail",
    )


def ops_account(token: str = OPS_TOKEN) -> dict[str, str]:
    return {"twilio_accounts_ops_account_sid": OPS_SID, "twilio_accounts_ops_auth_token": token}


def queue(env: Env) -> tuple[int, int]:
    store = prepare_db(env.db_path)
    now = datetime.now(UTC)
    store.save_sender(Sender(code="OPS", from_number=OPS_FROM, twilio_account="ops"), now)
    ids = tuple(
        store.enqueue(EnqueueRequest(sender_code=code, body=f"from {code}", to_number=to), now)
        for code, to in (("HR", "+14155550101"), ("OPS", "+14155550102"))
    )
    store.close()
    return ids[0], ids[1]


def test_each_sender_sends_through_its_own_account(env: Env) -> None:
    hr_id, ops_id = queue(env)
    env.run_worker(**ops_account())
    store = env.store()
    try:
        assert set(iter_statuses(store, [hr_id, ops_id])) <= {"SUBMITTED", "SENT", "DELIVERED"}
        hr, ops = store.get(hr_id), store.get(ops_id)
        assert hr is not None and ops is not None
    finally:
        store.close()
    at_twilio = {m["sid"]: m for m in Control(env.sandbox_url).messages()}
    assert at_twilio[hr.provider_sid]["account_sid"] == ACCOUNT_SID
    assert at_twilio[hr.provider_sid]["from"] == FROM
    assert at_twilio[ops.provider_sid]["account_sid"] == OPS_SID
    assert at_twilio[ops.provider_sid]["from"] == OPS_FROM

    # The sync asks each message's own account: the main account would answer 404 for OPS's.
    # First both are delivered at the sandbox (its lifecycle runs on its own clock).
    sids = {hr.provider_sid, ops.provider_sid}
    wait_until(
        lambda: (
            {
                m["sid"]
                for m in Control(env.sandbox_url).messages()
                if m["sid"] in sids and m["status"] == "delivered"
            }
            == sids
        ),
        timeout=15,
    )
    settings = load_settings(None, env.environ(**ops_account()))
    gateway = TwilioGateway(settings.twilio, environment={})
    store = env.store()
    try:
        later = datetime.now(UTC) + timedelta(hours=1)
        sync(store, gateway, later, older_than=timedelta(minutes=30))
        assert list(iter_statuses(store, [hr_id, ops_id])) == ["DELIVERED", "DELIVERED"]
    finally:
        store.close()


def test_a_sender_on_an_account_without_credentials_is_held_back(env: Env) -> None:
    hr_id, ops_id = queue(env)
    env.run_worker()  # no [twilio.accounts.ops]: OPS's message waits, HR's goes
    store = env.store()
    try:
        hr_status, ops_status = iter_statuses(store, [hr_id, ops_id])
        assert hr_status != "QUEUED"
        assert ops_status == "QUEUED"
    finally:
        store.close()
    assert not [m for m in Control(env.sandbox_url).messages() if m["from"] == OPS_FROM]


def check(env: Env, **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", "check"],
        cwd=REPO,
        env=env.environ(**overrides),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_reports_every_account_and_names_the_failing_one(env: Env) -> None:
    prepare_db(env.db_path).close()
    good = check(env, **ops_account())
    assert good.returncode == 0, good.stdout + good.stderr
    twilio_lines = [line for line in good.stdout.splitlines() if "twilio" in line.lower()]
    assert len(twilio_lines) == 2, good.stdout
    assert any("ops" in line and OPS_SID[:6] in line for line in twilio_lines), good.stdout

    bad = check(env, **ops_account(token="not-the-token"))
    assert bad.returncode != 0
    failing = [line for line in bad.stdout.splitlines() if "FAIL" in line]
    assert len(failing) == 1, bad.stdout
    assert "ops" in failing[0] and "auth_token" in failing[0].lower(), failing[0]
    assert "not-the-token" not in bad.stdout + bad.stderr  # a secret is never printed
    assert "Traceback" not in bad.stderr


def test_credentials_refused_for_one_account_stop_only_its_senders(env: Env) -> None:
    """The ops token revoked while the worker runs (past its start check): HR's message still
    goes through [twilio]; OPS's stays queued, unspent; the re-check asks that account only."""
    from bridge.runner import Runner

    hr_id, ops_id = queue(env)
    store = env.store()
    settings = load_settings(None, env.environ(**ops_account(token="revoked-token")))
    runner = Runner(settings, store)
    runner._twilio_checked = True  # the start check passed; the token was revoked since
    try:
        assert runner.drain() == 1  # --once says it stopped short
        assert list(iter_statuses(store, [hr_id])) != ["QUEUED"]
        ops = store.get(ops_id)
        assert ops is not None and ops.status.value == "QUEUED" and ops.attempts == 0
        assert set(runner.worker.broken) == {"ops"}
        assert "[twilio.accounts.ops]" in runner.worker.credentials_answer

        asked: list[str | None] = []
        runner.gateway.check = lambda account=None: asked.append(account) or ""  # type: ignore[method-assign]
        runner.recheck_credentials()  # accepted again
        assert asked == ["ops"] and runner.worker.broken == {}
    finally:
        runner.worker.shutdown()
        store.close()
    assert not [m for m in Control(env.sandbox_url).messages() if m["from"] == OPS_FROM]
