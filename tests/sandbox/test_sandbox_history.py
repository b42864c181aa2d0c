"""Handset texts from the past, without a webhook: the Messages list shows them as Twilio
does (direction inbound, date_sent set, newest first by date, To and DateSent filters)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox_support import HANDSET, NUMBER_A, NUMBER_B, OTHER_HANDSET, Control, Receiver


def reply(control: Control, **payload: Any) -> Any:
    return control.post("/_sandbox/reply", {"from": HANDSET, "to": NUMBER_A, **payload})


def test_backdated_replies_are_listed_by_date_and_post_no_webhook(
    control: Control,
    receiver: Receiver,
    client: Any,
    assert_twilio_message: Callable[[dict[str, Any]], None],
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    reply(control, body="today")  # live: a webhook
    for days, body in ((30, "STOP"), (400, "old STOP"), (2, "START")):
        answer = reply(
            control,
            body=body,
            webhook=False,
            date_sent=(now - timedelta(days=days)).isoformat().replace("+00:00", "Z"),
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["url"] is None and answer.json()["status"] is None
        assert_twilio_message(answer.json()["message"])
    control.post(
        "/_sandbox/reply", {"from": OTHER_HANDSET, "to": NUMBER_B, "body": "x", "webhook": False}
    )
    receiver.wait_for(lambda r: len(r) >= 1)
    assert [r.params["Body"] for r in receiver.records] == ["today"]  # only the live one
    listed = list(client.messages.stream(to=NUMBER_A, page_size=2))
    assert [m.body for m in listed] == ["today", "START", "STOP", "old STOP"]
    assert {m.direction for m in listed} == {"inbound"} and all(m.date_sent for m in listed)
    assert abs(listed[2].date_sent - (now - timedelta(days=30))) < timedelta(seconds=1)
    since = list(client.messages.stream(to=NUMBER_A, date_sent_after=now - timedelta(days=60)))
    assert [m.body for m in since] == ["today", "START", "STOP"]


def test_a_bad_date_sent_is_a_400(control: Control) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for value, says in [
        (future, "must not be in the future"),
        ("2026-01-01T09:00:00", "needs a time zone"),
        ("yesterday", "Invalid isoformat"),
    ]:
        answer = reply(control, body="STOP", date_sent=value)
        assert answer.status_code == 400 and says in answer.text, answer.text
    assert control.messages() == []
