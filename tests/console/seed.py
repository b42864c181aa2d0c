"""A console's worth of data, through the store's real operations: messages in every state the
console acts on, replies threaded each way, a STOP, an ERROR reply and an opt-out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.domain.models import EnqueueRequest, Sender, SubmitResult
from bridge.domain.statuses import Status
from bridge.replies.processing import receive_reply
from bridge.store import Store
from tests.inbound.conftest import (
    ALICE,
    BOB,
    HELP_TEXT,
    HR_NUMBER,
    IT_NUMBER,
    inbound_form,
    new_sid,
    seed_people,
)


@dataclass(frozen=True)
class Seeded:
    queued: int  # QUEUED, due: cancel it
    delivered: int  # to Alice, replied to with a code
    failed: int  # FAILED with 30003: requeue it
    undelivered: int
    stopped: int  # to Bob, who answered STOP
    error_reply: int  # sms_inbound id, status ERROR
    new_reply: int


def _sent(store: Store, at: datetime, sender: str, employee: str, number: str, code: str) -> int:
    new_id = store.enqueue(
        EnqueueRequest(
            sender_code=sender,
            body=f"Certificate expires soon. Reply YES {code}",
            recipient_type="EMPLOYEE",
            recipient_id=employee,
            reply_code=code,
            reference=f"CERT-{code}",
        ),
        at,
    )
    claimed = store.claim_batch(sender, 100, at, lease_seconds=60, worker="worker-a@host1")
    assert new_id in [m.id for m in claimed]
    store.mark_submitted([SubmitResult(new_id, new_sid(), "queued", number)], at)
    return new_id


def seed(store: Store, now: datetime, *, people: bool = True) -> Seeded:
    store.save_sender(Sender(code="HR", from_number=HR_NUMBER, mps=10, help_text=HELP_TEXT), now)
    store.save_sender(Sender(code="IT", from_number=IT_NUMBER, mps=5), now)
    if people:
        seed_people(store)
    hour = timedelta(hours=1)
    delivered = _sent(store, now - 5 * hour, "HR", "1001", ALICE, "4821")
    store.record_status(now - 5 * hour, Status.DELIVERED, source="callback", message_id=delivered)
    failed = _sent(store, now - 3 * hour, "HR", "1001", ALICE, "4822")
    store.record_status(
        now - 3 * hour,
        Status.FAILED,
        source="callback",
        message_id=failed,
        error_code=30003,
        error_message="Unreachable destination handset",
    )
    undelivered = _sent(store, now - 2 * hour, "IT", "1001", ALICE, "4823")
    store.record_status(
        now - 2 * hour, Status.UNDELIVERED, source="callback", message_id=undelivered,
        error_code=30005,
    )  # fmt: skip
    stopped = _sent(store, now - 2 * hour, "HR", "1002", BOB, "4824")
    store.record_status(now - 2 * hour, Status.DELIVERED, source="callback", message_id=stopped)
    queued = store.enqueue(
        EnqueueRequest(sender_code="IT", body="Server maintenance tonight at 22:00",
                       recipient_type="EMPLOYEE", recipient_id="1002", priority=1),
        now - hour,
    )  # fmt: skip
    window = 48.0

    def form(body: str, frm: str = ALICE) -> dict[str, list[str]]:
        fields: dict[str, list[str]] = {}
        for name, value in inbound_form(body, frm=frm):
            fields.setdefault(name, []).append(value)
        return fields

    receive_reply(store, form("YES 4821"), now - 4 * hour, thread_window_hours=window)
    receive_reply(store, form("STOP", BOB), now - hour, thread_window_hours=window)
    error = receive_reply(
        store, form("When is the course?"), now - 30 * timedelta(minutes=1),
        thread_window_hours=window,
    )  # fmt: skip
    store.mark_inbound(error.inbound_id, "ERROR", now, "hr_certs: LookupError: no certification")
    new = receive_reply(
        store, form("Who is this?", "+14155550199"), now - timedelta(minutes=10),
        thread_window_hours=window,
    )  # fmt: skip
    return Seeded(queued, delivered, failed, undelivered, stopped, error.inbound_id, new.inbound_id)
