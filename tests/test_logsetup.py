from __future__ import annotations

import logging

import pytest

from bridge import logsetup


@pytest.fixture(autouse=True)
def restore_root() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_journald_gets_priorities(capsys: pytest.CaptureFixture[str]) -> None:
    logsetup.configure({"JOURNAL_STREAM": "8:1234", "SMS_BRIDGE_LOG_LEVEL": "info"})
    logging.getLogger("bridge.test").error("boom")
    logging.getLogger("bridge.test").info("fine")
    logging.getLogger("twilio.http_client").info("POST +14155550100")  # kept quiet
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["<3>ERROR bridge.test: boom", "<6>INFO bridge.test: fine"]


def test_terminal_lines_have_a_timestamp(capsys: pytest.CaptureFixture[str]) -> None:
    logsetup.configure({"SMS_BRIDGE_LOG_LEVEL": "nonsense"})
    logging.getLogger("bridge.test").warning("careful")
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("WARNING bridge.test: careful") and line[:4].isdigit()
