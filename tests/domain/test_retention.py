"""bridge.domain.retention: what a purged row keeps (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.domain import column_sizes
from bridge.domain.retention import (
    PURGEABLE_MESSAGE_STATUSES,
    PURGEABLE_REPLY_STATUSES,
    PURGED_BODY,
    PurgeResult,
    cutoff,
    purged_event_detail,
    purged_message,
    purged_number,
    purged_reply,
)
from bridge.domain.segments import count
from bridge.domain.statuses import FINAL_STATUSES

NOW = datetime(2026, 6, 1, 3, 30, tzinfo=UTC)


def test_the_cutoff_is_the_period_before_now() -> None:
    assert cutoff(NOW, 90) == NOW - timedelta(days=90)
    with pytest.raises(ValueError, match="at least 1 day"):
        cutoff(NOW, 0)


def test_only_final_messages_and_handled_replies_are_purgeable() -> None:
    assert set(PURGEABLE_MESSAGE_STATUSES) == {s.value for s in FINAL_STATUSES}
    assert not {"QUEUED", "SENDING", "SUBMITTED", "SENT"} & set(PURGEABLE_MESSAGE_STATUSES)
    assert PURGEABLE_REPLY_STATUSES == ("PROCESSED", "IGNORED")  # never NEW, never ERROR


@pytest.mark.parametrize(
    ("number", "kept"),
    [
        ("+14155550123", "+1415*****23"),
        ("+447911123456", "+4479******56"),
        ("12345", "***45"),
        (None, None),
    ],
)
def test_a_purged_number_is_its_mask_and_masking_again_changes_nothing(
    number: str | None, kept: str | None
) -> None:
    assert purged_number(number) == kept
    assert purged_number(kept) == kept
    if kept is not None:
        assert column_sizes.column("sms_outbound", "to_number").fits(kept)
        assert column_sizes.problem("sms_inbound", "from_number", kept) is None


def test_a_purged_message_keeps_no_body_and_no_number() -> None:
    row = {
        "id": 7,
        "to_number": "+14155550123",
        "status_reason": "opted out: +1 (415) 555-0123",
        "error_message": None,
    }
    purged = purged_message(row)
    assert purged == {
        "id": 7,
        "body": PURGED_BODY,
        "to_number": "+1415*****23",
        "status_reason": "opted out: +1415*****23",
        "error_message": None,
    }
    # NOT NULL on Oracle (never ''), and the console's segment count still works on it.
    assert column_sizes.problem("sms_outbound", "body", PURGED_BODY) is None
    assert count(PURGED_BODY).segments == 1
    assert purged_message({**row, **purged}) == purged  # idempotent


def test_a_purged_reply_and_event_detail() -> None:
    reply = purged_reply({"id": 3, "from_number": "+33612345678", "error_message": "boom"})
    assert reply == {
        "id": 3,
        "body": PURGED_BODY,
        "from_number": "+3361*****78",
        "error_message": "boom",
    }
    assert purged_event_detail("claimed by host:1234") == "claimed by host:1234"
    assert purged_event_detail("The 'To' number +14155550123 is not valid") == (
        "The 'To' number +1415*****23 is not valid"
    )
    assert purged_event_detail(None) is None


def test_the_result_says_one_line_per_table() -> None:
    result = PurgeResult(NOW - timedelta(days=90), NOW - timedelta(days=30), 12, 3, 4, dry_run=True)
    lines = result.lines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "sms_outbound",
        "sms_events",
        "sms_inbound",
        "sms_number_lookups",
        "sms_optouts",
    ]
    assert lines[0].startswith(
        "sms_outbound: would purge 12 message(s) final before 2026-03-03T03:30:00Z"
    )
    assert lines[1].startswith("sms_events: would mask the numbers in 3 event detail(s)")
    assert lines[2].startswith(
        "sms_inbound: would purge 4 processed reply(ies) before 2026-05-02T03:30:00Z"
    )
    real = PurgeResult(NOW, NOW, 1, 0, 0)
    assert real.lines()[0].startswith("sms_outbound: purged 1 message(s)")
    assert real.line().startswith("retention: purged 1 message(s)")
    assert real.changed == 1
