"""Mobile or landline in North America (issue 13 #4): a sender with ``line_type_lookup`` asks
Twilio Lookup v2 before the first send to a +1 number, caches the answer for 30 days in
sms_number_lookups, and a landline is INVALID without a create. Against the real sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.domain import line_types
from bridge.domain.line_types import LineType, from_lookup
from bridge.domain.models import EnqueueRequest
from bridge.domain.statuses import Status
from bridge.store import Store, open_store
from tests.outbound.support import Env, prepare_db, start
from tests.sandbox.sandbox_support import Control, SandboxProcess

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LANDLINE = "+14155550142"  # Lookup says landline; a create to it would be accepted
MOBILE = "+14155550100"
BROKEN = "+14155550143"  # its Lookup answers 500 / 20500
VOIP = "+14155550144"
UK_MOBILE = "+447911123456"


# -- the pure rules ---------------------------------------------------------------------------


def test_only_nanp_numbers_are_looked_up() -> None:
    assert line_types.wants_lookup("+14155550100")  # US
    assert line_types.wants_lookup("+16135550100")  # Canada
    assert line_types.wants_lookup("+18765550100")  # Jamaica, also +1
    assert not line_types.wants_lookup("+447700900123")
    assert not line_types.wants_lookup("+33612345678")


def test_an_answer_is_fresh_for_the_ttl_by_the_stores_clock() -> None:
    answer = LineType("+14155550100", "landline", NOW)
    assert line_types.is_fresh(answer, NOW + timedelta(days=29, hours=23))
    assert not line_types.is_fresh(answer, NOW + timedelta(days=30))
    assert not line_types.is_fresh(answer, NOW + timedelta(days=2), timedelta(days=1))
    assert timedelta(days=30) == line_types.DEFAULT_TTL


def test_only_a_landline_is_refused_with_its_reason() -> None:
    for kind in line_types.LINE_TYPES:
        answer = LineType("+14155550100", kind, NOW)
        assert line_types.refuses(answer) is (kind == "landline"), kind
    assert line_types.reason(LineType("+1", "landline", NOW)) == (
        "landline (Twilio Lookup, 2026-12-02)"
    )


def test_twilios_answer_is_read_and_anything_odd_is_unknown() -> None:
    lti = {"type": "landline", "carrier_name": "Pacific Bell", "error_code": None}
    answer = from_lookup("+14155550100", lti, NOW)
    assert answer == LineType("+14155550100", "landline", NOW, "Pacific Bell", None)
    unprovisioned = from_lookup("+1", {"type": None, "error_code": 60600}, NOW)
    assert unprovisioned.line_type == "unknown" and unprovisioned.error_code == 60600
    assert from_lookup("+1", None, NOW).line_type == "unknown"
    assert from_lookup("+1", {"type": "satellite"}, NOW).line_type == "unknown"


# -- the cache ----------------------------------------------------------------------------------


def test_the_cache_inserts_then_replaces(tmp_path: Path) -> None:
    store = prepare_db(tmp_path / "cache.db")
    assert store.line_types([MOBILE]) == {}
    store.save_line_types([LineType(MOBILE, "mobile", NOW, "x" * 300)])
    first = store.line_types([MOBILE, LANDLINE])
    assert list(first) == [MOBILE] and first[MOBILE].looked_up_at == NOW
    assert first[MOBILE].carrier == "x" * 200  # cut to the column
    later = NOW + timedelta(days=31)
    store.save_line_types([LineType(MOBILE, "landline", later, None, 60600)])
    assert store.line_types([MOBILE])[MOBILE] == LineType(MOBILE, "landline", later, None, 60600)


def test_an_older_sqlite_database_gets_the_sender_option_off(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    prepare_db(path).close()  # sender HR exists
    with sqlite3.connect(path) as conn:  # the schema from before the option
        conn.execute("ALTER TABLE sms_senders DROP COLUMN line_type_lookup")
    conn.close()
    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    try:
        assert "added column sms_senders.line_type_lookup" in store.install(NOW).notes
        hr = store.get_sender("HR")
        assert hr is not None and hr.line_type_lookup is False
        store.save_sender(replace(hr, line_type_lookup=True), NOW)
        assert store.get_sender("HR") == replace(hr, line_type_lookup=True)
    finally:
        store.close()


# -- the worker against the sandbox ----------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    process = start(
        "--line-type", f"{LANDLINE}=landline",
        "--line-type", f"{BROKEN}=http:500",
        "--line-type", f"{VOIP}=nonFixedVoip",
    )  # fmt: skip
    yield process
    process.stop()


def _env(tmp_path: Path, sandbox: SandboxProcess) -> Env:
    return Env(db_path=tmp_path / "lookup.db", sandbox_url=sandbox.url, maildir=tmp_path / "m")


def _enqueue(store: Store, to: str, body: str) -> int:
    return store.enqueue(
        EnqueueRequest(sender_code="HR", body=body, to_number=to), datetime.now(UTC)
    )


def _status(store: Store, message_id: int) -> Status:
    message = store.get(message_id)
    assert message is not None
    return message.status


def _looked_up(control: Control) -> list[str]:
    return [r["path"].rsplit("/", 1)[-1] for r in control.requests(kind="lookup")]


def _created_to(control: Control) -> list[str]:
    return [r["params"]["To"] for r in control.requests(kind="create")]


@pytest.mark.slow
def test_a_landline_is_invalid_without_a_create_and_the_answer_is_cached(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = _env(tmp_path, sandbox)
    store = prepare_db(env.db_path, line_type_lookup=True)
    landline = _enqueue(store, LANDLINE, "to the desk phone")
    mobile = _enqueue(store, MOBILE, "to the mobile")
    voip = _enqueue(store, VOIP, "to the voip line")
    twice = _enqueue(store, MOBILE, "to the mobile again")  # one lookup per number
    uk = _enqueue(store, UK_MOBILE, "abroad")
    env.run_worker()
    assert _status(store, landline) is Status.INVALID
    row = store.get(landline)
    assert row is not None and row.to_number == LANDLINE and row.num_segments == 1
    today = store.now().date().isoformat()
    assert row.status_reason == f"landline (Twilio Lookup, {today})"
    assert row.provider_sid is None
    for sent in (mobile, voip, twice, uk):
        assert _status(store, sent) in {Status.SUBMITTED, Status.SENT, Status.DELIVERED}
    assert LANDLINE not in _created_to(control)
    assert sorted(_looked_up(control)) == sorted([LANDLINE, MOBILE, VOIP])  # not the UK one
    cached = store.line_types([LANDLINE, MOBILE, VOIP])
    assert {n: a.line_type for n, a in cached.items()} == {
        LANDLINE: "landline",
        MOBILE: "mobile",
        VOIP: "nonFixedVoip",
    }

    # A second message to the landline uses the cache: no second lookup, no create.
    again = _enqueue(store, LANDLINE, "to the desk phone, again")
    env.run_worker()
    assert _status(store, again) is Status.INVALID
    assert _looked_up(control).count(LANDLINE) == 1
    assert LANDLINE not in _created_to(control)


@pytest.mark.slow
def test_an_expired_answer_is_asked_again(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = _env(tmp_path, sandbox)
    store = prepare_db(env.db_path, line_type_lookup=True)
    old = store.now() - line_types.DEFAULT_TTL - timedelta(hours=1)
    store.save_line_types([LineType(LANDLINE, "mobile", old)])  # it was a mobile, 30 days ago
    message = _enqueue(store, LANDLINE, "ported to a landline since")
    env.run_worker()
    assert _looked_up(control) == [LANDLINE]
    assert _status(store, message) is Status.INVALID
    fresh = store.line_types([LANDLINE])[LANDLINE]
    assert fresh.line_type == "landline" and fresh.looked_up_at > old + timedelta(days=30)

    # A fresh cached mobile is not asked again (even though Twilio would now say otherwise).
    store.save_line_types([LineType(LANDLINE, "mobile", store.now() - timedelta(days=29))])
    sent = _enqueue(store, LANDLINE, "trusted to the cache")
    env.run_worker()
    assert _looked_up(control) == [LANDLINE]
    assert _status(store, sent) in {Status.SUBMITTED, Status.SENT, Status.DELIVERED}


@pytest.mark.slow
def test_a_failed_lookup_never_holds_a_message_back(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = _env(tmp_path, sandbox)
    store = prepare_db(env.db_path, line_type_lookup=True)
    message = _enqueue(store, BROKEN, "Lookup is down for this one")
    log = env.run_worker()
    assert _looked_up(control) == [BROKEN]
    assert _status(store, message) in {Status.SUBMITTED, Status.SENT, Status.DELIVERED}
    assert _created_to(control) == [BROKEN]
    assert store.line_types([BROKEN]) == {}  # nothing cached: asked again next time
    assert log.count("Twilio Lookup answered HTTP 500") == 1, log


@pytest.mark.slow
def test_a_sender_without_the_option_never_looks_up(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = _env(tmp_path, sandbox)
    store = prepare_db(env.db_path)
    sender = store.get_sender("HR")
    assert sender is not None and sender.line_type_lookup is False
    message = _enqueue(store, LANDLINE, "no lookup for this sender")
    env.run_worker()
    assert control.requests(kind="lookup") == []
    assert _status(store, message) in {Status.SUBMITTED, Status.SENT, Status.DELIVERED}
    assert store.line_types([LANDLINE]) == {}


def test_the_cli_turns_the_option_on_and_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.cli.main import main

    db = tmp_path / "cli.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SMS_BRIDGE_CONFIG", raising=False)
    monkeypatch.setenv("SMS_BRIDGE_DATABASE_URL", f"sqlite:///{db}")
    assert main(["db", "install"]) == 0
    assert main(["sender", "hr", "--from-number", "+15005550006", "--line-type-lookup"]) == 0
    store = open_store(DatabaseSettings(url=f"sqlite:///{db}"))
    try:
        hr = store.get_sender("HR")
        assert hr is not None and hr.line_type_lookup is True
        assert main(["sender", "hr", "--mps", "3"]) == 0  # other changes keep it
        hr = store.get_sender("HR")
        assert hr is not None and hr.line_type_lookup is True and hr.mps == 3
        assert main(["sender", "hr", "--no-line-type-lookup"]) == 0
        hr = store.get_sender("HR")
        assert hr is not None and hr.line_type_lookup is False
    finally:
        store.close()
