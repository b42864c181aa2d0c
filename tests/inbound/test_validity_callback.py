"""Twilio's 30036 (validity period expired) on a status callback makes the message EXPIRED
(issue 13 #1): the message never left Twilio's queue, and its purpose has passed."""

from __future__ import annotations

from datetime import datetime

import falcon.testing

from bridge.domain.statuses import Status
from bridge.store import Store
from tests.inbound.conftest import post_signed, sent_message


def callback(sid: str, status: str, error: str) -> list[tuple[str, str]]:
    return [
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("ErrorCode", error),
        ("AccountSid", "AC" + "0" * 32),
    ]


def test_a_failed_callback_with_30036_is_expired(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    expired_id, failed_id = sent_message(store, now), sent_message(store, now, employee="1002")
    for message_id, code in ((expired_id, "30036"), (failed_id, "30008")):
        row = store.get(message_id)
        assert row is not None and row.provider_sid is not None
        form = callback(row.provider_sid, "failed", code)
        assert (
            post_signed(client, "/twilio/status", form, query=f"id={message_id}").status_code == 200
        )
    expired, failed = store.get(expired_id), store.get(failed_id)
    assert expired is not None and (expired.status, expired.error_code) == (Status.EXPIRED, 30036)
    assert failed is not None and (failed.status, failed.error_code) == (Status.FAILED, 30008)
