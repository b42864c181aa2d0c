"""One validation of the settings for every command, seen from the console script: what the
inbound service used to refuse alone is refused by `check` and `db check` alike, a misspelt
SMS_BRIDGE_* variable is an error, and a secret in the TOML is a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import one_line, sms_bridge

TOKEN = "plain-token-0123456789abcdef"


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A config file on an installed SQLite database (no auth token: none is needed here)."""
    config = tmp_path / "sms-bridge.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "cli.db"}"\n', encoding="utf-8")
    installed = sms_bridge("--config", str(config), "db", "install", cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert installed.stderr == ""
    return config


@pytest.mark.parametrize(
    ("inbound", "expected"),
    [
        (
            "verify_signatures = false",
            "[inbound] verify_signatures in {config}: false is only allowed together with"
            " [inbound] development_mode = true",
        ),
        (
            'public_url = "sms.example.com"',
            "[inbound] public_url in {config}: 'sms.example.com' must be the http(s) URL"
            " Twilio calls",
        ),
    ],
)
def test_check_and_db_check_refuse_the_same_settings(
    installed: Path, inbound: str, expected: str
) -> None:
    config = installed
    config.write_text(
        config.read_text(encoding="utf-8") + f"[inbound]\n{inbound}\n", encoding="utf-8"
    )
    lines = set()
    for command in (["check"], ["db", "check"]):
        result = sms_bridge("--config", str(config), *command, cwd=config.parent)
        assert result.returncode == 2, result
        assert result.stdout == ""  # refused before any connection is tried
        lines.add(one_line(result.stderr))
    (line,) = lines
    assert line.startswith("sms-bridge: error: " + expected.format(config=config))


def test_a_misspelt_environment_variable_is_an_error_with_a_hint(installed: Path) -> None:
    result = sms_bridge(
        "--config",
        str(installed),
        "db",
        "check",
        cwd=installed.parent,
        env={"SMS_BRIDGE_BRIDGE_CONCURENCY": "4"},
    )
    assert result.returncode == 2 and result.stdout == ""
    assert one_line(result.stderr) == (
        "sms-bridge: error: unknown environment variable SMS_BRIDGE_BRIDGE_CONCURENCY"
        " (did you mean SMS_BRIDGE_BRIDGE_CONCURRENCY?)"
    )


def test_the_variables_the_bridge_reads_are_accepted(installed: Path) -> None:
    env = {"SMS_BRIDGE_LOG_LEVEL": "WARNING", "SMS_BRIDGE_SERVE_WORKERS": "2"}
    result = sms_bridge("--config", str(installed), "db", "check", cwd=installed.parent, env=env)
    assert result.returncode == 0 and result.stderr == "", result
    # --config by environment too
    env["SMS_BRIDGE_CONFIG"] = str(installed)
    result = sms_bridge("db", "check", cwd=installed.parent, env=env)
    assert result.returncode == 0 and result.stderr == "", result
    # ... and only those.
    env["SMS_BRIDGE_SERVE_WORKER"] = "2"
    result = sms_bridge("db", "check", cwd=installed.parent, env=env)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "sms-bridge: error: unknown environment variable SMS_BRIDGE_SERVE_WORKER"
        " (did you mean SMS_BRIDGE_SERVE_WORKERS?)"
    )


def test_an_auth_token_in_the_toml_is_one_warning_line(installed: Path) -> None:
    config = installed
    config.write_text(
        config.read_text(encoding="utf-8") + f'[twilio]\nauth_token = "{TOKEN}"\n',
        encoding="utf-8",
    )
    result = sms_bridge("--config", str(config), "db", "check", cwd=config.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("database OK: sqlite") and "schema version 1" in result.stdout
    line = one_line(result.stderr)
    assert line.startswith(f"sms-bridge: warning: [twilio] auth_token in {config}: a secret in")
    assert "[twilio] auth_token_file" in line and "SMS_BRIDGE_TWILIO_AUTH_TOKEN" in line
    assert TOKEN not in result.stderr + result.stdout
