"""The worker's start check (IncomingPhoneNumbers, once): rejected credentials stop it before it
claims anything; missing ones are the config error; Twilio unreachable only warns."""

from __future__ import annotations

import mailbox
import socket
from pathlib import Path

import pytest

from tests.outbound.support import ACCOUNT_SID, Env, enqueue_many, iter_statuses, prepare_db
from tests.sandbox.sandbox_support import Control, SandboxProcess


@pytest.fixture
def env(tmp_path: Path, sandbox: SandboxProcess) -> Env:
    return Env(tmp_path / "start.db", sandbox.url, tmp_path / "mail")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_service_stops_on_rejected_credentials_and_a_restart_does_not_mail_again(
    env: Env, control: Control
) -> None:
    store = prepare_db(env.db_path)
    ids = enqueue_many(store, 3)
    for _ in range(2):  # systemd restarts a failed worker
        worker = env.popen_worker(twilio_auth_token="wrong-token")
        assert worker.wait(30) == 1
        assert worker.stderr is not None
        lines = [line for line in worker.stderr.read().splitlines() if line.strip()]
        worker.stderr.close()
        assert len(lines) == 1, lines
        assert f"Twilio rejected the credentials of account {ACCOUNT_SID}" in lines[0]
        assert "set [twilio] auth_token" in lines[0]
    assert control.requests(kind="create") == []
    assert set(iter_statuses(store, ids)) == {"QUEUED"}
    box = mailbox.Maildir(env.maildir, create=False)
    (mail,) = list(box)  # one alert for both starts (alert_min_interval_minutes)
    assert "rejected the bridge's credentials" in str(mail["Subject"])
    store.close()


def test_a_missing_token_is_the_config_error(env: Env, control: Control) -> None:
    prepare_db(env.db_path).close()
    environ = env.environ()
    del environ["SMS_BRIDGE_TWILIO_AUTH_TOKEN"]
    from tests.outbound.support import run_once

    proc = run_once(environ)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "sms-bridge: error: [twilio] auth_token is not set (SMS_BRIDGE_TWILIO_AUTH_TOKEN, or a"
        " file named by [twilio] auth_token_file / SMS_BRIDGE_TWILIO_AUTH_TOKEN_FILE)"
    )
    assert control.requests() == []


def test_twilio_unreachable_at_start_is_a_warning_and_the_worker_runs(
    env: Env, control: Control
) -> None:
    store = prepare_db(env.db_path)
    (message_id,) = enqueue_many(store, 1)
    url = f"http://127.0.0.1:{free_port()}"
    stderr = env.run_worker(twilio_base_url=url, bridge_max_attempts="1")
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "WARNING" in lines[0] and "Twilio start check failed: connection refused by" in lines[0]
    assert "starting anyway" in lines[0]
    # It ran: the one attempt was made, refused, and the row is final.
    assert list(iter_statuses(store, [message_id])) == ["FAILED"]
    store.close()
