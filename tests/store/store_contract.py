"""The Store contract: every engine must pass these. Subclasses provide the ``store`` fixture.

Runs on SQLite always (tests/store/test_store_sqlite.py) and on Oracle when
SMS_BRIDGE_TEST_ORACLE_DSN is set (tests/store/test_store_oracle.py).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from bridge import errors
from bridge.apikeys import Scope
from bridge.domain.contacts import Contact
from bridge.domain.models import EnqueueRequest, InboundRecord, MessageFilter, Sender, SubmitResult
from bridge.domain.statuses import Status
from bridge.store import Store
from bridge.store.keyword_store import KeywordRule

_codes = itertools.count(1)


def new_sender(store: Store, now: datetime, **kw: object) -> Sender:
    code = f"T{next(_codes):04d}"
    sender = Sender(code=code, from_number=f"+1500555{next(_codes):04d}", mps=10.0, **kw)  # type: ignore[arg-type]
    store.save_sender(sender, now)
    return sender


def seed_employee(
    store: Store,
    employee_id: int,
    mobile: str | None,
    *,
    tz: str | None = None,
    manager_id: int | None = None,
    email: str | None = None,
) -> None:
    with store.dialect.transaction("seed") as tx:
        tx.execute("DELETE FROM hr_demo_employees WHERE employee_id = :id", {"id": employee_id})
        tx.execute(
            "INSERT INTO hr_demo_employees (employee_id, full_name, mobile_number, time_zone,"
            " email, manager_id) VALUES (:id, :name, :mobile, :tz, :email, :manager)",
            {
                "id": employee_id,
                "name": f"Employee {employee_id}",
                "mobile": mobile,
                "tz": tz,
                "email": email,
                "manager": manager_id,
            },
        )


def count_rows(store: Store, table: str) -> int:
    with store.dialect.transaction("count", write=False) as tx:
        return int(tx.scalar(f"SELECT COUNT(*) AS n FROM {table}"))


def contact_rows(store: Store, kind: str) -> list[tuple[object, ...]]:
    """What sms_contacts holds for one type, as comparable tuples (timestamps included)."""
    fields = ("recipient_id", "full_name", "mobile_number", "time_zone", "manager_email")
    return [
        tuple(getattr(c, f) for f in (*fields, "created_at", "updated_at"))
        for c in store.list_contacts(kind)
    ]


def queue(store: Store, sender: Sender, now: datetime, **kw: object) -> int:
    fields: dict[str, object] = {"to_number": "+14155550100", "body": "hello"}
    fields.update(kw)
    return store.enqueue(EnqueueRequest(sender_code=sender.code, **fields), now)  # type: ignore[arg-type]


def contract_now(clock: datetime) -> datetime:
    """The contract's ``now`` from the store's clock: whole seconds, and at least a second
    ahead (dropping the microseconds of ``clock + 1 s`` would leave as little as a
    microsecond: what sms_api stamps a moment later would not be due at it)."""
    return (clock + timedelta(seconds=2)).replace(microsecond=0)


class StoreContract:
    @pytest.fixture
    def now(self, store: Store) -> datetime:
        """The store's clock, as every caller of the store takes it: on Oracle the database's,
        whose sms_api stamps the due time of what a test queues. Whole seconds, and over a
        second ahead, so that what a test queues now is due at it on both engines."""
        return contract_now(store.now())

    @pytest.fixture
    def kind(self, store: Store) -> Iterator[str]:
        """A recipient type of this test's own, whose contacts are removed afterwards: the
        Oracle suite keeps its database between runs, and other tests look recipients up."""
        kind = f"T{uuid.uuid4().hex[:12].upper()}"
        yield kind
        with store.dialect.transaction("cleanup") as tx:
            tx.execute("DELETE FROM sms_contacts WHERE recipient_type = :kind", {"kind": kind})

    # -- install and look-ups ------------------------------------------------------------

    def test_install_is_idempotent(self, store: Store, now: datetime) -> None:
        report = store.install(now)
        assert report.schema_version == 1
        assert store.schema_version() == 1

    def test_sender_round_trip(self, store: Store, now: datetime) -> None:
        sender = new_sender(
            store,
            now,
            quiet_start="21:00",
            quiet_end="08:00",
            default_time_zone="Europe/Paris",
            help_text="HR help",
        )
        assert store.get_sender(sender.code) == sender
        store.save_sender(
            Sender(code=sender.code, from_number=sender.from_number, mps=2.5, active=False), now
        )
        updated = store.get_sender(sender.code)
        assert updated is not None and updated.mps == 2.5 and updated.active is False
        assert store.get_sender("NOPE") is None

    def test_recipient_view(self, store: Store, now: datetime) -> None:
        seed_employee(store, 9001, None, email="boss@example.com")
        seed_employee(store, 9002, "+33612345678", tz="Europe/Paris", manager_id=9001)
        found = store.get_recipient("EMPLOYEE", "9002")
        assert found is not None
        assert (found.mobile_number, found.time_zone, found.manager_email) == (
            "+33612345678",
            "Europe/Paris",
            "boss@example.com",
        )
        assert store.get_recipient("EMPLOYEE", "424242") is None
        assert [r.recipient_id for r in store.find_recipients_by_number("+33612345678")] == ["9002"]

    # -- contacts (sms_contacts, in the default recipients view) ---------------------------

    def test_upsert_contacts_inserts_then_updates_by_key(
        self, store: Store, now: datetime, kind: str
    ) -> None:
        long_name = "é" * 200  # VARCHAR2(200 CHAR): 200 characters fit, 400 bytes in UTF-8
        saved = store.upsert_contacts(
            [
                Contact(
                    kind, "1", "Zoë Müller", "+4915112340001", "Europe/Berlin", "a@example.com"
                ),
                Contact(kind, "2", long_name, "+4915112340002"),
            ],
            now,
        )
        assert (saved.inserted, saved.updated) == (2, 0)
        assert contact_rows(store, kind) == [
            ("1", "Zoë Müller", "+4915112340001", "Europe/Berlin", "a@example.com", now, now),
            ("2", long_name, "+4915112340002", None, None, now, now),
        ]
        later = now + timedelta(hours=1)
        saved = store.upsert_contacts(
            [Contact(kind, "1", None, "+4915112340009"), Contact(kind, "3", "C", "+4915112340003")],
            later,
        )
        assert (saved.inserted, saved.updated) == (1, 1)
        assert contact_rows(store, kind) == [
            ("1", None, "+4915112340009", None, None, now, later),  # every value replaced
            ("2", long_name, "+4915112340002", None, None, now, now),  # not in the batch
            ("3", "C", "+4915112340003", None, None, later, later),
        ]

    def test_upsert_contacts_is_all_or_nothing(
        self, store: Store, now: datetime, kind: str
    ) -> None:
        store.upsert_contacts([Contact(kind, "1", "A", "+4915112340011")], now)
        before = contact_rows(store, kind)
        later = now + timedelta(minutes=5)
        batch = [
            Contact(kind, "1", "A2", "+4915112340019"),  # an update
            Contact(kind, "2", "B", "+4915112340012"),  # an insert
            Contact(kind, "3", "C", "0151 1234 0013"),  # not E.164: the table's CHECK refuses it
        ]
        with pytest.raises(Exception) as caught:
            store.upsert_contacts(batch, later)
        assert type(caught.value).__name__ == "IntegrityError"  # sqlite3's and oracledb's
        assert contact_rows(store, kind) == before
        # A value longer than its column is refused before anything is bound.
        too_long = Contact(kind, "4" * 65, None, "+4915112340014")
        with pytest.raises(ValueError, match="recipient_id has 65 bytes; at most 64 fit"):
            store.upsert_contacts([Contact(kind, "2", "B", "+4915112340012"), too_long], later)
        assert contact_rows(store, kind) == before
        # So is a key given twice: which row would win is not the same on both engines.
        twice = [Contact(kind, "5", "E", "+4915112340015"), Contact(kind, "5", "F", "+49151123400")]
        with pytest.raises(ValueError, match="the same type and id as contact 1"):
            store.upsert_contacts(twice, later)
        assert contact_rows(store, kind) == before

    def test_list_contacts_of_one_type_or_all_by_type_then_id(
        self, store: Store, now: datetime, kind: str
    ) -> None:
        other = f"T{uuid.uuid4().hex[:12].upper()}"
        try:
            store.upsert_contacts(
                [
                    Contact(kind, "b", None, "+4915112340022"),
                    Contact(other, "a", None, "+4915112340023"),
                    Contact(kind, "a", None, "+4915112340021"),
                ],
                now,
            )
            assert [c.recipient_id for c in store.list_contacts(kind)] == ["a", "b"]
            everyone = [c.key for c in store.list_contacts() if c.recipient_type in (kind, other)]
            assert everyone == sorted([(kind, "a"), (kind, "b"), (other, "a")])
            assert store.list_contacts(kind + "Z") == []
        finally:
            with store.dialect.transaction("cleanup") as tx:
                tx.execute("DELETE FROM sms_contacts WHERE recipient_type = :o", {"o": other})

    def test_contacts_are_recipients_of_the_default_view(
        self, store: Store, now: datetime, kind: str
    ) -> None:
        store.upsert_contacts(
            [Contact(kind, "42", "Ann", "+4915112340031", "Europe/Berlin", "boss@example.com")],
            now,
        )
        found = store.get_recipient(kind, "42")
        assert found is not None
        assert (found.display_name, found.mobile_number, found.time_zone, found.manager_email) == (
            "Ann",
            "+4915112340031",
            "Europe/Berlin",
            "boss@example.com",
        )
        assert [r.recipient_id for r in store.find_recipients_by_number("+4915112340031")] == ["42"]
        # Sendable: enqueue checks the pair against the view (sms_api.enqueue on Oracle).
        sender = new_sender(store, now)
        by_reference = {"to_number": None, "recipient_type": kind}
        message = store.get(queue(store, sender, now, **by_reference, recipient_id="42"))
        assert message is not None
        assert (message.recipient_type, message.recipient_id) == (kind, "42")
        with pytest.raises(errors.UnknownRecipientError):
            queue(store, sender, now, **by_reference, recipient_id="43")

    def test_an_employee_contact_replaces_the_demo_employee_of_that_id(
        self, store: Store, now: datetime
    ) -> None:
        seed_employee(store, 97001, "+4915112340041")
        seed_employee(store, 97002, "+4915112340042")
        try:
            store.upsert_contacts([Contact("EMPLOYEE", "97001", "New", "+4915112340049")], now)
            found = store.get_recipient("EMPLOYEE", "97001")
            assert found is not None and found.mobile_number == "+4915112340049"
            assert store.find_recipients_by_number("+4915112340041") == []  # one row, not two
            assert len(store.find_recipients_by_number("+4915112340049")) == 1
            kept = store.get_recipient("EMPLOYEE", "97002")  # the other demo rows stay
            assert kept is not None and kept.mobile_number == "+4915112340042"
        finally:
            with store.dialect.transaction("cleanup") as tx:
                tx.execute(
                    "DELETE FROM sms_contacts WHERE recipient_type = 'EMPLOYEE'"
                    " AND recipient_id = '97001'"
                )

    # -- enqueue -------------------------------------------------------------------------

    def test_enqueue_by_recipient(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        seed_employee(store, 9100, "+14155550111")
        new_id = store.enqueue(
            EnqueueRequest(
                sender_code=sender.code,
                body="Cert expires",
                recipient_type="EMPLOYEE",
                recipient_id="9100",
                priority=1,
                reference="CERT-1",
                reply_code="4821",
            ),
            now,
        )
        message = store.get(new_id)
        assert message is not None
        assert message.status is Status.QUEUED
        assert (message.recipient_type, message.recipient_id, message.to_number) == (
            "EMPLOYEE",
            "9100",
            None,
        )
        assert (message.priority, message.reference, message.reply_code) == (1, "CERT-1", "4821")
        assert message.next_attempt_at <= now + timedelta(seconds=5)
        assert [e.status for e in store.events(new_id)] == ["QUEUED"]

    def test_send_after_sets_next_attempt(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        later = now + timedelta(hours=3)
        message = store.get(
            queue(store, sender, now, send_after=later, expires_at=later + timedelta(hours=1))
        )
        assert message is not None
        assert message.next_attempt_at == later and message.send_after == later
        assert message.expires_at == later + timedelta(hours=1)

    def test_correlation_key_returns_existing_id(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        first = queue(store, sender, now, source_system="HR", correlation_key="cert-7-2026")
        again = queue(
            store,
            sender,
            now,
            source_system="HR",
            correlation_key="cert-7-2026",
            body="different text",
        )
        other = queue(store, sender, now, source_system="HR", correlation_key="cert-8-2026")
        assert first == again != other
        first_row = store.get(first)
        assert first_row is not None and first_row.body == "hello"

    @pytest.mark.parametrize(
        ("fields", "error"),
        [
            ({"to_number": None}, errors.RecipientCountError),
            ({"recipient_type": "EMPLOYEE", "recipient_id": "1"}, errors.RecipientCountError),
            ({"to_number": None, "recipient_type": "EMPLOYEE"}, errors.RecipientCountError),
            ({"body": ""}, errors.EmptyBodyError),
            ({"body": "   "}, errors.EmptyBodyError),
            ({"body": "x" * 1601}, errors.BodyTooLongError),
            ({"priority": 0}, errors.BadPriorityError),
            ({"priority": 4}, errors.BadPriorityError),
            ({"to_number": "4155550100"}, errors.BadNumberError),
            (
                {"to_number": None, "recipient_type": "EMPLOYEE", "recipient_id": "404404"},
                errors.UnknownRecipientError,
            ),
            ({"source_system": "HR"}, errors.CorrelationIncompleteError),
        ],
    )
    def test_enqueue_rejects_bad_input_and_writes_nothing(
        self, store: Store, now: datetime, fields: dict[str, object], error: type[Exception]
    ) -> None:
        sender = new_sender(store, now)
        before = count_rows(store, "sms_outbound"), count_rows(store, "sms_events")
        with pytest.raises(error) as caught:
            queue(store, sender, now, **fields)
        assert isinstance(caught.value, errors.SmsError)
        assert str(caught.value)  # a readable message, the same as sms_err's
        assert (count_rows(store, "sms_outbound"), count_rows(store, "sms_events")) == before

    def test_blank_correlation_texts_are_no_key(self, store: Store, now: datetime) -> None:
        # Oracle reads '' as NULL: both engines queue two messages, and ('', None) is fine.
        sender = new_sender(store, now)
        first = queue(store, sender, now, source_system="", correlation_key="")
        second = queue(store, sender, now, source_system="", correlation_key="")
        third = queue(store, sender, now, source_system="", reference="")
        assert len({first, second, third}) == 3
        message = store.get(third)
        assert message is not None and message.source_system is None and message.reference is None

    def test_enqueue_unknown_and_inactive_sender(self, store: Store, now: datetime) -> None:
        with pytest.raises(errors.UnknownSenderError, match="unknown sender NOSUCH"):
            store.enqueue(
                EnqueueRequest(sender_code="NOSUCH", body="x", to_number="+14155550100"), now
            )
        inactive = new_sender(store, now, active=False)
        with pytest.raises(errors.InactiveSenderError):
            queue(store, inactive, now)

    def test_a_correlation_key_of_128_characters_in_any_script_fits(
        self, store: Store, now: datetime
    ) -> None:
        # Issue 10: correlation_key was VARCHAR2(128) bytes; 100 Cyrillic characters are 200.
        sender = new_sender(store, now)
        key = "ключ-" + "я" * 95
        assert len(key) == 100 and len(key.encode("utf-8")) > 128
        first = queue(store, sender, now, source_system="ERP", correlation_key=key)
        assert queue(store, sender, now, source_system="ERP", correlation_key=key) == first
        message = store.get(first)
        assert message is not None and message.correlation_key == key
        widest = "\N{GRINNING FACE}" * 128
        assert store.get(queue(store, sender, now, source_system="ERP", correlation_key=widest))

    @pytest.mark.parametrize(
        ("fields", "column"),
        [
            ({"source_system": "ERP", "correlation_key": "я" * 129}, "correlation_key"),
            ({"reference": "r" * 101}, "reference"),
            (
                {"to_number": None, "recipient_type": "EMPLOYEE", "recipient_id": "é" * 33},
                "recipient_id",  # VARCHAR2(64) bytes: 66
            ),
            ({"source_system": "É" * 16, "correlation_key": "k"}, "source_system"),
            ({"created_by": "c" * 129}, "created_by"),
        ],
    )
    def test_enqueue_refuses_a_text_longer_than_its_column_and_writes_nothing(
        self, store: Store, now: datetime, fields: dict[str, object], column: str
    ) -> None:
        sender = new_sender(store, now)
        before = count_rows(store, "sms_outbound"), count_rows(store, "sms_events")
        with pytest.raises(errors.ValueTooLongError) as caught:
            queue(store, sender, now, **fields)
        assert caught.value.column == column and str(caught.value).startswith(column)
        assert (count_rows(store, "sms_outbound"), count_rows(store, "sms_events")) == before

    def test_body_of_exactly_1600_characters_is_accepted(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        message = store.get(queue(store, sender, now, body="é" * 1600))
        assert message is not None and len(message.body) == 1600

    # -- cancel --------------------------------------------------------------------------

    def test_cancel(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        message_id = queue(store, sender, now)
        canceled = store.cancel(message_id, now, "wrong person")
        assert canceled.status is Status.CANCELED and canceled.final_at == now
        with pytest.raises(errors.NotCancelableError, match="CANCELED"):
            store.cancel(message_id, now)
        with pytest.raises(errors.NotFoundError):
            store.cancel(987654321, now)

    def test_cancel_keeps_the_first_400_characters_of_a_long_reason(
        self, store: Store, now: datetime
    ) -> None:
        # Issue 10, defect 5: status_reason is VARCHAR2(400 CHAR); Oracle refused a longer
        # reason (ORA-12899) where SQLite stored it whole. Both keep 400, as sms_api.cancel.
        sender = new_sender(store, now)
        message_id = queue(store, sender, now)
        reason = "é" * 250 + "\N{GRINNING FACE}" * 250
        assert len(reason) == 500
        canceled = store.cancel(message_id, now, reason, source="cli")
        assert canceled.status is Status.CANCELED
        assert canceled.status_reason == reason[:400]  # 150 whole emoji, none split
        assert [e.detail for e in store.events(message_id)][-1] == reason[:400]

    # -- claiming ------------------------------------------------------------------------

    def test_claim_by_priority_then_id_within_limit(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        bulk = queue(store, sender, now, priority=3)
        normal = queue(store, sender, now, priority=2)
        urgent = queue(store, sender, now, priority=1)
        later = queue(store, sender, now, priority=1, send_after=now + timedelta(minutes=5))
        first = store.claim_batch(sender.code, 2, now, lease_seconds=60, worker="w1")
        assert [m.id for m in first] == [urgent, normal]
        assert all(m.status is Status.SENDING and m.attempts == 1 for m in first)
        assert all(m.lease_until == now + timedelta(seconds=60) for m in first)
        assert all(m.claimed_by == "w1" for m in first)
        second = store.claim_batch(sender.code, 10, now, lease_seconds=60, worker="w2")
        assert [m.id for m in second] == [bulk]
        assert store.claim_batch(sender.code, 10, now, lease_seconds=60, worker="w2") == []
        due = store.claim_batch(
            sender.code, 10, now + timedelta(minutes=5), lease_seconds=60, worker="w2"
        )
        assert [m.id for m in due] == [later]

    def test_claim_is_per_sender(self, store: Store, now: datetime) -> None:
        a, b = new_sender(store, now), new_sender(store, now)
        queue(store, a, now)
        b_id = queue(store, b, now)
        assert store.ready_senders(now)[-2:] == sorted([a.code, b.code])[-2:]
        assert store.any_ready(now)
        assert [m.id for m in store.claim_batch(b.code, 10, now, lease_seconds=60, worker="w")] == [
            b_id
        ]

    def test_queue_depth_counts_queued_rows_and_the_due_ones(
        self, store: Store, now: datetime
    ) -> None:
        assert store.queue_depth(now) == (0, 0)
        sender = new_sender(store, now)
        queue(store, sender, now)
        queue(store, sender, now, send_after=now + timedelta(hours=1))
        canceled = queue(store, sender, now)
        store.cancel(canceled, now)
        # A few seconds on: sms_api stamps an Oracle row with the database's clock.
        probe = now + timedelta(seconds=5)
        assert store.queue_depth(probe) == (2, 1)
        assert store.queue_depth(now + timedelta(hours=2)) == (2, 2)

    # -- recording -----------------------------------------------------------------------

    def _submitted(self, store: Store, now: datetime, sid: str) -> int:
        sender = new_sender(store, now)
        # Due at ``now`` even when it is days ago: sms_api stamps the due time of a message
        # queued without send_after with the database's clock, not with ``now``.
        message_id = queue(store, sender, now, send_after=now)
        store.claim_batch(sender.code, 1, now, lease_seconds=60, worker="w")
        moved = store.mark_submitted(
            [SubmitResult(message_id, sid, "queued", "+14155550100", 2, "UCS-2")], now
        )
        assert moved == 1
        return message_id

    def test_mark_submitted_in_batch(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        ids = [queue(store, sender, now) for _ in range(3)]
        store.claim_batch(sender.code, 3, now, lease_seconds=60, worker="w")
        sids = [f"SM{'%032x' % (i + 7000)}" for i in ids]
        moved = store.mark_submitted(
            [
                SubmitResult(i, s, "accepted", "+14155550100", 1, "GSM-7")
                for i, s in zip(ids, sids, strict=True)
            ],
            now,
        )
        assert moved == 3
        for i, sid in zip(ids, sids, strict=True):
            message = store.get(i)
            assert message is not None
            assert (message.status, message.provider_sid, message.lease_until) == (
                Status.SUBMITTED,
                sid,
                None,
            )
            assert (message.num_segments, message.encoding) == (1, "GSM-7")
            assert store.get_by_sid(sid) == message

    def test_statuses_only_move_forward(self, store: Store, now: datetime) -> None:
        sid = "SM" + "a" * 32
        message_id = self._submitted(store, now, sid)
        later = now + timedelta(seconds=3)
        delivered, applied, _ = store.record_status(
            later,
            Status.DELIVERED,
            source="callback",
            provider_sid=sid,
            provider_status="delivered",
        )
        assert applied and delivered is not None and delivered.status is Status.DELIVERED
        assert delivered.final_at == later
        late_sent, applied, _ = store.record_status(
            later, Status.SENT, source="callback", provider_sid=sid, provider_status="sent"
        )
        assert not applied and late_sent is not None and late_sent.status is Status.DELIVERED
        events = store.events(message_id)
        assert [(e.status, e.applied) for e in events[-2:]] == [
            ("DELIVERED", True),
            ("SENT", False),
        ]

    def test_a_callback_key_is_recorded_once(self, store: Store, now: datetime) -> None:
        sid = "SM" + "e" * 32
        message_id = self._submitted(store, now, sid)
        before = len(store.events(message_id))
        key = "t:RD" + "1" * 32
        first = store.record_status(
            now, Status.SENT, source="callback", provider_sid=sid, callback_key=key
        )
        assert first.applied and not first.duplicate
        later = now + timedelta(seconds=1)
        again = store.record_status(
            later, Status.SENT, source="callback", provider_sid=sid, callback_key=key
        )
        assert again.duplicate and not again.applied
        assert again.message is not None and again.message.status is Status.SENT
        other = store.record_status(
            later, Status.DELIVERED, source="callback", provider_sid=sid, callback_key=key + "x"
        )
        assert other.applied and not other.duplicate
        events = store.events(message_id)[before:]
        assert [(e.status, e.applied) for e in events] == [("SENT", True), ("DELIVERED", True)]
        # Events without a key (bridge, sync, recovery) are never taken for duplicates.
        for _ in range(2):
            store.record_status(later, Status.DELIVERED, source="sync", provider_sid=sid)
        assert len(store.events(message_id)) == before + 4

    def test_record_status_heals_missing_sid_by_id(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        message_id = queue(store, sender, now)
        store.claim_batch(sender.code, 1, now, lease_seconds=60, worker="w")
        sid = "SM" + "b" * 32
        healed, applied, _ = store.record_status(
            now, Status.SENT, source="callback", message_id=message_id, provider_sid=sid
        )
        assert applied and healed is not None
        assert (healed.status, healed.provider_sid) == (Status.SENT, sid)
        unknown, applied, _ = store.record_status(
            now, Status.SENT, source="callback", provider_sid="SM" + "c" * 32
        )
        assert unknown is None and not applied

    def test_failure_keeps_error_code(self, store: Store, now: datetime) -> None:
        sid = "SM" + "d" * 32
        message_id = self._submitted(store, now, sid)
        store.record_status(
            now,
            Status.UNDELIVERED,
            source="callback",
            provider_sid=sid,
            provider_status="undelivered",
            error_code=30003,
            error_message="Unreachable destination handset",
        )
        message = store.get(message_id)
        assert message is not None
        assert (message.status, message.error_code) == (Status.UNDELIVERED, 30003)

    def test_requeue_finalize_release(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        a, b, c = (queue(store, sender, now) for _ in range(3))
        store.claim_batch(sender.code, 3, now, lease_seconds=60, worker="w")
        retry_at = now + timedelta(minutes=2)
        assert store.requeue(a, retry_at, now, reason="429 rate limited", error_code=20429)
        assert store.finalize(b, Status.INVALID, now, reason="fixed line", to_number="+14155550199")
        assert store.release([c], now, worker="someone else") == 0  # not theirs to give back
        assert store.release([c], now, worker="w") == 1
        ra, rb, rc = store.get(a), store.get(b), store.get(c)
        assert ra is not None and rb is not None and rc is not None
        assert (ra.status, ra.next_attempt_at, ra.error_code, ra.attempts) == (
            Status.QUEUED,
            retry_at,
            20429,
            1,
        )
        assert (rb.status, rb.status_reason, rb.to_number) == (
            Status.INVALID,
            "fixed line",
            "+14155550199",
        )
        assert (rc.status, rc.attempts) == (Status.QUEUED, 0)
        assert not store.requeue(b, retry_at, now, reason="too late")  # final stays final
        with pytest.raises(ValueError):
            store.finalize(a, Status.SENT, now)

    def test_provider_and_bridge_texts_are_cut_to_their_columns(
        self, store: Store, now: datetime
    ) -> None:
        """Twilio's error texts and the bridge's reasons are stored, cut to their columns (by
        whole characters), never refused: a delivery report must not fail on its wording."""
        sender = new_sender(store, now)
        a, b = (queue(store, sender, now) for _ in range(2))
        store.claim_batch(sender.code, 2, now, lease_seconds=60, worker="w")
        long_text = "é" * 1500 + "😀"  # over every column: 400 and 1000 characters
        assert store.requeue(a, now, now, reason=long_text, error_code=20429)
        assert store.finalize(b, Status.FAILED, now, reason=long_text, error_message=long_text)
        ra, rb = store.get(a), store.get(b)
        assert ra is not None and rb is not None
        assert ra.status_reason == "é" * 400
        assert (rb.status_reason, rb.error_message) == ("é" * 400, "é" * 1000)
        assert [e.detail for e in store.events(b)][-1] == "é" * 1000
        row, applied, _ = store.record_status(
            now, Status.UNDELIVERED, source="callback", message_id=a, error_message=long_text,
            provider_status="x" * 50,
        )  # fmt: skip
        assert row is not None and applied
        ra = store.get(a)
        assert ra is not None and ra.status is Status.UNDELIVERED
        assert (ra.error_message, ra.provider_status) == ("é" * 1000, "x" * 32)

    def test_expired_leases_and_stale_submissions(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        message_id = queue(store, sender, now)
        store.claim_batch(sender.code, 1, now, lease_seconds=30, worker="w")
        assert message_id not in [m.id for m in store.expired_leases(now + timedelta(seconds=10))]
        assert message_id in [m.id for m in store.expired_leases(now + timedelta(seconds=31))]
        sid = "SM" + "e" * 32
        submitted = self._submitted(store, now, sid)
        assert submitted not in [m.id for m in store.stale_submissions(now - timedelta(seconds=1))]
        assert submitted in [m.id for m in store.stale_submissions(now + timedelta(minutes=1))]

    def test_stale_submissions_rotate_and_give_up_on_old_rows(
        self, store: Store, now: datetime
    ) -> None:
        long_ago = now - timedelta(days=10)
        old_sent = self._submitted(store, long_ago, "SM" + "1" * 32)
        store.record_status(long_ago, Status.SENT, source="callback", message_id=old_sent)
        old_submitted = self._submitted(store, long_ago, "SM" + "4" * 32)
        first = self._submitted(store, now, "SM" + "2" * 32)
        second = self._submitted(store, now, "SM" + "3" * 32)
        later = now + timedelta(hours=1)
        store.mark_synced([old_submitted], now + timedelta(seconds=1))  # checked after them
        stale = [m.id for m in store.stale_submissions(later, limit=1)]
        assert stale == [first]  # least recently checked first
        store.mark_synced([first], later - timedelta(minutes=1))  # polled, nothing new
        assert [m.id for m in store.stale_submissions(later, limit=1)] == [second]
        everything = [m.id for m in store.stale_submissions(later, limit=10)]
        assert old_sent not in everything  # SENT for 10 days: given up
        assert old_submitted in everything  # SUBMITTED is never given up

    def test_a_callback_that_beats_the_submitted_batch_keeps_the_row_syncable(
        self, store: Store, now: datetime
    ) -> None:
        sender = new_sender(store, now)
        message_id = queue(store, sender, now)
        store.claim_batch(sender.code, 1, now, lease_seconds=60, worker="w")
        sid = "SM" + "c" * 32
        later = now + timedelta(seconds=1)
        # The "sent" callback arrives (found by the ?id= in its URL) before the worker's
        # batched SUBMITTED write; then the batch is flushed.
        _, applied, _ = store.record_status(
            later, Status.SENT, source="callback", message_id=message_id, provider_sid=sid
        )
        assert applied
        moved = store.mark_submitted(
            [SubmitResult(message_id, sid, "queued", "+14155550100", 1, "GSM-7")],
            later + timedelta(seconds=1),
        )
        assert moved == 0
        row = store.get(message_id)
        assert row is not None and row.status is Status.SENT and row.provider_sid == sid
        # Still polled by the sync job if the final callback never comes.
        assert message_id in [m.id for m in store.stale_submissions(now + timedelta(hours=1))]
        submitted = [e for e in store.events(message_id) if e.status == Status.SUBMITTED.value]
        assert [e.applied for e in submitted] == [False]  # the history says it did not apply

    def test_an_unknown_outcome_is_reconciled_only_after_its_grace(
        self, store: Store, now: datetime
    ) -> None:
        sender = new_sender(store, now)
        message_id = queue(store, sender, now)
        store.claim_batch(sender.code, 1, now, lease_seconds=300, worker="w")
        assert store.mark_unknown(
            message_id, now, "ReadTimeout", reconcile_at=now + timedelta(seconds=60)
        )
        due = [m.id for m in store.expired_leases(now + timedelta(seconds=30))]
        assert message_id not in due
        assert message_id in [m.id for m in store.expired_leases(now + timedelta(seconds=60))]

    def test_metered_claims_follow_the_senders_segment_rate(
        self, store: Store, now: datetime
    ) -> None:
        sender = new_sender(store, now)
        store.save_sender(Sender(code=sender.code, from_number=sender.from_number, mps=20.0), now)
        for _ in range(40):
            queue(store, sender, now)

        def claim(at: datetime) -> int:
            return len(
                store.claim_batch(
                    sender.code, 40, at, lease_seconds=60, worker="w", segments_of=lambda b: 1
                )
            )

        assert claim(now) == 18  # a full bucket holds 0.9 s of the rate (token_bucket.py)
        assert claim(now) == 0
        assert claim(now + timedelta(milliseconds=500)) == 10
        assert claim(now + timedelta(seconds=10)) == 12  # refilled, capped at 18; 12 were left

    def test_a_job_runs_once_for_all_workers_over_the_window_since_its_last_run(
        self, store: Store, now: datetime
    ) -> None:
        job, every = f"job{next(_codes)}", timedelta(minutes=15)
        first = store.take_job_run(job, now, every, "worker-a")
        assert first == now - every  # the very first run covers one interval
        assert store.take_job_run(job, now + timedelta(seconds=2), every, "worker-b") is None
        later = now + every
        assert store.take_job_run(job, later, every, "worker-b") == now  # from the last run on
        assert store.take_job_run(job, later, every, "worker-a") is None
        # Mail was down: the run is given back, and the next one covers its window too.
        store.give_back_job_run(job, now, later)
        assert store.take_job_run(job, later + every, every, "worker-a") == now

    # -- inbound and opt-outs ------------------------------------------------------------

    def test_insert_inbound_is_idempotent(self, store: Store, now: datetime) -> None:
        record = InboundRecord(
            message_sid="SM" + "f" * 32,
            from_number="+14155550100",
            to_number="+15005550006",
            body="YES 4821",
            keyword=None,
            raw_payload='{"Body": "YES 4821"}',
        )
        first_id, inserted = store.insert_inbound(record, now)
        again_id, again = store.insert_inbound(record, now)
        assert inserted and not again and first_id == again_id
        row = store.get_inbound(record.message_sid)
        assert row is not None and row["body"] == "YES 4821" and row["status"] == "NEW"
        assert row["raw_payload"] == '{"Body": "YES 4821"}'

    def test_optouts_by_scope(self, store: Store, now: datetime) -> None:
        number, hr, it = "+14155550177", "+15005550001", "+15005550002"
        assert not store.is_opted_out(number, hr)
        store.set_optout(number, hr, True, now, keyword="STOP")
        assert store.is_opted_out(number, hr) and not store.is_opted_out(number, it)
        store.set_optout(number, hr, False, now, keyword="START")
        assert not store.is_opted_out(number, hr)
        later = now + timedelta(seconds=1)
        store.set_optout(number, "*", True, later, keyword="STOPALL")
        assert store.is_opted_out(number, hr) and store.is_opted_out(number, it)
        store.set_optout(number, it, False, later + timedelta(seconds=1), keyword="START")
        assert store.is_opted_out(number, hr) and not store.is_opted_out(number, it)

    def test_an_older_optout_change_never_overwrites_a_newer_one(
        self, store: Store, now: datetime
    ) -> None:
        # A STOP replayed from the spool after a live START (or two webhook workers committing
        # out of arrival order) must leave the later state.
        number, hr = "+14155550178", "+15005550001"
        store.set_optout(number, hr, False, now + timedelta(seconds=5), keyword="START")
        store.set_optout(number, hr, True, now, keyword="STOP")
        assert not store.is_opted_out(number, hr)
        store.set_optout(number, hr, True, now + timedelta(seconds=6), keyword="STOP")
        assert store.is_opted_out(number, hr)

    # -- reading -------------------------------------------------------------------------

    def test_texts_too_long_for_their_columns_are_refused_before_anything_is_written(
        self, store: Store, now: datetime
    ) -> None:
        sender = Sender(code="LONGTEXT", from_number="+15005550099", description="é" * 201)
        with pytest.raises(errors.ValueTooLongError, match=r"^description is too long"):
            store.save_sender(sender, now)
        assert store.get_sender("LONGTEXT") is None
        with pytest.raises(errors.ValueTooLongError, match=r"^scope is too long"):
            store.set_optout("+14155550179", "s" * 41, True, now)
        with pytest.raises(errors.ValueTooLongError, match=r"^keyword is too long"):
            store.save_keyword(KeywordRule("K" * 31, "*", "HELP"))
        with pytest.raises(errors.ValueTooLongError, match=r"^name is too long"):
            store.create_api_key("n" * 101, "smsb_abcdefg", "h" * 64, [Scope.READ], now)
        with pytest.raises(errors.MissingValueError, match=r"^name must not be empty"):
            store.create_api_key("", "smsb_abcdefg", "h" * 64, [Scope.READ], now)
        record = InboundRecord("SM" + "e" * 32, from_number="+1" * 17, to_number="+1", body="x")
        with pytest.raises(errors.ValueTooLongError, match=r"^from_number is too long"):
            store.insert_inbound(record, now)
        assert store.get_inbound(record.message_sid) is None
        assert (count_rows(store, "sms_optouts"), count_rows(store, "sms_api_keys")) == (0, 0)

    def test_keywords_of_30_characters_in_any_script_fit(self, store: Store, now: datetime) -> None:
        # Twilio's opt-out keywords of other languages are stored as written: CHAR columns.
        keyword = "É" * 30
        store.set_optout("+14155550180", "+15005550001", True, now, keyword=keyword)
        store.save_keyword(KeywordRule(keyword, "*", "HELP", reply_text="Aide"))
        rule = store.keyword_rule(keyword, None)
        assert rule is not None and rule.keyword == keyword

    def test_list_paging_and_filters(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        ids = [
            queue(store, sender, now + timedelta(seconds=i), reference=f"R{i % 2}")
            for i in range(5)
        ]
        page1 = store.list_messages(MessageFilter(sender_code=sender.code), limit=2, offset=0)
        page3 = store.list_messages(MessageFilter(sender_code=sender.code), limit=2, offset=4)
        assert [m.id for m in page1.items] == ids[::-1][:2] and page1.has_more
        assert [m.id for m in page3.items] == [ids[0]] and not page3.has_more
        evens = store.list_messages(
            MessageFilter(sender_code=sender.code, reference="R0"), limit=10
        )
        assert [m.id for m in evens.items] == [ids[4], ids[2], ids[0]]
        store.cancel(ids[1], now)
        canceled = store.list_messages(MessageFilter(sender_code=sender.code, status="CANCELED"))
        assert [m.id for m in canceled.items] == [ids[1]]
        with pytest.raises(ValueError):
            store.list_messages(MessageFilter(), limit=0)

    def test_counts_by_status_and_sender(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        ids = [queue(store, sender, now) for _ in range(3)]
        store.cancel(ids[0], now)
        mine = {c.status: c.count for c in store.counts() if c.sender_code == sender.code}
        assert mine == {"QUEUED": 2, "CANCELED": 1}

    def test_daily_counts(self, store: Store, now: datetime) -> None:
        sender = new_sender(store, now)
        ids = [queue(store, sender, now) for _ in range(3)]
        store.cancel(ids[0], now)
        since = now - timedelta(days=1)
        mine = {
            (c.day, c.status): c.count
            for c in store.daily_counts(since)
            if c.sender_code == sender.code
        }
        today = now.strftime("%Y-%m-%d")
        assert mine == {(today, "QUEUED"): 2, (today, "CANCELED"): 1}
        later = store.daily_counts(now + timedelta(days=1))
        assert not [c for c in later if c.sender_code == sender.code]
