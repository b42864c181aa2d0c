"""Fixtures for the sandbox suite: a real sandbox subprocess, a webhook receiver, a twilio client.

The sandbox runs once per session (``python -m sandbox --port 0``, URL read from its ready line)
with short lifecycle timings; each test that uses it starts from ``POST /_sandbox/reset``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sandbox_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    NUMBER_A,
    NUMBER_B,
    SCHEMA_PATH,
    SERVICE_NUMBERS,
    SERVICE_SID,
    Control,
    Receiver,
    SandboxProcess,
    schema_problems,
    start_sandbox,
)

from bridge.outbound.twilio_http import make_twilio_client


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def sandbox_process(receiver: Receiver) -> Iterator[SandboxProcess]:
    sp = start_sandbox(
        "--account-sid", ACCOUNT_SID,
        "--auth-token", AUTH_TOKEN,
        "--number", NUMBER_A,
        "--number", NUMBER_B,
        "--messaging-service", f"{SERVICE_SID}={','.join(SERVICE_NUMBERS)}",
        "--inbound-url", receiver.url + "/inbound",
        "--accepted-delay", "0.05",
        "--queued-delay", "0.05",
        "--sending-delay", "0.05",
        "--delivery-delay", "0.1",
        "--threads", "96",
        "--seed", "7",
    )  # fmt: skip
    yield sp
    assert sp.stop() == 0, "the sandbox did not exit cleanly on SIGTERM"
    assert "Traceback" not in sp.log and "[ERROR]" not in sp.log, sp.log


@pytest.fixture(scope="session")
def control_session(sandbox_process: SandboxProcess) -> Iterator[Control]:
    c = Control(sandbox_process.url)
    yield c
    c.close()


@pytest.fixture
def control(control_session: Control, receiver: Receiver) -> Control:
    """The control API of a freshly reset sandbox."""
    response = control_session.post("/_sandbox/reset")
    assert response.status_code == 200
    receiver.clear()
    return control_session


@pytest.fixture
def client(control: Control) -> Iterator[Any]:
    tw = make_twilio_client(
        ACCOUNT_SID, AUTH_TOKEN, base_url=control.url, timeout=5.0, environment={}
    )
    yield tw
    tw.http_client.session.close()


@pytest.fixture(scope="session")
def message_schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def assert_twilio_message(message_schema: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def check(record: dict[str, Any]) -> None:
        problems = schema_problems(record, message_schema)
        assert not problems, problems

    return check
