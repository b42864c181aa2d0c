"""The two I/O paths of a create (``[bridge] io``) classify every answer alike, against the
real sandbox: the synchronous ``TwilioGateway.send`` from a thread, and ``send_async``
(``messages.create_async`` over bridge.outbound.async_http) on the worker's event loop.

The rule both must keep (at most once to Twilio): RETRY only when the request provably never
left (connect refused, connect timeout); any failure after it left is UNKNOWN, and nothing
retries a create by itself (exactly one message at the sandbox).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest

from bridge.config import TwilioSettings, load_settings
from bridge.domain.policy import Action, Outcome
from bridge.outbound.async_http import EventLoopThread
from bridge.outbound.gateway import TwilioGateway
from tests.outbound.support import FROM, LANDLINE, Env
from tests.sandbox.sandbox_support import Control, SandboxProcess

pytestmark = pytest.mark.slow
TO = "+14155550100"
Send = Callable[[TwilioGateway, str], Outcome]
PATHS = ("threads", "async")


@pytest.fixture(scope="module")
def loop() -> Iterator[EventLoopThread]:
    runner = EventLoopThread("test-async")
    yield runner
    runner.close()


@pytest.fixture(params=PATHS)
def send(request: pytest.FixtureRequest, loop: EventLoopThread) -> Iterator[Send]:
    """Sends one message to a number through the parametrized I/O path."""
    gateways: list[TwilioGateway] = []

    def via(gateway: TwilioGateway, to: str) -> Outcome:
        gateways.append(gateway)
        args = {
            "to": to,
            "body": f"io path {time.monotonic_ns()}",
            "from_number": FROM,
            "messaging_service_sid": None,
            "status_callback": "http://127.0.0.1:9/twilio/status?id=1",
            "validity_period": 600,
        }
        if request.param == "threads":
            return gateway.send(**args)
        return loop.submit(gateway.send_async(**args)).result(30)

    yield via
    for gateway in gateways:
        loop.submit(gateway.close_async()).result(10)


def twilio(tmp_path: Path, url: str, **changes: object) -> TwilioGateway:
    env = Env(db_path=tmp_path / "unused.db", sandbox_url=url, maildir=tmp_path / "mail")
    settings: TwilioSettings = load_settings(None, env.environ()).twilio
    return TwilioGateway(replace(settings, **changes), environment={})  # type: ignore[arg-type]


@pytest.fixture
def gateway(tmp_path: Path, sandbox: SandboxProcess) -> TwilioGateway:
    return twilio(tmp_path, sandbox.url)


def test_an_accepted_create_is_submitted_with_its_sid(
    control: Control, gateway: TwilioGateway, send: Send
) -> None:
    outcome = send(gateway, TO)
    (created,) = control.messages()
    assert outcome == Outcome(Action.SUBMITTED, sid=created["sid"], provider_status="queued")
    (request,) = control.requests(kind="create")
    # The same form either way: ValidityPeriod as a number, the callback URL, From.
    assert request["params"]["ValidityPeriod"] == "600"
    assert request["params"]["From"] == FROM
    assert request["params"]["StatusCallback"].endswith("/twilio/status?id=1")


def test_a_landline_is_invalid_with_its_code(
    control: Control, gateway: TwilioGateway, send: Send
) -> None:
    outcome = send(gateway, LANDLINE)
    assert (outcome.action, outcome.code) == (Action.INVALID, 21614)
    assert control.messages() == []


def test_refused_credentials_stop(tmp_path: Path, sandbox: SandboxProcess, send: Send) -> None:
    from bridge.config import Secret

    outcome = send(twilio(tmp_path, sandbox.url, auth_token=Secret("wrong")), TO)
    assert (outcome.action, outcome.code) == (Action.STOP, 20003)


@pytest.mark.parametrize(
    ("faults", "action", "created"),
    [
        ({"rate_429": 1.0}, Action.RETRY, 0),
        ({"rate_500": 1.0, "fraction_500_after_create": 0.0}, Action.UNKNOWN, 0),
        ({"rate_500": 1.0, "fraction_500_after_create": 1.0}, Action.UNKNOWN, 1),
        ({"rate_503": 1.0}, Action.UNKNOWN, 0),
    ],
    ids=["429", "500-before", "500-after", "503"],
)
def test_error_answers_are_classified_alike(
    control: Control,
    gateway: TwilioGateway,
    send: Send,
    faults: dict[str, float],
    action: Action,
    created: int,
) -> None:
    control.faults(**faults)
    outcome = send(gateway, TO)
    assert outcome.action is action and outcome.sid is None
    assert len(control.messages()) == created


@pytest.mark.parametrize(
    ("faults", "created"),
    [
        ({"reset_rate": 1.0, "fraction_reset_after_create": 0.0}, 0),
        ({"reset_rate": 1.0, "fraction_reset_after_create": 1.0}, 1),
    ],
    ids=["reset-before", "reset-after"],
)
def test_a_reset_after_the_request_left_is_unknown_and_never_retried(
    control: Control, gateway: TwilioGateway, send: Send, faults: dict[str, float], created: int
) -> None:
    control.faults(**faults)
    outcome = send(gateway, TO)
    assert outcome.action is Action.UNKNOWN
    assert outcome.message is not None and "closed the connection before answering" in (
        outcome.message
    )
    # One request, not two: neither requests nor aiohttp resent the POST on a new connection.
    assert len(control.requests(kind="create")) == 1
    assert len(control.messages()) == created


def test_a_read_timeout_after_the_create_is_unknown(
    tmp_path: Path, sandbox: SandboxProcess, control: Control, send: Send
) -> None:
    control.faults(slow_rate=1.0, slow_ms=2000)
    outcome = send(twilio(tmp_path, sandbox.url, timeout=0.5), TO)
    assert outcome.action is Action.UNKNOWN
    assert outcome.message is not None and "did not answer within 0.5 s (read timeout)" in (
        outcome.message
    )
    assert len(control.messages()) == 1  # Twilio has it: recovery will find it


def test_a_refused_connection_is_retried(tmp_path: Path, send: Send) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = send(twilio(tmp_path, f"http://127.0.0.1:{port}"), TO)
    assert outcome.action is Action.RETRY
    assert outcome.message == (
        f"connection refused by http://127.0.0.1:{port}: nothing listens there"
        " (check [twilio] base_url)"
    )


def test_a_connect_timeout_is_retried(tmp_path: Path, send: Send) -> None:
    # A listener that never accepts, its backlog full: the kernel drops further SYNs, so a
    # connect hangs until the client's connect timeout, the request never having left.
    with ExitStack() as stack:
        server = stack.enter_context(socket.socket())
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(8):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        time.sleep(0.2)
        started = time.monotonic()
        outcome = send(twilio(tmp_path, f"http://127.0.0.1:{port}", timeout=0.5), TO)
        assert time.monotonic() - started < 5
    assert outcome.action is Action.RETRY, outcome
    assert outcome.message == (
        f"no connection to http://127.0.0.1:{port} within 0.5 s (connect timeout)"
    )
