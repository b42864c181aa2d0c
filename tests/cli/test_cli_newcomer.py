"""What a newcomer stumbled on, run as they ran it: the real ``sms-bridge`` in a subprocess.

A database that does not exist, Twilio settings that are missing or wrong, a worker that says
nothing, a pipe closed early, and the smaller ones (report days, zones, status, help).
"""

from __future__ import annotations

import json
import re
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.support import CONSOLE_SCRIPT, one_line, sms_bridge
from tests.sandbox.sandbox_support import SandboxProcess, start_sandbox

SID = "AC" + "5eed1e55" * 4
TOKEN = "newcomer-suite-token"
FROM = "+15005550006"
INSTALL_HINT = "run `sms-bridge db install` to create it"


def db_env(url: str, **more: str) -> dict[str, str]:
    return {
        "SMS_BRIDGE_DATABASE_URL": url,
        **{f"SMS_BRIDGE_{k.upper()}": v for k, v in more.items()},
    }


@pytest.fixture
def installed(tmp_path: Path) -> dict[str, str]:
    """A database with the schema and one sender HR (10 segments/s), relative to tmp_path."""
    env = db_env("sqlite:///var/bridge.db", mail_maildir=str(tmp_path / "mail"))
    assert sms_bridge("db", "install", "--no-demo", cwd=tmp_path, env=env).returncode == 0
    saved = sms_bridge("sender", "HR", "--from-number", FROM, "--mps", "10", cwd=tmp_path, env=env)
    assert saved.returncode == 0, saved.stderr
    return env


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    process = start_sandbox("--account-sid", SID, "--auth-token", TOKEN, "--number", FROM)
    yield process
    process.stop()


def with_twilio(env: dict[str, str], url: str, token: str = TOKEN) -> dict[str, str]:
    return {
        **env,
        "SMS_BRIDGE_TWILIO_ACCOUNT_SID": SID,
        "SMS_BRIDGE_TWILIO_AUTH_TOKEN": token,
        "SMS_BRIDGE_TWILIO_BASE_URL": url,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- 2. only `db install` creates a database ---------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["db", "check"],
        ["report"],
        ["status", "5"],
        ["cancel", "5"],
        ["enqueue", "--sender", "HR", "--to", "+14155550100", "--body", "hi"],
        ["run", "--once"],
        ["run"],
        ["sender", "HR", "--from-number", FROM],
        ["apikey", "list"],
        ["spool", "replay"],
    ],
)
def test_a_missing_database_is_one_line_and_nothing_is_created(
    tmp_path: Path, args: list[str]
) -> None:
    env = db_env("sqlite:///nested/dir/missing.db")
    started = time.monotonic()
    result = sms_bridge(*args, cwd=tmp_path, env=env, timeout=30)
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert line == (
        f"sms-bridge: error: no sms-bridge schema in {tmp_path / 'nested/dir/missing.db'}"
        f" (the file does not exist): {INSTALL_HINT}"
    )
    assert not (tmp_path / "nested").exists()  # no empty file, no directories
    assert time.monotonic() - started < 20  # `run` exits at once, it does not poll forever


def test_an_empty_file_has_no_schema_either(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    result = sms_bridge("report", cwd=tmp_path, env=db_env("sqlite:///empty.db"))
    assert result.returncode == 2
    assert one_line(result.stderr).endswith(
        f"no sms-bridge schema in {tmp_path / 'empty.db'}: {INSTALL_HINT}"
    )


def test_db_install_creates_it_and_db_check_shows_the_resolved_path(tmp_path: Path) -> None:
    env = db_env("sqlite:///var/lib/bridge.db")
    installed = sms_bridge("db", "install", "--no-demo", cwd=tmp_path, env=env)
    assert installed.returncode == 0, installed.stderr
    assert f"installing into sqlite {tmp_path / 'var/lib/bridge.db'}" in installed.stdout
    checked = sms_bridge("db", "check", cwd=tmp_path, env=env)
    assert checked.returncode == 0
    assert checked.stdout.startswith(
        f"database OK: sqlite {tmp_path / 'var/lib/bridge.db'}, schema version 1"
    )


def test_check_reports_a_missing_schema_as_its_database_line(tmp_path: Path) -> None:
    result = sms_bridge("check", cwd=tmp_path, env=db_env("sqlite:///none.db"))
    assert result.returncode == 2
    database = next(line for line in result.stdout.splitlines() if line.startswith("database"))
    assert "FAIL" in database and INSTALL_HINT in database
    assert not (tmp_path / "none.db").exists()


# -- 3. check and stored reasons say what is wrong, in words -----------------------------


def check_lines(tmp_path: Path, env: dict[str, str]) -> tuple[int, dict[str, str]]:
    result = sms_bridge("check", cwd=tmp_path, env=env)
    assert "Traceback" not in result.stderr + result.stdout
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    return result.returncode, lines


def test_check_names_a_missing_account_sid_and_auth_token(
    tmp_path: Path, installed: dict[str, str]
) -> None:
    code, lines = check_lines(tmp_path, installed)
    assert code == 2
    assert (
        "FAIL  [twilio] account_sid is not set (SMS_BRIDGE_TWILIO_ACCOUNT_SID)" in lines["twilio"]
    )
    code, lines = check_lines(tmp_path, {**installed, "SMS_BRIDGE_TWILIO_ACCOUNT_SID": SID})
    assert code == 2
    assert "FAIL  [twilio] auth_token is not set (SMS_BRIDGE_TWILIO_AUTH_TOKEN" in lines["twilio"]
    assert lines["database"].startswith("database  OK    sqlite ")


def test_check_says_the_pair_was_rejected_on_401(
    tmp_path: Path, installed: dict[str, str], sandbox: SandboxProcess
) -> None:
    twilio = {
        "SMS_BRIDGE_TWILIO_ACCOUNT_SID": SID,
        "SMS_BRIDGE_TWILIO_BASE_URL": sandbox.url,
    }
    code, lines = check_lines(
        tmp_path, {**installed, **twilio, "SMS_BRIDGE_TWILIO_AUTH_TOKEN": "nope"}
    )
    assert code == 1
    assert lines["twilio"] == (
        f"twilio    FAIL  Twilio rejected the account SID / auth token pair for {SID}"
        " (HTTP 401, error 20003): check [twilio] account_sid and auth_token"
    )
    code, lines = check_lines(
        tmp_path, {**installed, **twilio, "SMS_BRIDGE_TWILIO_AUTH_TOKEN": TOKEN}
    )
    assert code == 0, lines
    assert lines["twilio"].startswith(f"twilio    OK    1 number(s) owned at {sandbox.url}: {FROM}")


def test_check_and_stored_reasons_name_the_url_that_refused(
    tmp_path: Path, installed: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = with_twilio(installed, url)
    code, lines = check_lines(tmp_path, env)
    assert code == 1
    assert lines["twilio"] == (
        f"twilio    FAIL  connection refused by {url}: nothing listens there"
        " (check [twilio] base_url)"
    )
    queued = sms_bridge("enqueue", "--sender", "HR", "--to", "+14155550100", "--body", "hi",
                        "--json", cwd=tmp_path, env=env)  # fmt: skip
    message_id = json.loads(queued.stdout)["id"]
    env["SMS_BRIDGE_BRIDGE_MAX_ATTEMPTS"] = "1"  # one refused attempt, then FAILED
    sms_bridge("run", "--once", "--quiet", cwd=tmp_path, env=env)
    shown = json.loads(
        sms_bridge("status", str(message_id), "--json", cwd=tmp_path, env=env).stdout
    )
    reasons = [shown["status_reason"] or "", shown["error_message"] or ""]
    reasons += [e["detail"] or "" for e in shown["events"]]
    assert any(f"connection refused by {url}" in r for r in reasons), reasons
    assert not any("HTTPConnectionPool" in r or "ConnectionError" in r for r in reasons), reasons


# -- 4. `run` shows that it lives ---------------------------------------------------------


def test_run_says_it_started_and_stopped(
    tmp_path: Path, installed: dict[str, str], sandbox: SandboxProcess
) -> None:
    env = {
        **with_twilio(installed, sandbox.url),
        "SMS_BRIDGE_BRIDGE_CONCURRENCY": "7",
        "SMS_BRIDGE_DATABASE_PASSWORD": "never-shown",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "run"],
        cwd=tmp_path,
        env={**_base_env(), **env},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    ready, _, _ = select.select([proc.stderr], [], [], 30)  # bounded: a silent worker fails
    first = proc.stderr.readline() if ready else ""
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(20) == 0
    assert re.match(r"sms-bridge \S+ worker \S+ started: ", first), first
    assert f"database sqlite {tmp_path / 'var/bridge.db'}" in first
    assert f"Twilio {sandbox.url}" in first and "concurrency 7" in first
    assert "senders HR 10/s" in first and "never-shown" not in first + rest
    assert re.search(r"worker \S+ stopped \(SIGTERM\) after [\d.]+ s: claimed 0,", rest), rest


def test_run_quiet_says_nothing(
    tmp_path: Path, installed: dict[str, str], sandbox: SandboxProcess
) -> None:
    env = with_twilio(installed, sandbox.url)
    loud = sms_bridge("run", "--once", cwd=tmp_path, env=env)
    assert (
        loud.returncode == 0 and " started: " in loud.stderr and "stopped (drained)" in loud.stderr
    )
    quiet = sms_bridge("run", "--once", "--quiet", cwd=tmp_path, env=env)
    assert quiet.returncode == 0 and quiet.stderr == ""


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}


# -- 7. a pipe closed early ----------------------------------------------------------------


def test_a_closed_pipe_ends_quietly(tmp_path: Path, installed: dict[str, str]) -> None:
    queued = sms_bridge("enqueue", "--sender", "HR", "--to", "+14155550100", "--body", "hi",
                        "--json", cwd=tmp_path, env=installed)  # fmt: skip
    message_id = str(json.loads(queued.stdout)["id"])
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "status", message_id],
        cwd=tmp_path,
        env={**_base_env(), **installed},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| head -0`: the reader is gone before the first line
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(20) == 141 and err == ""


# -- 10. the smaller ones ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "why"), [("0", "0: must be at least 1"), ("-1", "-1 is negative")]
)
def test_report_days_must_be_positive(
    tmp_path: Path, installed: dict[str, str], days: str, why: str
) -> None:
    result = sms_bridge("report", "--days", days, cwd=tmp_path, env=installed)
    assert result.returncode == 2 and why in result.stderr and "Traceback" not in result.stderr


def test_a_send_after_without_a_zone_is_refused_and_nothing_is_queued(
    tmp_path: Path, installed: dict[str, str]
) -> None:
    result = sms_bridge("enqueue", "--sender", "HR", "--to", "+14155550100", "--body", "hi",
                        "--send-after", "2030-01-01T00:00:00",
                        cwd=tmp_path, env=installed)  # fmt: skip
    assert result.returncode == 2
    assert "'2030-01-01T00:00:00' has no time zone: add Z (UTC) or an offset" in result.stderr
    report = sms_bridge("report", "--json", cwd=tmp_path, env=installed)
    assert json.loads(report.stdout) == []
    ok = sms_bridge("enqueue", "--sender", "HR", "--to", "+14155550100", "--body", "hi",
                    "--send-after", "2030-01-01T09:00:00+09:00", "--json",
                    cwd=tmp_path, env=installed)  # fmt: skip
    assert json.loads(ok.stdout)["send_after"] == "2030-01-01T00:00:00Z"


def test_enqueue_and_status_say_who_what_and_when(
    tmp_path: Path, installed: dict[str, str]
) -> None:
    queued = sms_bridge("enqueue", "--sender", "HR", "--to", "+14155550123", "--body",
                        "Your badge expires Friday", "--send-after", "2030-01-01T09:00:00Z",
                        cwd=tmp_path, env=installed)  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    match = re.fullmatch(
        r"#(\d+) QUEUED sender=HR to=\+1415\*\*\*\*\*23 \(details: sms-bridge status \1\)\n",
        queued.stdout,
    )
    assert match, queued.stdout
    message_id = match.group(1)
    shown = sms_bridge("status", message_id, cwd=tmp_path, env=installed).stdout
    assert "  to: +1415*****23\n" in shown
    assert "  body: Your badge expires Friday\n" in shown
    assert "  next attempt: 2030-01-01 09:00:00 UTC\n" in shown
    assert "+14155550123" not in shown
    raw = sms_bridge("status", message_id, "--raw-numbers", cwd=tmp_path, env=installed).stdout
    assert "  to: +14155550123\n" in raw
    # The queue event says it came from the command line, not the API.
    events = json.loads(
        sms_bridge("status", message_id, "--json", cwd=tmp_path, env=installed).stdout
    )["events"]
    assert [(e["status"], e["source"]) for e in events] == [("QUEUED", "cli")]
    assert sms_bridge("cancel", message_id, cwd=tmp_path, env=installed).returncode == 0
    events = json.loads(
        sms_bridge("status", message_id, "--json", cwd=tmp_path, env=installed).stdout
    )["events"]
    assert [(e["status"], e["source"]) for e in events] == [("QUEUED", "cli"), ("CANCELED", "cli")]


def test_help_speaks_to_users() -> None:
    out = subprocess.run(
        [str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "composition root" not in out
    assert "Queue, send and follow SMS between the ERP's database and Twilio." in out
