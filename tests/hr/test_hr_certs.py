"""The embedded twin of hr_cert_sms: queue_expiring and on_reply on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.demo.data import seed, seed_certifications
from bridge.domain.models import EnqueueRequest, InboundRecord, SubmitResult
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
        ("123456789014822", []),  # 15 digits in one run: no code (c_code_pattern)
        ("yes ٤٨٢١", []),  # Arabic-Indic digits are not [0-9]
        ("1 2 3 4 5 6", [1, 2, 3, 4, 5]),  # the first five runs only
        ("renewed", []),
        # The replies test_hr_cert_sms pins on the PL/SQL side (test_long_digit_runs_in_a_reply):
        ("YES " + "9" * 101 + " 4821", [4821]),  # no ORA-06502 there, no code here
        ("DONE 12345678901 4821", [4821]),  # 11 digits: skipped, the next run is read
        ("YES 1234567890 4821", [1234567890, 4821]),  # 10 digits are still a code
        ("1 2 3 4 12345678901 4821", [1, 2, 3, 4]),  # a skipped run is one of the five
        ("YES 00004821", [4821]),  # leading zeros: TO_NUMBER reads it as int() does
    ],
)
def test_quoted_codes_read_as_hr_cert_sms(body: str, codes: list[int]) -> None:
    assert hr_certs.quoted_codes(body) == codes


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        ("YES " + "9" * 101 + " 4821", "acknowledged"),
        ("DONE 12345678901 4821", "acknowledged"),
        ("YES 48210000000", "unmatched"),  # 11 digits starting with the code: no code
        ("1 2 3 4 12345678901 4821", "unmatched"),  # the code is the sixth run
        ("YES " + "9" * 1996, "unmatched"),  # one run of digits as long as a body allows
    ],
)
def test_long_digit_runs_in_a_reply(store: Store, now: datetime, body: str, outcome: str) -> None:
    # The replies of test_hr_cert_sms (hundred_one_digits_are_skipped and the next four tests,
    # with 990201 there for 4821 here: the certification of the replying employee).
    inbound = reply(store, now, body, "1001", None)
    assert hr_certs.on_reply(store, inbound, now) == outcome
    assert cert(store, 4821)["status"] == (
        "RENEWAL_CONFIRMED" if outcome == "acknowledged" else "ACTIVE"
    )


@pytest.mark.parametrize("employee", ["01001", "١٠٠١"])
def test_the_employee_is_compared_as_text(store: Store, now: datetime, employee: str) -> None:
    # hr_cert_sms compares to_char(employee_id) = recipient_id: neither is employee 1001.
    inbound = reply(store, now, "YES 4821", employee, None)
    assert hr_certs.on_reply(store, inbound, now) == "unmatched"


@pytest.mark.parametrize("reference", ["CERT-٤٨٢١", "CERT-²", "CERT-48210000000"])
def test_a_reference_is_a_certification_only_in_ascii_digits(
    store: Store, now: datetime, reference: str
) -> None:
    # hr_cert_sms.c_code_pattern: '^[0123456789]{1,10}$', so none of these names 4821; the
    # reply then falls back to the codes it quotes (none here) and stays unmatched.
    outbound = store.enqueue(
        EnqueueRequest(
            sender_code="HR",
            recipient_type="EMPLOYEE",
            recipient_id="1001",
            body="Reminder",
            reference=reference,
        ),
        now,
    )
    inbound = reply(store, now, "YES", "1001", outbound)
    assert hr_certs.on_reply(store, inbound, now) == "unmatched"
    assert cert(store, 4821)["status"] == "ACTIVE"


def test_negative_days_are_refused(store: Store, now: datetime) -> None:
    with pytest.raises(ValueError):
        hr_certs.queue_expiring(store, -1, now.date(), now)
