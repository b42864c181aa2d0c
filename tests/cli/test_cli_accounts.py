"""A sender's Twilio account from the command line (issue 14 #1): ``sms-bridge sender CODE
--account NAME`` names one of the settings' [twilio.accounts.NAME], '' moves it back to
[twilio]; a name the settings lack is refused in one line naming the file, and nothing is
saved."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.store import open_store
from tests.cli.support import one_line, sms_bridge

HR_SID = "AC" + "a" * 32
ENV = {"SMS_BRIDGE_TWILIO_ACCOUNTS_HR_AUTH_TOKEN": "hr-token"}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "sms-bridge.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "bridge.db"}"\n\n'
        f'[twilio.accounts.hr]\naccount_sid = "{HR_SID}"\n',
        encoding="utf-8",
    )
    run(tmp_path, "db", "install", "--no-demo")
    run(tmp_path, "sender", "HR", "--from-number", "+15005550006")
    return tmp_path


def run(site: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    proc = sms_bridge("--config", str(site / "sms-bridge.toml"), *args, cwd=site, env=ENV)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc


def account_of(site: Path, code: str) -> str | None:
    store = open_store(DatabaseSettings(url=f"sqlite:///{site / 'bridge.db'}"))
    try:
        sender = store.get_sender(code)
        assert sender is not None
        return sender.twilio_account
    finally:
        store.close()


def test_a_sender_moves_to_a_named_account_and_back(site: Path) -> None:
    assert account_of(site, "HR") is None
    assert one_line(run(site, "sender", "HR", "--account", "hr").stdout) == "sender HR saved"
    assert account_of(site, "HR") == "hr"
    run(site, "sender", "HR", "--mps", "5")  # another option keeps the account
    assert account_of(site, "HR") == "hr"
    run(site, "sender", "HR", "--account", "")
    assert account_of(site, "HR") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("finance", "no [twilio.accounts.finance] in"),
        ("Finance-EU", "an account name is lowercase letters"),
    ],
)
def test_an_account_the_settings_lack_is_refused(site: Path, name: str, expected: str) -> None:
    proc = run(site, "sender", "HR", "--account", name, expect=2)
    line = one_line(proc.stderr)
    assert expected in line and "Traceback" not in proc.stderr
    if name == "finance":
        assert str(site / "sms-bridge.toml") in line and "configured: hr" in line
    assert account_of(site, "HR") is None
