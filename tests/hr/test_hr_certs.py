"""The embedded twin of hr_cert_sms: queue_expiring and on_reply on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.demo.data import seed, seed_certifications
from bridge.domain.models import InboundRecord, SubmitResult
from bridge.hr import certs as hr_certs
from bridge.store import Store, open_store


@pytest.fixture
def store(tmp_path: Path, now: datetime) -> Iterator[Store]:
    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'hr.db'}"))
    store.install(now)
    seed(store, now)
    seed_certifications(store, now.date())
    yield store
    store.close()


def cert(store: Store, cert_id: int) -> dict[str, object]:
    with store.dialect.transaction("t", write=False) as tx:
        row = tx.row("SELECT * FROM hr_demo_certifications WHERE cert_id = :c", {"c": cert_id})
    assert row is not None
    return row


def test_queue_expiring_is_idempotent_and_carries_the_code(store: Store, now: datetime) -> None:
    first = hr_certs.queue_expiring(store, 14, now.date(), now)
    again = hr_certs.queue_expiring(store, 14, now.date(), now)
    assert (first.queued, again.queued, again.already_queued) == (10, 0, 10)
    reminder = store.get(int(str(cert(store, 4821)["reminder_outbound_id"])))
    assert reminder is not None
    assert "Reply YES 4821 when renewed" in reminder.body
    assert (reminder.reference, reminder.reply_code, reminder.correlation_key) == (
        "CERT-4821",
        "4821",
        f"cert-4821-{(now.date() + timedelta(days=10)).isoformat()}",
    )
    assert cert(store, 4831)["reminder_outbound_id"] is None  # 45 days out
    assert cert(store, 4832)["reminder_outbound_id"] is None  # already renewed


def reply(store: Store, now: datetime, body: str, employee: str, outbound: int | None) -> int:
    inbound_id, _ = store.insert_inbound(
        InboundRecord(
            message_sid=f"SM{abs(hash((body, employee, outbound))):032x}"[:34],
            from_number="+14155550100",
            to_number="+15005550006",
            body=body,
            outbound_id=outbound,
            recipient_type="EMPLOYEE",
            recipient_id=employee,
        ),
        now,
    )
    return inbound_id


def test_on_reply(store: Store, now: datetime) -> None:
    hr_certs.queue_expiring(store, 14, now.date(), now)
    reminder = int(str(cert(store, 4822)["reminder_outbound_id"]))
    store.claim_batch("HR", 100, now, lease_seconds=60, worker="t")
    store.mark_submitted([SubmitResult(reminder, "SM" + "1" * 32, "queued", "+1415")], now)
    asked = reply(store, now, "Is it online?", "1002", reminder)
    assert hr_certs.on_reply(store, asked, now) == "flagged"
    assert (cert(store, 4822)["status"], cert(store, 4822)["flagged_reason"]) == (
        "FLAGGED",
        "Is it online?",
    )
    yes = reply(store, now, "Yes!", "1002", reminder)
    assert hr_certs.on_reply(store, yes, now) == "acknowledged"
    assert cert(store, 4822)["status"] == "RENEWAL_CONFIRMED"
    assert cert(store, 4822)["acknowledged_inbound_id"] == yes
    by_code = reply(store, now, "done 4821", "1001", None)
    assert hr_certs.on_reply(store, by_code, now) == "acknowledged"
    someone_elses = reply(store, now, "YES 4823", "1001", None)
    assert hr_certs.on_reply(store, someone_elses, now) == "unmatched"
    assert cert(store, 4823)["status"] == "ACTIVE"


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("Yes!", "YES"),
        ("  done, thanks", "DONE"),
        ("Да, yes", "ДА"),  # any script, as [[:alpha:]] in hr_cert_sms: not an acknowledgement
        ("はい YES 4821", "はい"),
        ("4821 renewed", "RENEWED"),
        ("", ""),
        ("123 456", ""),
    ],
)
def test_first_word_reads_as_hr_cert_sms(body: str, word: str) -> None:
    assert hr_certs.first_word(body) == word


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ("YES 4821", [4821]),
        ("4821/4822", [4821, 4822]),
        ("123456789014822", []),  # one run of 15 digits is no code (PL/SQL: ^[0-9]{1,10}$)
        ("yes ٤٨٢١", []),  # Arabic-Indic digits are not [0-9]
        ("1 2 3 4 5 6", [1, 2, 3, 4, 5]),  # the first five runs only
        ("renewed", []),
    ],
)
def test_quoted_codes_read_as_hr_cert_sms(body: str, codes: list[int]) -> None:
    assert hr_certs.quoted_codes(body) == codes


def test_negative_days_are_refused(store: Store, now: datetime) -> None:
    with pytest.raises(ValueError):
        hr_certs.queue_expiring(store, -1, now.date(), now)
