from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bridge.config import (
    OTHER_ENVIRONMENT_VARIABLES,
    Secret,
    config_path,
    load_settings,
    setting_environment_variables,
)
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
        "SMS_BRIDGE_INBOUND_DEVELOPMENT_MODE": "true",
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
        # What the inbound service used to check alone, now refused for every command.
        (
            '[inbound]\npublic_url = "sms.example.com"\n',
            {},
            r"^\[inbound\] public_url in .*sms-bridge.toml: 'sms.example.com' must be the"
            r" http\(s\) URL",
        ),
        (
            '[inbound]\npublic_url = "ftp://sms.example.com"\n',
            {},
            r"^\[inbound\] public_url in .*sms-bridge.toml: 'ftp://sms.example.com'",
        ),
        (
            "",
            {"SMS_BRIDGE_INBOUND_PUBLIC_URL": "https://sms.example.com/?x=1"},
            "^environment variable SMS_BRIDGE_INBOUND_PUBLIC_URL: .* must be the http",
        ),
        (
            "[inbound]\nverify_signatures = false\n",
            {},
            r"^\[inbound\] verify_signatures in .*sms-bridge.toml: false is only allowed together"
            r" with \[inbound\] development_mode = true",
        ),
        (
            "[inbound]\ndevelopment_mode = false\n",
            {"SMS_BRIDGE_INBOUND_VERIFY_SIGNATURES": "no"},
            "^environment variable SMS_BRIDGE_INBOUND_VERIFY_SIGNATURES: false is only allowed",
        ),
        (
            "[inbound]\nmax_body_bytes = 100\n",
            {},
            r"^\[inbound\] max_body_bytes in .*sms-bridge.toml: must be at least 1024",
        ),
        (
            '[bridge]\nio = "asyncio"\n',
            {},
            r"^\[bridge\] io in .*sms-bridge.toml: 'asyncio' must be 'async' or 'threads'",
        ),
        (
            "",
            {"SMS_BRIDGE_BRIDGE_IO": "thread"},
            "^environment variable SMS_BRIDGE_BRIDGE_IO: 'thread' must be 'async' or 'threads'",
        ),
    ],
)
def test_errors_name_the_key_and_the_file(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_settings(write(tmp_path, text), env)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        # Both keys from the file.
        (
            "[twilio]\ntimeout = 30\n[bridge]\nlease_seconds = 20\n",
            {},
            r"^\[bridge\] lease_seconds in .*sms-bridge.toml: 20 is too short for \[twilio\]"
            r" timeout in .*sms-bridge.toml = 30: the lease must be at least 2 x timeout \+ 1 s"
            r" = 61",
        ),
        # Each blamed on where it came from: the lease from the environment, the timeout from
        # the file; then the other way round.
        (
            "[twilio]\ntimeout = 10\n",
            {"SMS_BRIDGE_BRIDGE_LEASE_SECONDS": "15"},
            r"^environment variable SMS_BRIDGE_BRIDGE_LEASE_SECONDS: 15 is too short for"
            r" \[twilio\] timeout in .*sms-bridge.toml = 10",
        ),
        (
            "[bridge]\nlease_seconds = 120\n",
            {"SMS_BRIDGE_TWILIO_TIMEOUT": "60"},
            r"^\[bridge\] lease_seconds in .*sms-bridge.toml: 120 is too short for environment"
            r" variable SMS_BRIDGE_TWILIO_TIMEOUT = 60",
        ),
    ],
)
def test_lease_shorter_than_the_twilio_timeout_is_refused(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        load_settings(write(tmp_path, text), env)
    assert "\n" not in str(info.value)


def test_lease_just_long_enough_for_the_twilio_timeout(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, "[twilio]\ntimeout = 2\n[bridge]\nlease_seconds = 5\n"), {}
    )
    assert settings.bridge.lease_seconds == 5
    assert load_settings(None, {}).bridge.lease_seconds == 120  # the defaults pass


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


def test_unverified_webhooks_need_development_mode_but_nothing_needs_the_token(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="verify_signatures"):
        load_settings(write(tmp_path, "[inbound]\nverify_signatures = false\n"), {})
    settings = load_settings(
        write(tmp_path, "[inbound]\nverify_signatures = false\ndevelopment_mode = true\n"), {}
    )
    assert settings.inbound.verify_signatures is False
    # The auth token is needed by the commands that serve webhooks (inbound.app.check_settings)
    # or talk to Twilio, which say so; installing the schema on a fresh machine does not.
    assert not load_settings(None, {}).twilio.auth_token


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "SMS_BRIDGE_BRIDGE_CONCURENCY",
            "^unknown environment variable SMS_BRIDGE_BRIDGE_CONCURENCY"
            r" \(did you mean SMS_BRIDGE_BRIDGE_CONCURRENCY\?\)$",
        ),
        (
            "SMS_BRIDGE_TWILIO_AUTHTOKEN_FILE",
            r"\(did you mean SMS_BRIDGE_TWILIO_AUTH_TOKEN_FILE\?\)$",
        ),
        ("SMS_BRIDGE_CONFG", r"\(did you mean SMS_BRIDGE_CONFIG\?\)$"),
        # _FILE exists for secrets only.
        ("SMS_BRIDGE_TWILIO_TIMEOUT_FILE", "did you mean SMS_BRIDGE_TWILIO_TIMEOUT"),
        ("SMS_BRIDGE_ZZZ", "^unknown environment variable SMS_BRIDGE_ZZZ: not a setting"),
    ],
)
def test_unknown_environment_variable_is_an_error(name: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_settings(None, {name: "4"})


def test_every_variable_the_bridge_reads_is_accepted(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("x", encoding="utf-8")
    allowed = {name: "1" for name in OTHER_ENVIRONMENT_VARIABLES}
    for name in ("DATABASE_PASSWORD_FILE", "TWILIO_AUTH_TOKEN_FILE", "MAIL_SMTP_PASSWORD_FILE"):
        assert "SMS_BRIDGE_" + name in setting_environment_variables()
        allowed["SMS_BRIDGE_" + name] = str(secret)
    # Not ours: other prefixes, and lower case (the bridge reads upper-case names only).
    allowed |= {"SMS_BRIDGE": "x", "MY_SMS_BRIDGE_X": "x", "sms_bridge_bridge_concurency": "x"}
    settings = load_settings(None, allowed)
    assert settings.twilio.auth_token.reveal() == "x"
    # ... and exactly those.
    with pytest.raises(ConfigError, match=r"SMS_BRIDGE_SERVE_WORKER \(did you mean"):
        load_settings(None, {**allowed, "SMS_BRIDGE_SERVE_WORKER": "2"})


@pytest.mark.parametrize(
    ("section", "key", "env"),
    [
        ("twilio", "auth_token", "SMS_BRIDGE_TWILIO_AUTH_TOKEN"),
        ("database", "password", "SMS_BRIDGE_DATABASE_PASSWORD"),
        ("mail", "smtp_password", "SMS_BRIDGE_MAIL_SMTP_PASSWORD"),
    ],
)
def test_secret_in_plain_toml_is_accepted_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, section: str, key: str, env: str
) -> None:
    path = write(tmp_path, f'[{section}]\n{key} = "hunter2-value"\n')
    with caplog.at_level(logging.WARNING, logger="bridge.config"):
        settings = load_settings(path, {})
    assert getattr(settings, section).__dict__[key].reveal() == "hunter2-value"
    (record,) = [r for r in caplog.records if r.name == "bridge.config"]
    text = record.getMessage()
    assert record.levelno == logging.WARNING and "\n" not in text
    assert text.startswith(f"[{section}] {key} in {path}: a secret in plain text")
    assert f"[{section}] {key}_file" in text and env in text and f"{env}_FILE" in text
    assert "hunter2" not in text


def test_only_a_secret_written_in_the_toml_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = tmp_path / "token"
    token.write_text("t", encoding="utf-8")
    path = write(
        tmp_path,
        f'[twilio]\nauth_token_file = "{token}"\n'
        '[database]\npassword = ""\n'  # empty: no secret to protect
        '[mail]\nsmtp_password = "from-the-file"\n',
    )
    with caplog.at_level(logging.WARNING, logger="bridge.config"):
        settings = load_settings(path, {"SMS_BRIDGE_MAIL_SMTP_PASSWORD": "p"})
    # Still warned when the environment overrides it: the file holds the secret all the same.
    assert settings.mail.smtp_password.reveal() == "p"
    messages = [r.getMessage() for r in caplog.records if r.name == "bridge.config"]
    assert [m.split(":")[0] for m in messages] == [f"[mail] smtp_password in {path}"]


def test_a_negative_database_timeout_is_one_line_naming_the_key() -> None:
    for name in ("CALL_TIMEOUT_MS", "BUSY_TIMEOUT_MS"):
        with pytest.raises(ConfigError, match=f"SMS_BRIDGE_DATABASE_{name}: must be 0"):
            load_settings(None, {f"SMS_BRIDGE_DATABASE_{name}": "-1"})
