"""The CLI on SQLite: commands work, and bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.cli.main import main


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SMS_BRIDGE_CONFIG", raising=False)
    monkeypatch.setenv("SMS_BRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["db", "install"]) == 0
    assert main(["sender", "hr", "--from-number", "+15005550006", "--mps", "5"]) == 0
    return tmp_path


def test_install_twice_and_check(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["db", "install"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["db", "check"]) == 0
    out = capsys.readouterr().out
    assert f"sqlite {cli / 'cli.db'}, schema version 1, 1 sender(s)" in out


def test_enqueue_status_cancel_report(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert (
        main(
            [
                "enqueue",
                "--sender",
                "HR",
                "--to",
                "+14155550100",
                "--body",
                "hi",
                "--priority",
                "1",
                "--send-after",
                "2030-01-01T09:00Z",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("#") and " QUEUED sender=HR to=+1415*****00 " in out
    new_id = int(out.split()[0].removeprefix("#"))
    assert main(["status", str(new_id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "QUEUED" and shown["priority"] == 1
    assert shown["send_after"] == "2030-01-01T09:00:00Z"
    assert [e["status"] for e in shown["events"]] == ["QUEUED"]
    assert main(["cancel", str(new_id)]) == 0
    assert "CANCELED" in capsys.readouterr().out
    assert main(["report", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["sender"], row["canceled"], row["queued"], row["total"]) == ("HR", 1, 0, 1)
    assert row["day"] == datetime.now(UTC).strftime("%Y-%m-%d")
    assert main(["report"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["sender", "day", "cancel", "total"]  # the statuses it has
    assert lines[2].split()[0] == "HR" and lines[2].split()[-2:] == ["1", "1"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--sender", "HR", "--body", "hi"], "exactly one recipient is required"),
        (
            ["--sender", "HR", "--recipient", "EMPLOYEE:1", "--to", "+14155550100", "--body", "x"],
            "exactly one recipient is required",
        ),
        (["--sender", "HR", "--to", "+14155550100\n", "--body", "hi"], "not an E.164"),
        (["--sender", "NOPE", "--to", "+14155550100", "--body", "hi"], "unknown sender NOPE"),
        (["--sender", "HR", "--to", "+14155550100", "--body", ""], "body is empty"),
        (["--sender", "HR", "--to", "+14155550100", "--body", "x" * 1601], "at most 1600"),
        (
            ["--sender", "HR", "--to", "+14155550100", "--body", "x", "--priority", "7"],
            "priority 7",
        ),
        (
            ["--sender", "HR", "--recipient", "EMPLOYEE:999", "--body", "x"],
            "unknown recipient EMPLOYEE 999",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    cli: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    capsys.readouterr()
    assert main(["enqueue", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err
    assert main(["report", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_unknown_message(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "999"]) == 2
    assert "no message with id 999" in capsys.readouterr().err


def test_config_error_names_key_and_file(
    cli: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (cli / "sms-bridge.toml").write_text("[bridge]\nconcurency = 3\n", encoding="utf-8")
    assert main(["report"]) == 2
    err = capsys.readouterr().err
    assert "unknown key [bridge] concurency in sms-bridge.toml" in err


def test_sandbox_command_is_handed_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sandbox", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--account-sid" in out and "--rate-429" in out


def test_hr_queue_expiring(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import timedelta

    from bridge.config import DatabaseSettings
    from bridge.store import open_store

    store = open_store(DatabaseSettings(url=f"sqlite:///{cli / 'cli.db'}"))
    today = datetime.now(UTC).date()
    with store.dialect.transaction("seed") as tx:
        tx.execute(
            "INSERT INTO hr_demo_employees (employee_id, full_name, mobile_number)"
            " VALUES (7, 'Ann Lee', '+14155550100')"
        )
        tx.execute(
            "INSERT INTO hr_demo_certifications (cert_id, employee_id, cert_name,"
            " expires_on) VALUES (4900, 7, 'First Aid', :d)",
            {"d": (today + timedelta(days=3)).isoformat()},
        )
    store.close()
    capsys.readouterr()
    assert main(["hr", "queue-expiring", "--days", "7"]) == 0
    assert capsys.readouterr().out.startswith("1 queued, 0 already queued")
    assert main(["hr", "queue-expiring"]) == 0
    assert capsys.readouterr().out.startswith("0 queued, 1 already queued")


def test_sender_updates_only_the_options_given(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bridge.config import DatabaseSettings
    from bridge.store import open_store

    assert (
        main(
            [
                "sender",
                "hr",
                "--quiet-start",
                "21:00",
                "--quiet-end",
                "08:00",
                "--time-zone",
                "Europe/Paris",
                "--help-text",
                "Call HR",
            ]
        )
        == 0
    )
    assert main(["sender", "hr", "--inactive"]) == 0
    store = open_store(DatabaseSettings(url=f"sqlite:///{cli / 'cli.db'}"))
    hr = store.get_sender("HR")
    store.close()
    assert hr is not None
    assert (
        hr.from_number,
        hr.mps,
        hr.quiet_start,
        hr.default_time_zone,
        hr.help_text,
        hr.active,
    ) == ("+15005550006", 5.0, "21:00", "Europe/Paris", "Call HR", False)
    capsys.readouterr()
    assert main(["sender", "hr", "--quiet-end", "8am"]) == 2
    assert "expected HH:MM" in capsys.readouterr().err
    assert main(["sender", "new"]) == 2
    assert "needs --from-number or --messaging-service-sid" in capsys.readouterr().err
