"""Fixtures for the inbound service: an SQLite store with a sender, people and sent messages,
the Falcon app on it, and helpers that sign webhooks exactly as Twilio does."""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import falcon.testing
import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from bridge.apikeys import Scope, generate
from bridge.config import DatabaseSettings, InboundSettings, Secret, Settings, TwilioSettings
from bridge.domain.models import EnqueueRequest, Sender, SubmitResult
from bridge.replies.spool import Spool
from bridge.store import Store, open_store
from inbound.app import create_app

PUBLIC_URL = "https://sms.example.com"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
HR_NUMBER = "+15005550006"
IT_NUMBER = "+15005550007"
HELP_TEXT = "ACME HR: questions to hr@acme.example. Reply STOP to opt out."
ALICE = "+14155550101"  # employee 1001
BOB = "+14155550102"  # employee 1002

_sids = itertools.count(1)


def new_sid(prefix: str = "SM") -> str:
    """A unique SID shaped as Twilio's (SM or MM and 32 hex digits, as the webhooks require).

    Characters after the two-letter prefix (a tag for the reader, e.g. ``SMdown``) are folded
    into the first hex digits, so tagged SIDs are told apart and still valid.
    """
    kind, tag = prefix[:2], prefix[2:]
    if not tag:
        return f"{kind}{next(_sids):032x}"
    return f"{kind}{zlib.crc32(tag.encode()):08x}{next(_sids):024x}"


ACCOUNT_SID = "AC" + "0" * 32  # [twilio] account_sid of the tests' settings and forms


def make_settings(
    db: Path, spool_dir: Path, *, account_sid: str = ACCOUNT_SID, **inbound: Any
) -> Settings:
    return Settings(
        database=DatabaseSettings(url=f"sqlite:///{db}", busy_timeout_ms=2000),
        twilio=TwilioSettings(account_sid=account_sid, auth_token=Secret(AUTH_TOKEN)),
        inbound=InboundSettings(
            public_url=PUBLIC_URL, spool_dir=str(spool_dir), thread_window_hours=48, **inbound
        ),
    )


def seed_people(store: Store) -> None:
    """Employees, and Fineract's CLIENT and STAFF, in the demo tables behind the shipped
    default view (plsql/demo/sms_recipients_v.sql): no view of the tests' own."""
    with store.dialect.transaction("seed") as tx:
        for emp_id, name, mobile in ((1001, "Alice", ALICE), (1002, "Bob", BOB)):
            tx.execute(
                "INSERT INTO hr_demo_employees (employee_id, full_name, mobile_number, time_zone,"
                " email) VALUES (:id, :name, :mobile, 'America/Los_Angeles', NULL)",
                {"id": emp_id, "name": name, "mobile": mobile},
            )
        tx.execute(
            "INSERT INTO fin_demo_staff (staff_id, display_name, mobile_number)"
            " VALUES (7, 'Staff Seven', '+14155550117')"
        )
        tx.execute(
            "INSERT INTO fin_demo_clients (client_id, display_name, mobile_number)"
            " VALUES (7, 'Client Seven', '+14155550107')"
        )


@pytest.fixture
def store(tmp_path: Path, now: datetime) -> Iterator[Store]:
    settings = make_settings(tmp_path / "inbound.db", tmp_path / "spool")
    opened = open_store(settings.database)
    opened.install(now)
    opened.save_sender(Sender(code="HR", from_number=HR_NUMBER, mps=10, help_text=HELP_TEXT), now)
    opened.save_sender(Sender(code="IT", from_number=IT_NUMBER, mps=10), now)
    seed_people(opened)
    yield opened
    opened.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "inbound.db", tmp_path / "spool")


@pytest.fixture
def spool(settings: Settings) -> Spool:
    return Spool(settings.inbound.spool_dir)


@pytest.fixture
def client(
    settings: Settings, store: Store, now: datetime, spool: Spool
) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(settings, store, clock=lambda: now, spool=spool))


def sent_message(
    store: Store,
    now: datetime,
    *,
    sender: str = "HR",
    employee: str = "1001",
    number: str = ALICE,
    reply_code: str | None = None,
    ago: timedelta = timedelta(hours=1),
    created_by: str | None = None,
) -> int:
    """A message queued, claimed and accepted by Twilio ``ago`` before ``now`` (the real path)."""
    at = now - ago
    new_id = store.enqueue(
        EnqueueRequest(
            sender_code=sender,
            body=f"Certificate expires soon. Reply YES {reply_code or ''}".strip(),
            recipient_type="EMPLOYEE",
            recipient_id=employee,
            reply_code=reply_code,
            created_by=created_by,  # "api:<key name>": that key's message
        ),
        at,
    )
    claimed = store.claim_batch(sender, 100, at, lease_seconds=60, worker="test")
    assert new_id in [m.id for m in claimed]
    store.mark_submitted([SubmitResult(new_id, new_sid(), "queued", number)], at)
    return new_id


def sign(url: str, form: Sequence[tuple[str, str]], token: str = AUTH_TOKEN) -> str:
    """Twilio's signature: the library's own computation over every (repeated) field."""
    return str(RequestValidator(token).compute_signature(url, MultiDict(list(form))))


def inbound_form(
    body: str, *, sid: str | None = None, frm: str = ALICE, to: str = HR_NUMBER
) -> list[tuple[str, str]]:
    sid = sid or new_sid()
    return [
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", frm),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
        ("FromCity", ""),  # Twilio sends blank fields: they are signed too
    ]


def post_signed(
    client: falcon.testing.TestClient,
    path: str,
    form: Sequence[tuple[str, str]],
    *,
    query: str = "",
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> falcon.testing.Result:
    url = f"{PUBLIC_URL}{path}" + (f"?{query}" if query else "")
    return client.simulate_post(
        path,
        query_string=query or None,
        body=urlencode(list(form)),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature if signature is not None else sign(url, form),
            **(headers or {}),
        },
    )


def api_key(store: Store, now: datetime, name: str, *scopes: Scope) -> str:
    key = generate()
    store.create_api_key(name, key.prefix, key.hash, scopes, now)
    return key.key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def count(store: Store, table: str) -> int:
    with store.dialect.transaction("count", write=False) as tx:
        return int(tx.scalar(f"SELECT COUNT(*) AS n FROM {table}"))
