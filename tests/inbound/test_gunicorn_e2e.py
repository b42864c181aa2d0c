"""End to end: the real inbound app under gunicorn (2 workers) as a subprocess, real HTTP,
signatures computed by twilio's own RequestValidator, SQLite underneath."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from bridge.apikeys import Scope
from bridge.domain.models import EnqueueRequest, Sender
from bridge.domain.statuses import Status
from bridge.store import Store, open_store
from tests.inbound.conftest import (
    ALICE,
    AUTH_TOKEN,
    HELP_TEXT,
    HR_NUMBER,
    api_key,
    bearer,
    count,
    inbound_form,
    make_settings,
    new_sid,
    seed_people,
    sent_message,
)
from tests.inbound.gunicorn_support import BIN, ROOT, free_port, serve_env, start_gunicorn
from tests.outbound.support import run_once
from tests.sandbox.sandbox_support import Control, start_sandbox

pytestmark = pytest.mark.slow
SANDBOX_SID = "AC" + "5ca1ab1e" * 4


@dataclass
class Service:
    url: str
    db: Path
    env: dict[str, str]
    store: Store
    http: requests.Session

    def post_signed(
        self, path: str, form: Sequence[tuple[str, str]], *, query: str = "", bad: bool = False
    ) -> requests.Response:
        url = f"{self.url}{path}" + (f"?{query}" if query else "")
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, MultiDict(list(form)))
        if bad:  # a different first character: always a different, well-formed signature
            signature = ("A" if signature[0] != "A" else "B") + signature[1:]
        return self.http.post(
            url,
            data=list(form),
            headers={"X-Twilio-Signature": signature},
            timeout=10,
        )


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    db = tmp / "e2e.db"
    now = datetime.now(UTC)
    store = open_store(make_settings(db, tmp / "spool").database)
    store.install(now)
    store.save_sender(Sender(code="HR", from_number=HR_NUMBER, mps=10, help_text=HELP_TEXT), now)
    seed_people(store)
    env = serve_env(
        port=port,
        database_url=f"sqlite:///{db}",
        # A locked database must fail fast in the outage test, not after 10 s per request.
        database_busy_timeout_ms="300",
        inbound_public_url=f"http://127.0.0.1:{port}",
        inbound_spool_dir=str(tmp / "spool"),
        twilio_auth_token=AUTH_TOKEN,
    )
    served = start_gunicorn(tmp, env, port)
    http = requests.Session()
    try:
        yield Service(served.url, db, env, store, http)
    finally:
        http.close()
        served.stop()
        store.close()


def test_valid_inbound_posted_three_times_is_stored_once(service: Service) -> None:
    form = inbound_form("Thanks, done")
    answers = [service.post_signed("/twilio/inbound", form) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].headers["Content-Type"].startswith("text/xml")
    with service.store.dialect.transaction("t", write=False) as tx:
        stored = tx.scalar(
            "SELECT COUNT(*) FROM sms_inbound WHERE message_sid = :s", {"s": form[0][1]}
        )
    assert stored == 1


def chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    """A generator body: requests sends it with Transfer-Encoding: chunked, no Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def assert_chunked(answer: requests.Response) -> None:
    sent = answer.request.headers
    assert sent.get("Transfer-Encoding") == "chunked" and "Content-Length" not in sent, sent


def test_chunked_json_body_is_accepted_like_a_sized_one(service: Service) -> None:
    key = api_key(service.store, datetime.now(UTC), "e2e-chunked", Scope.SEND, Scope.READ)
    # An employee, not client 7: the paging test counts client 7's messages.
    body = {
        "recipientType": "EMPLOYEE",
        "recipientId": "1002",
        "message": "chunked",
        "sender": "HR",
    }
    headers = {**bearer(key), "Content-Type": "application/json"}
    sms = f"{service.url}/sms"
    sized = service.http.post(sms, json=body, headers=bearer(key), timeout=10)
    data = json.dumps(body).encode()
    chunked = service.http.post(sms, data=chunks(data, 7), headers=headers, timeout=10)
    assert_chunked(chunked)
    assert chunked.status_code == sized.status_code == 202, chunked.text
    detail = service.http.get(f"{sms}/{chunked.json()['id']}", headers=bearer(key), timeout=10)
    assert detail.json()["message"] == "chunked"


def test_oversized_chunked_json_body_is_413(service: Service) -> None:
    key = api_key(service.store, datetime.now(UTC), "e2e-chunked-big", Scope.SEND)
    before = count(service.store, "sms_outbound")
    data = json.dumps({"staffId": 8, "message": "x" * 70_000, "sender": "HR"}).encode()
    answer = service.http.post(
        f"{service.url}/sms",
        data=chunks(data),
        headers={**bearer(key), "Content-Type": "application/json"},
        timeout=10,
    )
    assert_chunked(answer)
    assert answer.status_code == 413, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"] == "too_large"
    assert count(service.store, "sms_outbound") == before


def test_chunked_webhooks_are_verified_stored_and_limited(service: Service) -> None:
    form = inbound_form("Thanks, chunked")
    url = f"{service.url}/twilio/inbound"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, MultiDict(form))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    answer = service.http.post(
        url, data=chunks(urlencode(form).encode(), 50), headers=headers, timeout=10
    )
    assert_chunked(answer)
    assert answer.status_code == 200, answer.text
    assert service.store.get_inbound(form[0][1]) is not None
    big = inbound_form("x" * 70_000)
    headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(
        url, MultiDict(big)
    )
    answer = service.http.post(
        url, data=chunks(urlencode(big).encode()), headers=headers, timeout=10
    )
    assert (answer.status_code, answer.json()["error"]) == (413, "too_large")
    assert service.store.get_inbound(big[0][1]) is None


def test_bad_signature_is_403_and_writes_no_row(service: Service) -> None:
    form = inbound_form("STOP")
    before = count(service.store, "sms_inbound")
    answer = service.post_signed("/twilio/inbound", form, bad=True)
    assert answer.status_code == 403
    assert count(service.store, "sms_inbound") == before
    assert service.store.get_inbound(form[0][1]) is None
    assert not service.store.is_opted_out(ALICE, HR_NUMBER)


def test_stop_opts_out_and_start_re_enables(service: Service) -> None:
    number = "+14155550177"
    stop = service.post_signed("/twilio/inbound", inbound_form("STOP", frm=number))
    assert stop.status_code == 200 and stop.text.endswith("<Response/>")
    # The worker checks exactly this before each send (SUPPRESSED when true).
    assert service.store.is_opted_out(number, HR_NUMBER)
    service.post_signed("/twilio/inbound", inbound_form("start", frm=number))
    assert not service.store.is_opted_out(number, HR_NUMBER)


def test_handset_stop_then_a_real_send_is_suppressed_and_start_sends_again(
    service: Service, tmp_path: Path
) -> None:
    """The whole loop with real processes: the sandbox's handset texts STOP (a webhook the
    sandbox signs) to gunicorn, the worker (a process) then sends through the sandbox."""
    number = "+14155550188"
    sandbox = start_sandbox(
        "--account-sid", SANDBOX_SID, "--auth-token", AUTH_TOKEN, "--number", HR_NUMBER,
        "--inbound-url", f"{service.url}/twilio/inbound", "--queued-delay", "0.05",
    )  # fmt: skip
    control = Control(sandbox.url)
    worker_env = {
        **service.env,
        "SMS_BRIDGE_TWILIO_BASE_URL": sandbox.url,
        "SMS_BRIDGE_TWILIO_ACCOUNT_SID": SANDBOX_SID,
        "SMS_BRIDGE_MAIL_MAILDIR": str(tmp_path / "mail"),
    }

    def reply_and_send(body: str) -> Status:
        answer = control.post("/_sandbox/reply", {"from": number, "to": HR_NUMBER, "body": body})
        assert answer.status_code == 200 and answer.json()["status"] == 200, answer.text
        message_id = service.store.enqueue(
            EnqueueRequest(sender_code="HR", body=f"after {body}", to_number=number),
            datetime.now(UTC),
        )
        worker = run_once(worker_env)
        assert worker.returncode == 0, worker.stderr[-2000:]
        message = service.store.get(message_id)
        assert message is not None
        return message.status

    try:
        assert reply_and_send("STOP") is Status.SUPPRESSED
        assert not [r for r in control.requests() if r["params"].get("To") == number]
        assert reply_and_send("START") in {Status.SUBMITTED, Status.SENT, Status.DELIVERED}
        sent = [r for r in control.requests() if r["params"].get("To") == number]
        assert [r["params"]["Body"] for r in sent] == ["after START"]
    finally:
        control.close()
        sandbox.stop()


def test_help_returns_the_help_text(service: Service) -> None:
    answer = service.post_signed("/twilio/inbound", inbound_form("HELP"))
    assert answer.status_code == 200
    assert f"<Response><Message>{HELP_TEXT}</Message></Response>" in answer.text


def test_out_of_order_callbacks_end_delivered(service: Service) -> None:
    message_id = sent_message(service.store, datetime.now(UTC), ago=timedelta(minutes=1))
    message = service.store.get(message_id)
    assert message is not None and message.provider_sid
    for status in ("delivered", "sent"):
        form = [("MessageSid", message.provider_sid), ("MessageStatus", status), ("To", ALICE)]
        answer = service.post_signed("/twilio/status", form, query=f"id={message_id}")
        assert answer.status_code == 200
    final = service.store.get(message_id)
    assert final is not None and final.status is Status.DELIVERED
    callbacks = [
        (e.status, e.applied) for e in service.store.events(message_id) if e.source == "callback"
    ]
    assert callbacks == [("DELIVERED", True), ("SENT", False)]


def test_database_locked_webhooks_are_spooled_and_replayed(service: Service) -> None:
    # SQLite's real outage: another process holds the write lock (a backup, a long batch).
    # gunicorn's writers wait busy_timeout (300 ms here), fail, and must spool, not lose.
    blocker = sqlite3.connect(service.db, timeout=5, isolation_level=None)
    forms = [inbound_form(f"reply {n}", sid=new_sid("SMdown")) for n in range(5)]
    stop_form = inbound_form("STOP", frm="+14155550188")
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        answers = [service.post_signed("/twilio/inbound", f) for f in [*forms, stop_form]]
        assert [a.status_code for a in answers] == [200] * 6
        assert all(a.text.endswith("<Response/>") for a in answers)
        health = service.http.get(f"{service.url}/health", timeout=5).json()
        assert health["spooled"] == 6
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    for form in [*forms, stop_form]:
        assert service.store.get_inbound(form[0][1]) is None  # nothing half-written
    replay = subprocess.run(
        [str(BIN / "sms-bridge"), "spool", "replay"],
        cwd=ROOT,
        env=service.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replay.returncode == 0, replay.stderr
    assert "6 applied" in replay.stdout and "0 remaining" in replay.stdout
    for form in [*forms, stop_form]:
        assert service.store.get_inbound(form[0][1]) is not None
    assert service.store.is_opted_out("+14155550188", HR_NUMBER)
    assert service.http.get(f"{service.url}/health", timeout=5).json()["spooled"] == 0


def test_api_auth_paging_filters_and_fineract_ids(service: Service) -> None:
    now = datetime.now(UTC)
    send = api_key(service.store, now, "e2e-send", Scope.SEND, Scope.READ)
    read = api_key(service.store, now, "e2e-read", Scope.READ)
    admin = api_key(service.store, now, "e2e-admin", Scope.ADMIN)
    sms = f"{service.url}/sms"
    assert service.http.get(sms, timeout=5).status_code == 401
    body = {"clientId": 7, "message": "Loan due", "sender": "HR"}
    assert service.http.post(sms, json=body, headers=bearer(read), timeout=5).status_code == 403
    both = service.http.post(sms, json={**body, "staffId": 7}, headers=bearer(send), timeout=5)
    assert (both.status_code, both.json()["field"]) == (400, "staffId")
    neither = {"message": "x", "sender": "HR"}
    assert service.http.post(sms, json=neither, headers=bearer(send), timeout=5).status_code == 400
    ids = [
        service.http.post(sms, json=body, headers=bearer(send), timeout=5).json()["id"]
        for _ in range(3)
    ]
    staff = service.http.post(
        sms,
        json={"staffId": 7, "message": "Shift", "sender": "HR"},
        headers=bearer(send),
        timeout=5,
    ).json()["id"]
    page = service.http.get(
        sms, params={"clientId": 7, "limit": 2}, headers=bearer(send), timeout=5
    ).json()
    assert [m["id"] for m in page["items"]] == [ids[2], ids[1]] and page["hasMore"] is True
    next_href = next(link["href"] for link in page["links"] if link["rel"] == "next")
    rest = service.http.get(next_href, headers=bearer(send), timeout=5).json()
    assert [m["id"] for m in rest["items"]] == [ids[0]] and rest["hasMore"] is False
    staff_page = service.http.get(
        sms, params={"staffId": 7}, headers=bearer(send), timeout=5
    ).json()
    assert [m["id"] for m in staff_page["items"]] == [staff]
    # Another key sees none of them; an admin key sees them all.
    assert service.http.get(sms, headers=bearer(read), timeout=5).json()["items"] == []
    every = service.http.get(sms, headers=bearer(admin), timeout=5).json()["items"]
    assert {staff, *ids} <= {m["id"] for m in every}


def test_access_log_keeps_the_path_but_never_the_query(service: Service, tmp_path: Path) -> None:
    # A client that puts its key in the query (?api_key=...) must not have it written to the
    # access log (journald keeps it, operators share it): the query is redacted, the path kept.
    port = free_port()
    env = {
        **service.env,
        "SMS_BRIDGE_INBOUND_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SMS_BRIDGE_SERVE_BIND": f"127.0.0.1:{port}",
        "SMS_BRIDGE_SERVE_WORKERS": "1",
        "SMS_BRIDGE_SERVE_ACCESS_LOG": "-",  # to stderr, with the error log
    }
    secret = "smsb_" + "s3cr3t" * 6
    served = start_gunicorn(tmp_path, env, port)
    try:
        url = served.url
        assert requests.get(f"{url}/sms?api_key={secret}&limit=5", timeout=5).status_code
        assert requests.get(f"{url}/health?token={secret}", timeout=5).status_code == 400
    finally:
        served.stop()
    lines = (tmp_path / "gunicorn.log").read_text().splitlines()
    assert not [line for line in lines if secret in line or "s3cr3t" in line], lines
    assert any('"GET /sms?' in line and " HTTP/1.1" in line for line in lines), lines
    assert any('"GET /health?' in line for line in lines), lines
    assert any('"GET /health HTTP/1.1" 200' in line for line in lines), lines
