"""The reply dispatcher in embedded mode: sms_keywords HANDLER rows to Python callables."""

from __future__ import annotations

from datetime import datetime

import pytest

from bridge.domain.models import InboundRecord
from bridge.replies.dispatcher import Dispatcher
from bridge.store import Store
from bridge.store.keyword_store import KeywordRule
from tests.inbound.conftest import ALICE, HR_NUMBER, IT_NUMBER, new_sid


@pytest.fixture(autouse=True)
def no_demo_rules(store: Store) -> None:
    # The demo schema routes every HR reply to the certification handler ('*' rule); these
    # tests set up their own rules.
    with store.dialect.transaction("test") as tx:
        tx.execute("DELETE FROM sms_keywords")


def reply(store: Store, now: datetime, keyword: str | None, to: str = HR_NUMBER) -> int:
    record = InboundRecord(new_sid(), ALICE, to, f"{keyword} please", keyword=keyword)
    inbound_id, inserted = store.record_inbound(record, now)
    assert inserted
    return inbound_id


def status(store: Store, inbound_id: int) -> tuple[str, str | None]:
    row = store.get_inbound_by_id(inbound_id)
    assert row is not None
    return row["status"], row["error_message"]


def test_handlers_by_keyword_and_sender(store: Store, now: datetime) -> None:
    store.save_keyword(KeywordRule("YES", "*", "HANDLER", "confirm"))
    store.save_keyword(KeywordRule("YES", "IT", "HANDLER", "it_confirm"))
    store.save_keyword(KeywordRule("DONE", "HR", "HANDLER", "broken"))
    calls: list[tuple[str, int, str | None]] = []

    def confirm(inbound_id: int) -> None:
        row = store.get_inbound_by_id(inbound_id)  # handlers may use the store themselves
        calls.append(("confirm", inbound_id, row["body"] if row else None))

    def broken(inbound_id: int) -> None:
        raise RuntimeError("HR record locked")

    dispatcher = Dispatcher(store, {"confirm": confirm, "broken": broken})
    dispatcher.register("it_confirm", lambda i: calls.append(("it_confirm", i, None)))
    hr_yes = reply(store, now, "YES")
    it_yes = reply(store, now, "YES", to=IT_NUMBER)
    done = reply(store, now, "DONE")
    done_it = reply(store, now, "DONE", to=IT_NUMBER)  # DONE is routed for HR only
    other = reply(store, now, "MAYBE")

    report = dispatcher.run_once(now)

    assert (report.processed, report.errors) == (2, 1)
    assert calls == [("confirm", hr_yes, "YES please"), ("it_confirm", it_yes, None)]
    assert status(store, hr_yes) == ("PROCESSED", None)
    assert status(store, done) == ("ERROR", "broken: RuntimeError: HR record locked")
    assert status(store, done_it) == ("NEW", None) and status(store, other) == ("NEW", None)
    assert dispatcher.run_once(now).processed == 0  # nothing is dispatched twice


def test_unknown_handler_name_is_an_error_not_a_crash(store: Store, now: datetime) -> None:
    store.save_keyword(KeywordRule("YES", "*", "HANDLER", "hr_pkg.on_yes"))
    inbound_id = reply(store, now, "YES")
    report = Dispatcher(store).run_once(now)
    assert report.errors == 1
    state, error = status(store, inbound_id)
    assert state == "ERROR" and "no Python handler registered as 'hr_pkg.on_yes'" in (error or "")


def test_import_handlers_resolves_module_function_names(store: Store, now: datetime) -> None:
    store.save_keyword(KeywordRule("YES", "*", "HANDLER", "tests.replies.handlers_fixture:record"))
    inbound_id = reply(store, now, "YES")
    from tests.replies import handlers_fixture

    handlers_fixture.SEEN.clear()
    assert Dispatcher(store, import_handlers=True).run_once(now).processed == 1
    assert [inbound_id] == handlers_fixture.SEEN


def test_procedure_handlers_need_oracle(store: Store, now: datetime) -> None:
    with pytest.raises(Exception, match="SQLite has no stored procedures"):
        store.run_procedure_handler(reply(store, now, "YES"), "hr_pkg.on_yes", now)


def test_catch_all_rule_of_a_sender_yields_to_keyword_rules(store: Store, now: datetime) -> None:
    store.save_keyword(KeywordRule("*", "HR", "HANDLER", "hr_any"))
    store.save_keyword(KeywordRule("YES", "HR", "HANDLER", "hr_yes"))
    calls: list[tuple[str, int]] = []
    dispatcher = Dispatcher(
        store,
        {
            "hr_any": lambda i: calls.append(("hr_any", i)),
            "hr_yes": lambda i: calls.append(("hr_yes", i)),
        },
    )
    yes = reply(store, now, "YES")
    question = reply(store, now, "WHEN")
    to_it = reply(store, now, "WHEN", to=IT_NUMBER)  # '*' of HR does not catch IT's replies
    assert dispatcher.run_once(now).processed == 2
    assert calls == [("hr_yes", yes), ("hr_any", question)]
    assert status(store, to_it) == ("NEW", None)


def test_a_reply_taken_by_one_dispatcher_is_not_run_by_another(store: Store, now: datetime) -> None:
    store.save_keyword(KeywordRule("YES", "*", "HANDLER", "confirm"))
    inbound_id = reply(store, now, "YES")
    calls: list[str] = []
    second = Dispatcher(store, {"confirm": lambda i: calls.append("second")})

    def first_handler(i: int) -> None:
        # While the first dispatcher runs the handler, a second one (another worker, or
        # run --once beside the daemon) sees the reply still NEW but taken: it leaves it.
        report = second.run_once(now)
        assert (report.processed, report.errors) == (0, 0)
        calls.append("first")

    first = Dispatcher(store, {"confirm": first_handler})
    assert first.run_once(now).processed == 1
    assert calls == ["first"] and status(store, inbound_id) == ("PROCESSED", None)


def test_a_reply_left_by_a_dead_dispatcher_is_taken_again_after_the_lease(
    store: Store, now: datetime
) -> None:
    from bridge.replies.dispatcher import HANDLER_LEASE

    store.save_keyword(KeywordRule("YES", "*", "HANDLER", "confirm"))
    inbound_id = reply(store, now, "YES")
    assert store.take_inbound(inbound_id, now, HANDLER_LEASE)  # ... and then it died
    assert not store.take_inbound(inbound_id, now, HANDLER_LEASE)  # a racing one loses
    calls: list[int] = []
    dispatcher = Dispatcher(store, {"confirm": calls.append})
    # Left to the holder while its lease runs: not even listed (no skipped churn every 5 s).
    assert store.handler_jobs(100, now + HANDLER_LEASE / 2, HANDLER_LEASE) == []
    report = dispatcher.run_once(now + HANDLER_LEASE / 2)
    assert (report.processed, report.skipped) == (0, 0)
    assert dispatcher.run_once(now + HANDLER_LEASE * 2).processed == 1
    assert calls == [inbound_id]


def test_a_messaging_service_senders_rule_handles_replies_matched_to_its_messages(
    store: Store, now: datetime
) -> None:
    from datetime import timedelta

    from bridge.domain.models import Sender
    from tests.inbound.conftest import sent_message

    store.save_sender(Sender(code="OPS", messaging_service_sid="MG" + "cd" * 16, mps=5), now)
    store.save_keyword(KeywordRule("*", "OPS", "HANDLER", "ops_reply"))
    outbound = sent_message(store, now, sender="OPS", ago=timedelta(minutes=1))
    # A reply to one of the service's pool numbers, matched to the OPS message.
    record = InboundRecord(
        new_sid(), ALICE, "+15017122662", "on my way", keyword="ON", outbound_id=outbound,
        match_method="LATEST",
    )  # fmt: skip
    inbound_id, _ = store.record_inbound(record, now)
    calls: list[int] = []
    assert Dispatcher(store, {"ops_reply": calls.append}).run_once(now).processed == 1
    assert calls == [inbound_id]
