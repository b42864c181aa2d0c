"""Each injected fault happens, at its configured rate, and does what it claims."""

from __future__ import annotations

import math
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sandbox_support import ACCOUNT_SID, AUTH_TOKEN, HANDSET, NUMBER_A, Control
from twilio.base.exceptions import TwilioRestException

from bridge.outbound.twilio_http import make_twilio_client

CREATE_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def within(count: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """Is ``count`` a plausible Binomial(n, p) draw?"""
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


def create_many(control: Control, n: int) -> list[requests.Response]:
    data = {"To": HANDSET, "From": NUMBER_A, "Body": "rate test"}
    return [control.api("POST", "/Messages.json", data=data) for _ in range(n)]


def test_error_rates_and_500s_after_create(control: Control) -> None:
    control.faults(
        seed=2024, rate_429=0.3, rate_500=0.2, fraction_500_after_create=0.5, rate_503=0.1
    )
    n = 400
    responses = create_many(control, n)
    codes = [(r.status_code, r.json().get("code")) for r in responses]
    n429 = codes.count((429, 20429))
    n500 = codes.count((500, 20500))
    n503 = codes.count((503, 20503))
    n201 = sum(1 for status, _ in codes if status == 201)
    assert n429 + n500 + n503 + n201 == n
    assert within(n429, n, 0.3) and within(n500, n, 0.2) and within(n503, n, 0.1), codes

    logged = control.requests(kind="create")
    after = [r for r in logged if r["fault"] == "500-after"]
    assert within(len(after), n500, 0.5)
    created = {m["sid"] for m in control.messages()}
    # The client got a 500 for these, yet the message exists (and will be sent).
    assert after and all(r["sid"] in created and r["status"] == 500 for r in after)
    assert len(created) == n201 + len(after)
    assert all(r["sid"] is None for r in logged if r["fault"] in ("429", "503", "500-before"))


def test_same_seed_same_faults(control: Control) -> None:
    def run() -> list[int]:
        control.faults(seed=99, rate_429=0.25, rate_503=0.25)
        return [r.status_code for r in create_many(control, 60)]

    first = run()
    assert run() == first and 429 in first and 503 in first and 201 in first


def test_fault_scope(control: Control) -> None:
    control.faults(rate_429=1.0)
    assert control.api("GET", "/Messages.json").status_code == 200  # scope "create" by default
    control.faults(scope="all")
    listing = control.api("GET", "/Messages.json")
    assert listing.status_code == 429 and listing.json()["code"] == 20429


def test_429_reaches_the_library_and_nothing_is_created(control: Control, client: Any) -> None:
    control.faults(rate_429=1.0)
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=HANDSET, from_=NUMBER_A, body="hi")
    assert (info.value.status, info.value.code) == (429, 20429)
    assert control.messages() == []


def test_slow_answer_times_the_client_out_but_the_message_exists(control: Control) -> None:
    control.faults(slow_rate=1.0, slow_ms=4000)
    impatient = make_twilio_client(
        ACCOUNT_SID, AUTH_TOKEN, base_url=control.url, timeout=0.4, environment={}
    )
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient.messages.create(to=HANDSET, from_=NUMBER_A, body="slow")
    assert time.monotonic() - started < 3.0  # gave up long before the 4 s answer
    impatient.http_client.session.close()
    (message,) = control.messages()
    assert message["create_params"]["Body"] == "slow"


def _raw_create(url: str) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    body = f"To=%2B{HANDSET[1:]}&From=%2B{NUMBER_A[1:]}&Body=x".encode()
    auth = requests.auth._basic_auth_str(ACCOUNT_SID, AUTH_TOKEN)
    head = (
        f"POST {CREATE_PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_connection_reset_is_a_real_tcp_reset(control: Control) -> None:
    control.faults(reset_rate=1.0, fraction_reset_after_create=1.0)
    with pytest.raises(ConnectionResetError):
        _raw_create(control.url)
    assert len(control.messages()) == 1, "reset after create: the message exists"
    control.faults(fraction_reset_after_create=0.0)
    with pytest.raises(ConnectionResetError):
        _raw_create(control.url)
    assert len(control.messages()) == 1, "reset before create: nothing new"
    control.faults(reset_rate=0.0)
    assert _raw_create(control.url).startswith(b"HTTP/1.1 201")


def test_reset_rate(control: Control) -> None:
    control.faults(seed=5, reset_rate=0.25)
    n, resets = 200, 0
    session = requests.Session()
    for _ in range(n):
        try:
            session.post(
                control.url + CREATE_PATH,
                data={"To": HANDSET, "From": NUMBER_A, "Body": "x"},
                auth=(ACCOUNT_SID, AUTH_TOKEN),
                timeout=5,
            )
        except requests.exceptions.ConnectionError:
            resets += 1
    session.close()
    assert within(resets, n, 0.25)
    assert sum(r["fault"] == "reset-before" for r in control.requests(kind="create")) == resets


def test_latency_distribution(control: Control) -> None:
    control.faults(latency_ms={"dist": "uniform", "min": 20, "max": 60})
    create_many(control, 30)
    created = control.requests(kind="create")
    drawn = [r["latency_ms"] for r in created]
    assert len(drawn) == 30 and min(drawn) >= 20 and max(drawn) <= 60
    assert 30 <= sum(drawn) / len(drawn) <= 50  # uniform(20, 60): mean 40, sd of the mean ~2
    # Each answer really waited its draw (wall-clock upper bounds would race on a busy CI).
    assert all(r["duration_ms"] >= r["latency_ms"] for r in created)


def test_latency_holds_64_requests_in_flight(control: Control) -> None:
    # Long enough that 72 clients released together overlap even on a loaded 2-core machine.
    control.faults(latency_ms=2500)
    n = 72
    start = threading.Barrier(n)

    def one(_: int) -> int:
        with requests.Session() as s:
            start.wait(timeout=30)
            response = s.post(
                control.url + CREATE_PATH,
                data={"To": HANDSET, "From": NUMBER_A, "Body": "x"},
                auth=(ACCOUNT_SID, AUTH_TOKEN),
                timeout=10,
            )
            return response.status_code

    with ThreadPoolExecutor(n) as pool:
        statuses = list(pool.map(one, range(n)))
    assert statuses == [201] * n
    health = control.get("/_sandbox/health")
    assert health["max_in_flight"] >= 64, health


def test_invalid_fault_settings_get_400(control: Control) -> None:
    for patch in ({"rate_429": 2}, {"bogus": 1}, {"latency_ms": "slow"}):
        response = control.post("/_sandbox/faults", patch)
        assert response.status_code == 400 and response.json()["error"]
    assert control.get("/_sandbox/faults")["faults"]["rate_429"] == 0.0
