"""A sender's dedupe window (issue 13 #5): the same text to the same number within the window
is not sent twice — SUPPRESSED with duplicate_of and its reason, and no create at Twilio —
while other texts, other numbers and other senders go; two worker processes racing on the
same pair still send it once."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from bridge.domain.models import EnqueueRequest, Message
from bridge.domain.statuses import Status
from bridge.store import Store
from tests.outbound.support import Env, prepare_db
from tests.sandbox.sandbox_support import Control, SandboxProcess


def _queue(store: Store, body: str, to: str = "+14155550100", sender: str = "HR") -> int:
    request = EnqueueRequest(sender_code=sender, body=body, to_number=to)
    return store.enqueue(request, datetime.now(UTC))


def _rows(store: Store, ids: list[int]) -> list[Message]:
    found = [store.get(i) for i in ids]
    return [m for m in found if m is not None]


def test_a_duplicate_within_the_window_is_suppressed_without_a_create(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = Env(db_path=tmp_path / "dedupe.db", sandbox_url=sandbox.url, maildir=tmp_path / "m")
    store = prepare_db(env.db_path, dedupe_window_seconds=3600)
    first = _queue(store, "Your payslip is ready")
    env.run_worker()
    again = _queue(store, "Your payslip is ready")
    other_text = _queue(store, "Your payslip is late")
    other_number = _queue(store, "Your payslip is ready", to="+14155550199")
    env.run_worker()
    creates = [r["params"] for r in control.requests(kind="create")]
    sent = sorted((p["To"], p["Body"]) for p in creates)
    assert sent == [
        ("+14155550100", "Your payslip is late"),
        ("+14155550100", "Your payslip is ready"),
        ("+14155550199", "Your payslip is ready"),
    ]
    duplicate = store.get(again)
    assert duplicate is not None
    assert duplicate.status is Status.SUPPRESSED
    assert duplicate.duplicate_of == first
    assert duplicate.provider_sid is None
    assert f"duplicate of #{first}" in (duplicate.status_reason or "")
    events = [e.status for e in store.events(again)]
    assert events[-1] == "SUPPRESSED"
    for sent_id in (first, other_text, other_number):
        row = store.get(sent_id)
        assert row is not None and row.provider_sid is not None
    store.close()


def test_identical_rows_claimed_together_are_sent_once(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = Env(db_path=tmp_path / "race.db", sandbox_url=sandbox.url, maildir=tmp_path / "m")
    store = prepare_db(env.db_path, dedupe_window_seconds=600)
    body = "Shift swap approved"
    ids = [_queue(store, body) for _ in range(6)]
    workers = [env.popen_worker("--once") for _ in range(2)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr[-2000:]
    # Twins wait for the first (send gate), then find it submitted: one create in all. A
    # held twin waits up to 5 s; --once may stop before, so run until nothing is queued.
    deadline = time.monotonic() + 60
    while any(m.status is Status.QUEUED for m in _rows(store, ids)):
        assert time.monotonic() < deadline, [m.status for m in _rows(store, ids)]
        time.sleep(1)
        env.run_worker()
    creates = [r for r in control.requests(kind="create") if r["params"]["Body"] == body]
    assert len(creates) == 1, creates
    statuses = sorted(m.status.value for m in _rows(store, ids))
    assert statuses.count("SUPPRESSED") == 5, statuses
    store.close()


def test_without_a_window_the_same_text_goes_again(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = Env(db_path=tmp_path / "plain.db", sandbox_url=sandbox.url, maildir=tmp_path / "m")
    store = prepare_db(env.db_path)
    _queue(store, "Reminder")
    env.run_worker()
    _queue(store, "Reminder")
    env.run_worker()
    assert [r["params"]["Body"] for r in control.requests(kind="create")] == ["Reminder"] * 2
    store.close()
