"""Issue 10, run as a user runs it (the real ``sms-bridge`` in a subprocess): a text longer than
its column is one line and exit 2, a long cancel reason is kept to its column, and a correlation
key of 128 characters in any script is accepted."""

from __future__ import annotations

import json
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


def enqueue(cwd: Path, *more: str) -> tuple[int, str, str]:
    args = ("enqueue", "--sender", "HR", "--to", "+14155550100", "--body", "hi", *more)
    result = sms_bridge(*args, cwd=cwd, env=ENV)
    return result.returncode, result.stdout, result.stderr


def test_a_correlation_key_longer_than_its_column_is_one_line_and_exit_2(installed: Path) -> None:
    code, out, err = enqueue(
        installed, "--source-system", "ERP", "--correlation-key", "я" * 129, "--json"
    )
    assert code == 2 and out == ""
    assert one_line(err) == (
        "sms-bridge: error: correlation_key is too long: at most 128 characters (value_too_long)"
    )
    code, out, err = enqueue(installed, "--reference", "r" * 101)
    assert code == 2
    assert one_line(err).endswith("reference is too long: at most 100 characters (value_too_long)")


def test_a_correlation_key_of_100_characters_in_any_script_is_queued(installed: Path) -> None:
    key = "ключ-" + "я" * 95
    code, out, err = enqueue(
        installed, "--source-system", "ERP", "--correlation-key", key, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["correlation_key"] == key


def test_cancel_keeps_400_characters_of_a_long_reason(installed: Path) -> None:
    code, out, err = enqueue(installed, "--json")
    assert code == 0, err
    message_id = str(json.loads(out)["id"])
    reason = "é" * 250 + "\N{GRINNING FACE}" * 250
    canceled = sms_bridge("cancel", message_id, "--reason", reason, cwd=installed, env=ENV)
    assert canceled.returncode == 0, canceled.stderr
    shown = sms_bridge("status", message_id, "--json", cwd=installed, env=ENV)
    assert json.loads(shown.stdout)["status_reason"] == reason[:400]
