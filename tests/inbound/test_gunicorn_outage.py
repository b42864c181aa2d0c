"""The inbound service under gunicorn (deploy/gunicorn.conf.py as shipped: threaded workers,
the default waits) while the database cannot take writes, and while slow clients dribble
headers: every webhook is answered in time, spooled, replayed once; /health says writes fail.

SQLite's real outage: another process holds the write lock (``BEGIN IMMEDIATE`` left open: a
backup, a long batch). ``[database] busy_timeout_ms`` stays at its default (10 s): the
webhooks' own bounded wait (``[inbound] webhook_db_wait_ms``, 2 s) is what answers them.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from bridge.domain.models import Sender
from bridge.domain.statuses import Status
from bridge.replies.processing import replay_spool
from bridge.replies.spool import Spool
from bridge.store import Store, open_store
from tests.inbound.conftest import (
    ACCOUNT_SID,
    ALICE,
    HELP_TEXT,
    HR_NUMBER,
    inbound_form,
    make_settings,
    new_sid,
    seed_people,
    sent_message,
    sign,
)
from tests.inbound.gunicorn_support import free_port, serve_env, start_gunicorn

pytestmark = pytest.mark.slow
ANSWER_WITHIN = 5.0  # seconds, spooling included, whatever the database does


@dataclass
class Service:
    url: str
    port: int
    db: Path
    spool_dir: Path
    store: Store
    log: Path

    def post_signed(
        self,
        path: str,
        form: Sequence[tuple[str, str]],
        *,
        query: str = "",
        timeout: float = 10,
    ) -> tuple[requests.Response, float]:
        """A new connection per request, as Twilio's are; returns the answer and its time."""
        url = f"{self.url}{path}" + (f"?{query}" if query else "")
        # The service checks signatures against its public_url, which is this URL.
        signature = sign(url.replace(self.url, "https://sms.example.com"), form)
        started = time.monotonic()
        answer = requests.post(
            url, data=list(form), headers={"X-Twilio-Signature": signature}, timeout=timeout
        )
        return answer, time.monotonic() - started

    def health(self, timeout: float = 10) -> tuple[requests.Response, float]:
        started = time.monotonic()
        answer = requests.get(f"{self.url}/health", timeout=timeout)
        return answer, time.monotonic() - started


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("gunicorn-outage")
    port = free_port()
    db, spool_dir = tmp / "outage.db", tmp / "spool"
    settings = make_settings(db, spool_dir)
    store = open_store(settings.database)
    now = datetime.now(UTC)
    store.install(now)
    store.save_sender(Sender(code="HR", from_number=HR_NUMBER, mps=10, help_text=HELP_TEXT), now)
    seed_people(store)
    env = serve_env(
        port=port,
        database_url=f"sqlite:///{db}",
        # public_url as in the tests' settings: the signatures are computed against it.
        inbound_public_url="https://sms.example.com",
        inbound_spool_dir=str(spool_dir),
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=settings.twilio.auth_token.reveal(),
    )
    served = start_gunicorn(tmp, env, port)
    try:
        yield Service(served.url, port, db, spool_dir, store, served.log_path)
    finally:
        served.stop()
        store.close()


class WriteLock:
    """Another process's view of the database: a connection holding the write lock."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, timeout=5, isolation_level=None)

    def __enter__(self) -> WriteLock:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def stored_sids(store: Store, sids: Sequence[str]) -> dict[str, int]:
    with store.dialect.transaction("t", write=False) as tx:
        return {
            sid: int(
                tx.scalar("SELECT COUNT(*) FROM sms_inbound WHERE message_sid = :s", {"s": sid})
            )
            for sid in sids
        }


def callback_events(store: Store, message_id: int) -> list[str]:
    return [e.status for e in store.events(message_id) if e.source == "callback"]


def test_webhooks_during_a_held_write_lock_are_answered_in_time_spooled_and_replayed_once(
    service: Service,
) -> None:
    store = service.store
    now = datetime.now(UTC)
    messages = [sent_message(store, now, ago=timedelta(minutes=1)) for _ in range(4)]
    sids = {m: store.get(m).provider_sid for m in messages}  # type: ignore[union-attr]
    replies = [inbound_form(f"reply {n}", sid=new_sid("SMlock")) for n in range(5)]
    stop = inbound_form("STOP", frm="+14155550166", sid=new_sid("SMlock"))
    help_ = inbound_form("HELP", frm="+14155550167", sid=new_sid("SMlock"))
    posts: list[tuple[str, Sequence[tuple[str, str]], str]] = [
        ("/twilio/inbound", form, "") for form in [*replies, stop, help_]
    ]
    delivered = {
        m: [
            ("MessageSid", str(sids[m])),
            ("MessageStatus", "delivered"),
            ("AccountSid", ACCOUNT_SID),  # Twilio sends it on every callback
            ("To", ALICE),
        ]
        for m in sids
    }
    posts += [("/twilio/status", delivered[m], f"id={m}") for m in messages]
    spool = Spool(service.spool_dir)
    before = spool.pending()
    with WriteLock(service.db), ThreadPoolExecutor(len(posts)) as pool:
        # All at once: each waits for the lock on its own, none behind another.
        answers = list(
            pool.map(lambda p: service.post_signed(p[0], p[1], query=p[2], timeout=8), posts)
        )
        assert [a.status_code for a, _ in answers] == [200] * len(posts), [
            a.text for a, _ in answers
        ]
        slowest = max(took for _, took in answers)
        assert slowest < ANSWER_WITHIN, f"slowest answer {slowest:.1f} s"
        # HELP still gets an answer (the default text: the sender's is in the database).
        assert "<Message>Reply STOP to unsubscribe.</Message>" in answers[6][0].text
        assert spool.pending() - before == len(posts)
    inbound_sids = [form[0][1] for form in [*replies, stop, help_]]
    assert set(stored_sids(store, inbound_sids).values()) == {0}  # nothing half-written
    settings = make_settings(service.db, service.spool_dir)
    report = replay_spool(store, settings.inbound, account_sids={ACCOUNT_SID})
    assert (report.applied, report.rejected, report.remaining) == (len(posts), 0, 0), report
    assert spool.pending() == 0
    assert stored_sids(store, inbound_sids) == dict.fromkeys(inbound_sids, 1)
    assert store.is_opted_out("+14155550166", HR_NUMBER)
    for m in messages:
        assert store.get(m).status is Status.DELIVERED  # type: ignore[union-attr]
        assert callback_events(store, m) == ["DELIVERED"]
    # Twilio retrying one of them now, live, and a second replay store nothing twice.
    again, _ = service.post_signed("/twilio/inbound", replies[0])
    assert again.status_code == 200
    assert replay_spool(store, settings.inbound, account_sids={ACCOUNT_SID}).applied == 0
    assert stored_sids(store, inbound_sids) == dict.fromkeys(inbound_sids, 1)


def test_health_is_503_degraded_while_writes_fail_and_200_after(service: Service) -> None:
    with WriteLock(service.db):
        answer, took = service.health(timeout=8)
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert (body["status"], body["database"]) == ("degraded", "read-only"), body
        assert body["schemaVersion"] == 1  # reads still work
        assert "writes fail" in body["problem"] and "locked" in body["problem"], body
        assert took < 3.0, f"/health took {took:.1f} s"
    answer, took = service.health()
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["database"]) == ("ok", "ok")
    assert "problem" not in answer.json()
    assert took < 1.0
    with service.store.dialect.transaction("t", write=False) as tx:  # the probe left nothing
        rows = tx.rows("SELECT version, description FROM sms_schema_version")
    assert [r["version"] for r in rows] == [1]


class SlowClient:
    """A slow-loris connection: a request line, then one header line every ``every`` seconds,
    never the blank line that ends the headers."""

    def __init__(self, port: int, every: float) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.every = every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._dribble, daemon=True)
        self.thread.start()

    def _dribble(self) -> None:
        n = 0
        while not self.stopped.wait(self.every):
            n += 1
            try:
                self.sock.sendall(f"X-Slow-{n}: still here\r\n".encode())
            except OSError:
                return

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()


def test_slow_clients_starve_neither_health_nor_webhooks(service: Service) -> None:
    slow = [SlowClient(service.port, every=1.0) for _ in range(3)]
    try:
        time.sleep(1.5)  # each has been taken up by the server and is mid-headers
        answer, took = service.health(timeout=4)
        assert answer.status_code == 200 and took < 2.0, f"/health took {took:.1f} s"
        form = inbound_form("Thanks, slow day", sid=new_sid("SMslow"))
        answer, took = service.post_signed("/twilio/inbound", form, timeout=4)
        assert answer.status_code == 200 and took < 2.0, f"webhook took {took:.1f} s"
        assert stored_sids(service.store, [form[0][1]]) == {form[0][1]: 1}
        assert all(not c.stopped.is_set() for c in slow)  # still dribbling all along
    finally:
        for client in slow:
            client.close()


class HungDatabase:
    """An Oracle listener's address that accepts connections and never answers (a hung
    instance, a half-dead network path): python-oracledb waits on it until a timeout."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


def test_webhooks_to_a_hung_oracle_are_answered_in_time_and_spooled(tmp_path: Path) -> None:
    """Oracle's bounded wait, under gunicorn: no pooled connection ever comes (every connect
    hangs), and every webhook still gets its 200 within its own 2 s wait, side by side."""
    database = HungDatabase()
    port = free_port()
    spool_dir = tmp_path / "spool"
    token = make_settings(tmp_path, spool_dir).twilio.auth_token.reveal()
    env = serve_env(
        port=port,
        workers=1,
        database_url=f"oracle://smsbridge@127.0.0.1:{database.port}/FREEPDB1",
        database_password="not-used",
        inbound_public_url="https://sms.example.com",
        inbound_spool_dir=str(spool_dir),
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=token,
    )
    # /openapi.json needs no database: the worker is up.
    served = start_gunicorn(
        tmp_path,
        env,
        port,
        ready=lambda g: requests.get(f"{g.url}/openapi.json", timeout=2).status_code == 200,
    )
    url, log_path = served.url, served.log_path
    try:
        no_store: Store = None  # type: ignore[assignment]  # nothing to read here
        service = Service(url, port, tmp_path / "none.db", spool_dir, no_store, log_path)
        forms = [inbound_form(f"hung {n}", sid=new_sid("SMhung")) for n in range(8)]
        with ThreadPoolExecutor(len(forms)) as pool:
            answers = list(
                pool.map(lambda f: service.post_signed("/twilio/inbound", f, timeout=8), forms)
            )
        assert [a.status_code for a, _ in answers] == [200] * len(forms)
        slowest = max(took for _, took in answers)
        assert slowest < ANSWER_WITHIN, f"slowest answer {slowest:.1f} s"
        assert Spool(spool_dir).pending() == len(forms)
        health, took = service.health(timeout=8)
        assert health.status_code == 503 and health.json()["database"] == "unavailable"
        assert took < 3.0, f"/health took {took:.1f} s"
    finally:
        database.close()  # the pool's pending connects fail at once: a quick shutdown
        served.stop()
