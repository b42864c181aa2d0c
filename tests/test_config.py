from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import Secret, config_path, load_settings
from bridge.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sms-bridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file() -> None:
    settings = load_settings(None, {})
    assert settings.database.url == "sqlite:///var/sms-bridge.db"
    assert settings.mail.transport == "maildir"


def test_file_values_and_environment_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[database]
url = "sqlite:///x.db"
[twilio]
account_sid = "AC123"
timeout = 5
[mail]
admins = ["ops@example.com"]
""",
    )
    env = {
        "SMS_BRIDGE_TWILIO_BASE_URL": "http://127.0.0.1:9999",
        "SMS_BRIDGE_TWILIO_AUTH_TOKEN": "tok",
        "SMS_BRIDGE_MAIL_ADMINS": "a@x, b@y",
        "SMS_BRIDGE_INBOUND_VERIFY_SIGNATURES": "false",
    }
    settings = load_settings(path, env)
    assert settings.twilio.account_sid == "AC123"
    assert settings.twilio.timeout == 5.0
    assert settings.twilio.base_url == "http://127.0.0.1:9999"
    assert settings.twilio.auth_token.reveal() == "tok"
    assert settings.mail.admins == ("a@x", "b@y")
    assert settings.inbound.verify_signatures is False
    assert settings.source == str(path)


def test_secret_from_file_and_never_printed(tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("s3cr3t\n", encoding="utf-8")
    path = write(tmp_path, f'[twilio]\nauth_token_file = "{secret_file}"\n')
    settings = load_settings(path, {})
    assert settings.twilio.auth_token.reveal() == "s3cr3t"
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings.twilio)
    assert Secret("x") == Secret("x") and Secret("x") != Secret("y")


def test_secret_file_from_environment(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("dbpw", encoding="utf-8")
    settings = load_settings(None, {"SMS_BRIDGE_DATABASE_PASSWORD_FILE": str(secret_file)})
    assert settings.database.password.reveal() == "dbpw"


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ('[twilio]\ntimeout = "soon"\n', {}, r"\[twilio\] timeout in .*sms-bridge.toml"),
        ("[twilio]\ntimout = 3\n", {}, r"unknown key \[twilio\] timout in .*sms-bridge.toml"),
        ("[twillio]\n", {}, r"unknown section \[twillio\] in .*sms-bridge.toml"),
        ('[database]\nurl = "postgres://x"\n', {}, r"\[database\] url in .*sms-bridge.toml"),
        (
            "",
            {"SMS_BRIDGE_BRIDGE_CONCURRENCY": "many"},
            "environment variable SMS_BRIDGE_BRIDGE_CONCURRENCY",
        ),
        ("[bridge]\nconcurrency = 0\n", {}, r"\[bridge\] concurrency in .*sms-bridge.toml"),
        # A value from the environment is blamed on the variable, not on the file.
        (
            '[database]\nurl = "sqlite:///ok.db"\n',
            {"SMS_BRIDGE_DATABASE_URL": "mysql://x"},
            "^environment variable SMS_BRIDGE_DATABASE_URL: 'mysql://x'",
        ),
        (
            "",
            {"SMS_BRIDGE_BRIDGE_LEASE_SECONDS": "0"},
            "^environment variable SMS_BRIDGE_BRIDGE_LEASE",
        ),
        (
            '[database]\nurl = "oracle://db.example.com:1521/ERP"\n',
            {},
            r"\[database\] url in .*sms-bridge.toml: .* must be oracle://user@host:port/service",
        ),
        ('[mail]\ntransport = "pigeon"\n', {}, r"\[mail\] transport in .*sms-bridge.toml"),
        ("[twilio\n", {}, "not valid TOML"),
        (
            '[twilio]\nauth_token_file = "/nonexistent/token"\n',
            {},
            r"\[twilio\] auth_token_file in .*cannot read secret file /nonexistent/token",
        ),
    ],
)
def test_errors_name_the_key_and_the_file(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_settings(write(tmp_path, text), env)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", {})


def test_config_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert config_path(None, {}) is None
    (tmp_path / "sms-bridge.toml").write_text("", encoding="utf-8")
    assert config_path(None, {}) == Path("sms-bridge.toml")
    assert config_path(None, {"SMS_BRIDGE_CONFIG": "/etc/x.toml"}) == Path("/etc/x.toml")
    assert config_path("a.toml", {"SMS_BRIDGE_CONFIG": "/etc/x.toml"}) == Path("a.toml")
