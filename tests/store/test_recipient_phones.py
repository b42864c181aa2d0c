"""A recipient's several numbers on SQLite (issue 13 #3): the default sms_recipient_phones_v,
Store.recipient_phones, the choice's event, and a database without the view."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.domain.contacts import Contact
from bridge.domain.models import EnqueueRequest, Sender
from bridge.domain.phone_choice import Candidate
from bridge.domain.statuses import Status
from bridge.errors import ValueTooLongError
from bridge.store import Store, open_store

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'phones.db'}"))
    store.install(NOW)
    with store.dialect.transaction("seed") as tx:
        tx.execute(
            "INSERT INTO hr_demo_employees (employee_id, full_name, mobile_number) VALUES"
            " (7, 'Ann Lee', '+442071838750'), (8, 'Bo Chen', NULL), (9, 'Cy Ode', '+447911123456')"
        )
        tx.execute(
            "INSERT INTO hr_demo_phones (employee_id, phone_number, phone_type, preference) VALUES"
            " (7, '+447911123457', 'M', 2), (7, '020 7183 8751', 'W1', 1),"
            " (8, '+447911123458', 'M', 1)"
        )
    return store


def test_mobile_number_first_then_the_extra_numbers_by_preference(store: Store) -> None:
    assert store.recipient_phones("EMPLOYEE", "7") == [
        Candidate("+442071838750", "M", 1),
        Candidate("020 7183 8751", "W1", 2),
        Candidate("+447911123457", "M", 3),
    ]
    # No mobile_number: only the extra numbers (a null number is no row).
    assert store.recipient_phones("EMPLOYEE", "8") == [Candidate("+447911123458", "M", 2)]
    assert store.recipient_phones("EMPLOYEE", "9") == [Candidate("+447911123456", "M", 1)]
    assert store.recipient_phones("EMPLOYEE", "404") == []


def test_a_contact_replaces_the_employee_and_its_extra_numbers(store: Store) -> None:
    store.upsert_contacts([Contact("EMPLOYEE", "7", "Ann Lee", "+447911123459")], NOW)
    store.upsert_contacts([Contact("VENDOR", "v1", "Acme", "+447911123450")], NOW)
    assert store.recipient_phones("EMPLOYEE", "7") == [Candidate("+447911123459", "M", 1)]
    assert store.recipient_phones("VENDOR", "v1") == [Candidate("+447911123450", "M", 1)]


def test_keys_are_checked_against_their_columns(store: Store) -> None:
    with pytest.raises(ValueTooLongError):
        store.recipient_phones("EMPLOYEE", "9" * 65)


def test_without_the_view_there_are_no_rows_and_no_error(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with store.dialect.transaction("drop") as tx:
        tx.execute("DROP VIEW sms_recipient_phones_v")
    assert store.recipient_phones("EMPLOYEE", "7") == []
    assert store.recipient_phones("EMPLOYEE", "9") == []  # not looked for again at once
    assert sum("sms_recipient_phones_v cannot be read" in r.message for r in caplog.records) == 1
    assert store.get_recipient("EMPLOYEE", "7") is not None  # sms_recipients_v is unchanged


def test_a_view_whose_table_is_gone_counts_as_no_view(store: Store) -> None:
    with store.dialect.transaction("drop") as tx:
        tx.execute("DROP TABLE hr_demo_phones")
    assert store.recipient_phones("EMPLOYEE", "7") == []


def test_a_site_view_without_the_newer_columns_counts_as_no_view(store: Store) -> None:
    # A site's own view written before phone_type and preference existed (Oracle: ORA-00904).
    with store.dialect.transaction("replace") as tx:
        tx.execute("DROP VIEW sms_recipient_phones_v")
        tx.execute(
            "CREATE VIEW sms_recipient_phones_v AS SELECT 'EMPLOYEE' AS recipient_type,"
            " '7' AS recipient_id, '+14155550100' AS phone_number"
        )
    assert store.recipient_phones("EMPLOYEE", "7") == []


def test_the_choice_is_an_event_of_the_message(store: Store) -> None:
    store.save_sender(Sender(code="HR", from_number="+15005550006"), NOW)
    message_id = store.enqueue(
        EnqueueRequest(sender_code="HR", body="hi", recipient_type="EMPLOYEE", recipient_id="7"),
        NOW,
    )
    store.record_number_choices([(message_id, "number +4479******57 (M) used" + "x" * 2000)], NOW)
    store.record_number_choices([], NOW)  # nothing to write
    (event,) = [e for e in store.events(message_id) if e.detail and "used" in e.detail]
    assert event.status == Status.SENDING.value
    assert event.source == "bridge" and event.applied is False
    assert event.detail is not None and len(event.detail) == 1000  # cut to sms_events.detail
