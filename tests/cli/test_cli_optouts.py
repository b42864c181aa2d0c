"""``sms-bridge optouts sync``, the real console script against the real sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.support import one_line, sms_bridge
from tests.outbound.support import prepare_db
from tests.sandbox.sandbox_support import Control, SandboxProcess, start_sandbox

SID = "AC" + "0ff0ff00" * 4
TOKEN = "optouts-suite-token"
FROM = "+15005550006"
HANDSET = "+14155550181"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    process = start_sandbox("--account-sid", SID, "--auth-token", TOKEN, "--number", FROM)
    yield process
    process.stop()


@pytest.fixture
def control(sandbox: SandboxProcess) -> Iterator[Control]:
    ctl = Control(sandbox.url)
    assert ctl.post("/_sandbox/reset").status_code == 200
    yield ctl
    ctl.close()


@pytest.fixture
def env(tmp_path: Path, sandbox: SandboxProcess) -> dict[str, str]:
    prepare_db(tmp_path / "optouts.db").close()  # sender HR on FROM
    return {
        "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'optouts.db'}",
        "SMS_BRIDGE_TWILIO_ACCOUNT_SID": SID,
        "SMS_BRIDGE_TWILIO_AUTH_TOKEN": TOKEN,
        "SMS_BRIDGE_TWILIO_BASE_URL": sandbox.url,
        "SMS_BRIDGE_MAIL_MAILDIR": str(tmp_path / "mail"),
    }


def texted(control: Control, body: str, days_ago: float) -> None:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    payload = {
        "from": HANDSET,
        "to": FROM,
        "body": body,
        "webhook": False,
        "date_sent": at.isoformat(),
    }
    assert control.post("/_sandbox/reply", payload).status_code == 200


@pytest.mark.parametrize(
    ("since", "says"),
    [
        ("soon", "expected a duration (13months, 30d, 12h) or an ISO date"),
        ("13 fortnights", "expected a duration"),
        ("2025-13-01", "expected a duration"),
        ("2025-11-01T09:00:00", "has no time zone"),
        ("2999-01-01", "is in the future"),
    ],
)
def test_a_bad_since_is_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], control: Control, since: str, says: str
) -> None:
    result = sms_bridge("optouts", "sync", "--since", since, cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert line.startswith(f"sms-bridge: error: --since {since!r}") and says in line, line
    assert control.requests() == []  # nothing asked of Twilio


def test_sync_applies_history_then_nothing_the_second_time(
    tmp_path: Path, env: dict[str, str], control: Control
) -> None:
    texted(control, "STOP", 200)  # before the bridge existed
    texted(control, "HELP", 100)
    texted(control, "START", 20)  # older than --since 10d: not read
    first = sms_bridge("optouts", "sync", cwd=tmp_path, env=env)  # default: 13 months
    assert first.returncode == 0, first.stderr
    assert one_line(first.stdout) == (
        "optouts sync: 1 number(s) scanned, 3 message(s) read, 0 opt-out(s) applied,"
        " 1 opt-in(s) applied, 1 older than current ignored"
    )
    again = sms_bridge("optouts", "sync", "--since", "400d", "--json", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["numbers"], summary["messages"]) == (1, 3)
    assert (summary["opted_out"], summary["opted_in"], summary["changes"]) == (0, 0, [])
    texted(control, "STOP", 1)
    recent = sms_bridge("optouts", "sync", "--since", "10d", "--json", cwd=tmp_path, env=env)
    summary = json.loads(recent.stdout)
    assert (summary["messages"], summary["opted_out"]) == (1, 1)
    (change,) = summary["changes"]
    assert change["number"] == "+1415*****81" and change["scope"] == FROM  # masked
    assert change["state"] == "OPTED_OUT" and change["keyword"] == "STOP"


def test_rejected_credentials_are_one_line_and_exit_1(
    tmp_path: Path, env: dict[str, str], control: Control
) -> None:
    result = sms_bridge(
        "optouts", "sync", cwd=tmp_path, env={**env, "SMS_BRIDGE_TWILIO_AUTH_TOKEN": "nope"}
    )
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"sms-bridge: error: Twilio rejected the account SID / auth token pair for {SID}"
        " (HTTP 401, error 20003): check [twilio] account_sid and auth_token"
    )
