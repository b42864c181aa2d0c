"""Several numbers per recipient (issue 13 #3), end to end: the worker (``sms-bridge run
--once``) against the sandbox sends to the first usable number of sms_recipient_phones_v,
records which one it used and why it skipped the others, and falls back to
sms_recipients_v.mobile_number when the phones view has nothing for the recipient."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.domain.models import EnqueueRequest
from bridge.domain.phone import mask
from bridge.domain.statuses import Status
from bridge.store import Store
from tests.outbound.support import Env, prepare_db
from tests.sandbox.sandbox_support import Control, SandboxProcess

FIXED = "+442071838750"  # phonenumbers: a UK fixed line
OPTED_OUT = "+447911123457"
MOBILE = "+447911123456"
SENT = {Status.SUBMITTED, Status.SENT, Status.DELIVERED}


def _seed(store: Store, employees: str, phones: str | None = None) -> None:
    with store.dialect.transaction("seed") as tx:
        tx.execute(
            f"INSERT INTO hr_demo_employees (employee_id, full_name, mobile_number) {employees}"
        )
        if phones:
            tx.execute(
                "INSERT INTO hr_demo_phones (employee_id, phone_number, phone_type, preference) "
                + phones
            )


def _enqueue(store: Store, employee: int, body: str) -> int:
    request = EnqueueRequest(
        sender_code="HR", body=body, recipient_type="EMPLOYEE", recipient_id=str(employee),
        priority=1,  # urgent: no quiet hours, whatever the time of the run
    )  # fmt: skip
    return store.enqueue(request, datetime.now(UTC))


def _created_to(control: Control) -> list[str]:
    return [r["params"]["To"] for r in control.requests(kind="create")]


def _env(tmp_path: Path, sandbox: SandboxProcess) -> Env:
    return Env(db_path=tmp_path / "phones.db", sandbox_url=sandbox.url, maildir=tmp_path / "m")


@pytest.mark.slow
def test_the_first_usable_number_gets_the_sms_and_the_choice_is_recorded(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = _env(tmp_path, sandbox)
    store = prepare_db(env.db_path)
    # Ann: her mobile_number is a fixed line; then an invalid work number, an opted-out
    # mobile and a mobile. Bo: a fixed line and an invalid number only.
    _seed(
        store,
        f"VALUES (7, 'Ann Lee', '{FIXED}'), (8, 'Bo Chen', '{FIXED}')",
        f"VALUES (7, '12345', 'W1', 1), (7, '{OPTED_OUT}', 'M', 2), (7, '{MOBILE}', 'M', 3),"
        " (8, '020 7946 0000x', 'W1', 1)",
    )
    store.set_optout(OPTED_OUT, "*", True, datetime.now(UTC))
    ann = _enqueue(store, 7, "your certificate expires soon")
    bo = _enqueue(store, 8, "yours too")
    env.run_worker()

    assert _created_to(control) == [MOBILE]
    sent = store.get(ann)
    assert sent is not None and sent.status in SENT and sent.to_number == MOBILE
    (note,) = [e for e in store.events(ann) if e.detail and "used" in e.detail]
    assert note.source == "bridge" and note.status == "SENDING" and not note.applied
    assert note.detail == (
        f"number {mask(MOBILE)} (M) used, choice 4 of 4; skipped {mask(FIXED)} (M): a fixed"
        f" line; ***45 (W1): not a valid number for its region; {mask(OPTED_OUT)} (M): opted out"
    )
    for number in (FIXED, OPTED_OUT, MOBILE):
        assert all(number not in (e.detail or "") for e in store.events(ann))

    invalid = store.get(bo)
    assert invalid is not None and invalid.status is Status.INVALID
    assert invalid.status_reason is not None
    assert invalid.status_reason.startswith(f"no usable number among 2: {mask(FIXED)} (M)")
    assert invalid.provider_sid is None


@pytest.mark.slow
def test_only_opted_out_mobiles_is_suppressed_without_a_create(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    env = _env(tmp_path, sandbox)
    store = prepare_db(env.db_path)
    _seed(store, f"VALUES (7, 'Ann Lee', '{FIXED}')", f"VALUES (7, '{OPTED_OUT}', 'M', 1)")
    store.set_optout(OPTED_OUT, "*", True, datetime.now(UTC))
    message_id = _enqueue(store, 7, "not to be sent")
    env.run_worker()
    assert _created_to(control) == []
    row = store.get(message_id)
    assert row is not None and row.status is Status.SUPPRESSED
    assert row.status_reason == "recipient opted out" and row.to_number == OPTED_OUT


@pytest.mark.slow
def test_without_phones_rows_the_mobile_number_is_used(
    tmp_path: Path, sandbox: SandboxProcess, control: Control
) -> None:
    # A site whose own sms_recipients_v has no phones view beside it (db install --no-demo
    # before the view existed): the bridge sends to mobile_number as before, nothing noted.
    env = _env(tmp_path, sandbox)
    store = prepare_db(env.db_path)
    _seed(store, f"VALUES (7, 'Ann Lee', '{MOBILE}')", f"VALUES (7, '{OPTED_OUT}', 'M', 1)")
    with store.dialect.transaction("site") as tx:
        tx.execute("DROP VIEW sms_recipient_phones_v")
    message_id = _enqueue(store, 7, "to the one mobile")
    log = env.run_worker()
    assert _created_to(control) == [MOBILE]
    row = store.get(message_id)
    assert row is not None and row.status in SENT and row.to_number == MOBILE
    assert not [e for e in store.events(message_id) if e.detail and "used" in e.detail]
    assert "sms_recipient_phones_v cannot be read" in log
