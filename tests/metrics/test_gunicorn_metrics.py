"""/metrics under real gunicorn (2 worker processes, deploy/gunicorn.conf.py): counts are right
whichever worker answers the webhooks and the scrape, and survive a worker killed and
replaced; the queue gauges equal the database; the scrape writes nothing; the multiprocess
directory is emptied at start, and a private one is made and removed when none is given."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import psutil
import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from bridge.domain.models import EnqueueRequest, Sender
from bridge.store import Store, open_store
from tests.inbound.conftest import (
    AUTH_TOKEN,
    HELP_TEXT,
    HR_NUMBER,
    count,
    inbound_form,
    make_settings,
    seed_people,
)
from tests.inbound.gunicorn_support import Gunicorn, free_port, healthy, serve_env, start_gunicorn
from tests.metrics.support import named, samples, value

pytestmark = pytest.mark.slow
N = 40


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    db: Path
    store: Store
    log: Path
    log_file: BinaryIO

    def workers(self) -> list[int]:
        return sorted(c.pid for c in psutil.Process(self.proc.pid).children())

    def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        # A new connection every time: any worker may answer.
        answer = requests.get(f"{self.url}/metrics", timeout=10, headers={"Connection": "close"})
        assert answer.status_code == 200, answer.text
        return samples(answer.text)

    def post_inbound(self, body: str) -> requests.Response:
        url = f"{self.url}/twilio/inbound"
        form = inbound_form(body)
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, MultiDict(form))
        return requests.post(
            url,
            data=form,
            headers={"X-Twilio-Signature": signature, "Connection": "close"},
            timeout=10,
        )


def _launch(
    tmp: Path, port: int, db: Path, store: Store, now: datetime, env_extra: dict[str, str]
) -> Served:
    env = serve_env(
        port=port,
        database_url=f"sqlite:///{db}",
        inbound_public_url=f"http://127.0.0.1:{port}",
        inbound_spool_dir=str(tmp / "spool"),
        twilio_auth_token=AUTH_TOKEN,
    )
    env.update(env_extra)

    def both_workers_up(g: Gunicorn) -> bool:
        return healthy(g) and len(psutil.Process(g.proc.pid).children()) == 2

    g = start_gunicorn(tmp, env, port, ready=both_workers_up)
    return Served(g.proc, g.url, db, store, g.log_path, g.log_file)


def stop(served: Served) -> None:
    Gunicorn(served.proc, served.url, served.log, served.log_file).stop()


def prepared_db(tmp: Path) -> tuple[Path, Store]:
    db = tmp / "metrics.db"
    now = datetime.now(UTC)
    store = open_store(make_settings(db, tmp / "spool").database)
    store.install(now)
    store.save_sender(Sender(code="HR", from_number=HR_NUMBER, mps=10, help_text=HELP_TEXT), now)
    seed_people(store)
    for minutes, priority in ((5, 2), (2, 2), (1, 1)):
        store.enqueue(
            EnqueueRequest(
                sender_code="HR",
                body=f"due {minutes}",
                recipient_type="EMPLOYEE",
                recipient_id="1001",
                priority=priority,
            ),
            now - timedelta(minutes=minutes),
        )
    return db, store


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    tmp = tmp_path_factory.mktemp("gunicorn-metrics")
    directory = tmp / "prometheus"
    directory.mkdir(mode=0o700)
    stale = directory / "counter_999999.db"
    stale.write_bytes(b"left by an earlier run")  # emptied at start: never added up
    db, store = prepared_db(tmp)
    port = free_port()
    service = _launch(
        tmp, port, db, store, datetime.now(UTC), {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    )
    try:
        yield service, directory
    finally:
        stop(service)
        store.close()


def webhooks_by_pid(directory: Path) -> dict[int, float]:
    """What each worker process counted itself, read from its own file."""
    found: dict[int, float] = {}
    for path in directory.glob("counter_*.db"):
        pid = int(path.stem.split("_")[-1])
        for key, number, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            if json.loads(key)[1] == "sms_bridge_webhooks_total":
                found[pid] = found.get(pid, 0) + number
    return found


def test_webhook_counts_are_right_whichever_worker_answers(served: tuple[Served, Path]) -> None:
    service, directory = served
    assert not (directory / "counter_999999.db").exists()
    # Concurrent rounds, each on new connections, until both workers have answered some.
    sent = 0
    with ThreadPoolExecutor(16) as pool:
        while sent < N or len(webhooks_by_pid(directory)) < 2:
            assert sent < 20 * N, webhooks_by_pid(directory)
            answers = list(pool.map(service.post_inbound, [f"reply {sent + i}" for i in range(N)]))
            assert [a.status_code for a in answers] == [200] * N
            sent += N
    per_worker = webhooks_by_pid(directory)
    assert sorted(per_worker) == service.workers() and sum(per_worker.values()) == sent
    assert count(service.store, "sms_inbound") == sent  # the numbers match the database
    route = "/twilio/inbound"
    for _ in range(8):  # whichever worker answers the scrape
        parsed = service.scrape()
        assert value(parsed, "sms_bridge_webhooks_total", route=route, outcome="ok") == sent
        assert value(parsed, "sms_bridge_webhook_duration_seconds_count", route=route) == sent

    # A worker killed and replaced: its counts stay (its files stay; child_exit runs).
    victim = service.workers()[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while victim in service.workers() or len(service.workers()) != 2:
        assert time.monotonic() < deadline, service.log.read_text()
        time.sleep(0.1)
    for _ in range(4):
        parsed = service.scrape()
        assert value(parsed, "sms_bridge_webhooks_total", route=route, outcome="ok") == sent


def test_queue_gauges_equal_the_database_and_the_scrape_writes_nothing(
    served: tuple[Served, Path],
) -> None:
    service, _ = served
    watcher = sqlite3.connect(service.db)
    before = watcher.execute("PRAGMA data_version").fetchone()[0]
    changes = watcher.execute("SELECT COUNT(*), MAX(updated_at) FROM sms_outbound").fetchone()
    parsed = service.scrape()
    with service.store.dialect.transaction("t", write=False) as tx:
        truth = {
            (r["status"], r["sender_code"], str(r["priority"])): int(r["n"])
            for r in tx.rows(
                "SELECT status, sender_code, priority, COUNT(*) AS n FROM sms_outbound"
                " GROUP BY status, sender_code, priority"
            )
        }
    shown = {
        (dict(k)["status"], dict(k)["sender"], dict(k)["priority"]): v
        for k, v in named(parsed, "sms_bridge_queue_messages").items()
    }
    assert shown == truth == {("QUEUED", "HR", "2"): 2, ("QUEUED", "HR", "1"): 1}
    age = value(parsed, "sms_bridge_queue_oldest_due_age_seconds", sender="HR")
    assert age is not None and 300 <= age < 400
    for _ in range(5):
        service.scrape()
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
    assert (
        watcher.execute("SELECT COUNT(*), MAX(updated_at) FROM sms_outbound").fetchone() == changes
    )
    watcher.close()


def test_without_a_directory_a_private_one_is_made_and_removed(tmp_path: Path) -> None:
    db, store = prepared_db(tmp_path)
    service = _launch(tmp_path, free_port(), db, store, datetime.now(UTC), {})
    try:
        assert service.post_inbound("hello").status_code == 200
        parsed = service.scrape()
        assert (
            value(parsed, "sms_bridge_webhooks_total", route="/twilio/inbound", outcome="ok") == 1
        )
        found = re.search(r"metrics: multiprocess files in (\S+)", service.log.read_text())
        assert found, service.log.read_text()
        directory = Path(found.group(1))
        assert directory.is_dir() and directory.stat().st_mode & 0o777 == 0o700
    finally:
        stop(service)
        store.close()
    assert not directory.exists()
