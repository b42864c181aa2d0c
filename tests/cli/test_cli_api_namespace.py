"""Issue 11 #10 from the command line: the REST API's namespace of source systems ("api:...")
is refused to ``sms-bridge enqueue``, and new API key names fit it (at most 26 characters)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import one_line, sms_bridge

ENV = {"SMS_BRIDGE_DATABASE_URL": "sqlite:///bridge.db"}


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    assert sms_bridge("db", "install", "--no-demo", cwd=tmp_path, env=ENV).returncode == 0
    saved = sms_bridge("sender", "HR", "--from-number", "+15005550006", cwd=tmp_path, env=ENV)
    assert saved.returncode == 0, saved.stderr
    return tmp_path


def test_enqueue_with_a_source_system_in_the_api_namespace_is_one_line_and_exit_2(
    installed: Path,
) -> None:
    result = sms_bridge(
        "enqueue", "--sender", "HR", "--to", "+14155550100", "--body", "hi",
        "--source-system", "API:fineract", "--correlation-key", "k-1",
        cwd=installed, env=ENV,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert one_line(result.stderr) == (
        "sms-bridge: error: source system API:fineract is reserved for the REST API (api:...):"
        " use another source system (reserved_source_system)"
    )


def test_apikey_create_refuses_a_name_longer_than_26_characters(installed: Path) -> None:
    too_long = sms_bridge("apikey", "create", "n" * 27, "--scopes", "read", cwd=installed, env=ENV)
    assert too_long.returncode == 2 and too_long.stdout == ""
    assert "1 to 26 letters" in too_long.stderr.splitlines()[-1]
    fits = sms_bridge("apikey", "create", "n" * 26, "--scopes", "read", cwd=installed, env=ENV)
    assert fits.returncode == 0, fits.stderr
