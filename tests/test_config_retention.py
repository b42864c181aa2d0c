"""[retention]: the purge's periods, schedule and chunk size, validated with the key's origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.errors import ConfigError


def test_the_defaults() -> None:
    retention = load_settings(None, {}).retention
    assert retention.enabled is True
    assert (retention.outbound_days, retention.inbound_days) == (90, 90)
    assert (retention.run_at, retention.batch_rows) == ("03:30", 500)


def test_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "sms-bridge.toml"
    path.write_text(
        '[retention]\nenabled = false\noutbound_days = 30\nrun_at = "01:15"\n', encoding="utf-8"
    )
    retention = load_settings(path, {"SMS_BRIDGE_RETENTION_INBOUND_DAYS": "7"}).retention
    assert (retention.enabled, retention.outbound_days, retention.inbound_days) == (False, 30, 7)
    assert retention.run_at == "01:15"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("outbound_days = 0", "[retention] outbound_days in {file}: must be at least 1 (days)"),
        ("inbound_days = -3", "[retention] inbound_days in {file}: must be at least 1 (days)"),
        ('run_at = "3:30"', "[retention] run_at in {file}: expected HH:MM (24-hour)"),
        ("batch_rows = 1001", "[retention] batch_rows in {file}: must be between 1 and 1000"),
        ("batch_rows = 0", "[retention] batch_rows in {file}: must be between 1 and 1000"),
        ('outbound_days = "x"', "[retention] outbound_days in {file}: 'x' is not a valid int"),
        ("days = 90", "unknown key [retention] days in {file}"),
    ],
)
def test_bad_values_name_the_key_and_the_file(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "sms-bridge.toml"
    path.write_text(f"[retention]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as failed:
        load_settings(path, {})
    assert str(failed.value) == says.format(file=path)


def test_messages_are_kept_while_their_replies_can_still_thread(tmp_path: Path) -> None:
    path = tmp_path / "sms-bridge.toml"
    path.write_text("[retention]\noutbound_days = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as failed:
        load_settings(path, {})
    assert str(failed.value).startswith(
        f"[retention] outbound_days in {path}: 2 day(s) is shorter than [inbound]"
        f" thread_window_hours in {path} = 72 h"
    )
    env = {"SMS_BRIDGE_INBOUND_THREAD_WINDOW_HOURS": "24"}
    assert load_settings(path, env).retention.outbound_days == 2
