"""The worker's exporter (``[bridge] metrics_port``): a real ``sms-bridge run`` against the
sandbox, scraped over HTTP and parsed with prometheus_client's parser; the counts equal what
the database and the sandbox hold."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from bridge.domain.statuses import Status
from tests.inbound.test_gunicorn_e2e import free_port
from tests.metrics.support import named, samples, value
from tests.outbound.support import LANDLINE, Env, enqueue_many, prepare_db, reset_control, start
from tests.sandbox.sandbox_support import Control, SandboxProcess

pytestmark = pytest.mark.slow
Parsed = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    process = start()
    yield process
    process.stop()


@pytest.fixture
def control(sandbox: SandboxProcess) -> Iterator[Control]:
    ctl = reset_control(sandbox.url)
    yield ctl
    ctl.close()


@pytest.fixture
def env(tmp_path: Path, sandbox: SandboxProcess, control: Control) -> Env:
    return Env(db_path=tmp_path / "bridge.db", sandbox_url=sandbox.url, maildir=tmp_path / "mail")


def scrape_until(
    port: int, worker: subprocess.Popen[str], done: Callable[[Parsed], bool], timeout: float = 30
) -> Parsed:
    deadline = time.monotonic() + timeout
    parsed: Parsed = {}
    while time.monotonic() < deadline:
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        except requests.ConnectionError:  # not listening yet
            time.sleep(0.1)
            continue
        assert answer.status_code == 200
        parsed = samples(answer.text)
        if done(parsed):
            return parsed
        time.sleep(0.1)
    raise AssertionError(f"the exporter never showed it: {parsed}")


def stop(worker: subprocess.Popen[str]) -> None:
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert worker.stderr is not None
    worker.stderr.close()


def test_the_exporter_counts_claims_and_creates_as_the_database_has_them(env: Env) -> None:
    store = prepare_db(env.db_path)
    ids = enqueue_many(store, 6) + enqueue_many(store, 1, to=LANDLINE, tag="landline")
    port = free_port()
    worker = env.popen_worker(bridge_metrics_port=str(port))
    try:

        def finished(p: Parsed) -> bool:
            creates = named(p, "sms_bridge_worker_creates_total")
            return sum(creates.values()) == 7

        parsed = scrape_until(port, worker, finished)
    finally:
        stop(worker)
    creates = named(parsed, "sms_bridge_worker_creates_total")
    assert creates == {
        (("error_code", ""), ("outcome", "submitted")): 6,
        (("error_code", "21614"), ("outcome", "invalid")): 1,
    }
    statuses = [m.status for m in (store.get(i) for i in ids) if m is not None]
    at_twilio = {Status.SUBMITTED, Status.SENT, Status.DELIVERED}
    assert sum(s in at_twilio for s in statuses) == 6 and statuses.count(Status.INVALID) == 1
    assert value(parsed, "sms_bridge_worker_claims_total", sender="HR") == 7
    assert value(parsed, "sms_bridge_worker_create_duration_seconds_count") == 7
    assert value(parsed, "sms_bridge_worker_credentials_broken") == 0
    last_loop = value(parsed, "sms_bridge_worker_last_loop_timestamp_seconds")
    assert last_loop is not None and abs(time.time() - last_loop) < 10
    store.close()


def test_rejected_credentials_raise_the_flag(env: Env, control: Control) -> None:
    """Credentials refused at a send (revoked while the worker runs). Refused at start, the
    worker exits before it sends (tests/outbound/test_start_check.py), so this one runs in
    process, past its start check, and reads the exporter's registry."""
    from prometheus_client import generate_latest

    from bridge.config import load_settings
    from bridge.outbound import metrics as outbound_metrics
    from bridge.runner import Runner

    store = prepare_db(env.db_path)
    enqueue_many(store, 2)
    runner = Runner(load_settings(None, env.environ(twilio_auth_token="wrong-token")), store)
    runner._twilio_checked = True  # the check passed; the token was revoked since
    outbound_metrics.WORKER.watch_credentials(lambda: runner.worker.credentials_broken)
    try:
        assert runner.drain() == 1
        parsed = samples(generate_latest(outbound_metrics.WORKER.registry).decode())
        assert value(parsed, "sms_bridge_worker_credentials_broken") == 1
    finally:
        outbound_metrics.WORKER.watch_credentials(lambda: False)
        runner.worker.shutdown()
    creates = named(parsed, "sms_bridge_worker_creates_total")
    assert creates[(("error_code", "20003"), ("outcome", "credentials_rejected"))] >= 1
    assert control.messages() == []
    store.close()
