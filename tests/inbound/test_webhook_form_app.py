"""Issue 11 #5: forms that pass the signature but are not shaped as Twilio's are refused.

Twilio's signature concatenates names and values with no separator, so a field boundary can
move without changing it. Each rule of bridge.replies.webhook_form through the app: 400
``bad_webhook`` naming the field, nothing stored, nothing spooled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import falcon.testing
import pytest

from bridge.config import Settings
from bridge.replies.spool import Spool
from bridge.store import Store
from inbound.app import create_app
from inbound.webhooks import InboundWebhook, StatusWebhook
from tests.inbound.conftest import (
    ACCOUNT_SID,
    PUBLIC_URL,
    count,
    inbound_form,
    new_sid,
    post_signed,
    sent_message,
    sign,
)

Form = list[tuple[str, str]]


def _set(form: Form, name: str, value: str) -> Form:
    return [(k, value if k == name else v) for k, v in form]


def _callbacks(store: Store) -> int:
    with store.dialect.transaction("count", write=False) as tx:
        return int(tx.scalar("SELECT COUNT(*) AS n FROM sms_events WHERE source = 'callback'"))


def _refused(result: falcon.testing.Result, field: str, store: Store, spool: Spool) -> None:
    assert result.status_code == 400, result.text
    assert result.json["error"] == "bad_webhook"
    assert field in result.json["message"]
    assert count(store, "sms_inbound") == 0 and _callbacks(store) == 0
    assert spool.pending() == 0


def test_a_moved_field_boundary_keeps_the_signature_but_is_refused(
    client: falcon.testing.TestClient, store: Store, spool: Spool
) -> None:
    real = inbound_form("Thanks!")
    assert post_signed(client, "/twilio/inbound", real).status_code == 200
    sid = real[0][1]
    # MessageSid=<sid>NumMedia0 and no NumMedia: the same signed string, a new "reply".
    forged = [("MessageSid", f"{sid}NumMedia0") if k == "MessageSid" else (k, v) for k, v in real]
    forged = [kv for kv in forged if kv[0] != "NumMedia"]
    url = f"{PUBLIC_URL}/twilio/inbound"
    assert sign(url, forged) == sign(url, real)
    result = post_signed(client, "/twilio/inbound", forged, signature=sign(url, real))
    assert result.status_code == 400 and result.json["error"] == "bad_webhook"
    assert "MessageSid" in result.json["message"]
    assert count(store, "sms_inbound") == 1 and spool.pending() == 0


def test_a_moved_boundary_in_a_status_callback_is_refused(
    client: falcon.testing.TestClient, store: Store, spool: Spool, now: datetime
) -> None:
    message_id = sent_message(store, now)
    sid = store.get(message_id).provider_sid  # type: ignore[union-attr]
    real = [("MessageSid", str(sid)), ("MessageStatus", "delivered"), ("SmsStatus", "delivered")]
    forged = [("MessageSid", f"{sid}MessageStatusdelivered"), ("SmsStatus", "delivered")]
    url = f"{PUBLIC_URL}/twilio/status?id={message_id}"
    assert sign(url, forged) == sign(url, real)
    result = post_signed(client, "/twilio/status", forged, query=f"id={message_id}")
    assert result.status_code == 400 and "MessageSid" in result.json["message"]
    assert _callbacks(store) == 0 and spool.pending() == 0


INBOUND_CASES: dict[str, tuple[Callable[[Form], Form], str]] = {
    "sid shape": (lambda f: _set(f, "MessageSid", "SM" + "0" * 31 + "G"), "MessageSid"),
    "sid upper hex": (lambda f: _set(f, "SmsSid", "SM" + "A" * 32), "SmsSid"),
    "sid prefix": (
        lambda f: _set(_set(f, "MessageSid", "XX" + "0" * 32), "SmsSid", "XX" + "0" * 32),
        "MessageSid",
    ),
    "sids differ": (lambda f: _set(f, "SmsSid", new_sid()), "differ"),
    "SmsMessageSid": (lambda f: [*f, ("SmsMessageSid", "MM" + "0" * 33)], "SmsMessageSid"),
    "NumMedia": (lambda f: _set(f, "NumMedia", "0NumSegments1"), "NumMedia"),
    "NumSegments": (lambda f: [*f, ("NumSegments", "-1")], "NumSegments"),
    "ErrorCode": (lambda f: [*f, ("ErrorCode", "30003x")], "ErrorCode"),
    "ApiVersion": (lambda f: [*f, ("ApiVersion", "2008-08-01")], "ApiVersion"),
    "From": (lambda f: _set(f, "From", "4155550101"), "From"),
    "To short": (lambda f: _set(f, "To", "+123456"), "To"),
    "whatsapp": (lambda f: _set(f, "From", "whatsapp:14155550101"), "From"),
    "SmsStatus": (lambda f: [*f, ("SmsStatus", "opened")], "SmsStatus"),
    "repeated": (lambda f: [*f, ("Body", "again")], "Body is repeated"),
}


@pytest.mark.parametrize("case", INBOUND_CASES)
def test_each_rule_refuses_an_inbound_form(
    client: falcon.testing.TestClient, store: Store, spool: Spool, case: str
) -> None:
    mutate, field = INBOUND_CASES[case]
    _refused(
        post_signed(client, "/twilio/inbound", mutate(inbound_form("hi"))), field, store, spool
    )


STATUS_CASES: dict[str, tuple[Form, str]] = {
    "MessageStatus": ([("MessageStatus", "done")], "MessageStatus"),
    "SmsStatus": ([("MessageStatus", "sent"), ("SmsStatus", "Sent")], "SmsStatus"),
    "ErrorCode": ([("MessageStatus", "failed"), ("ErrorCode", "3O003")], "ErrorCode"),
    "RawDlrDoneDate": ([("MessageStatus", "delivered"), ("RawDlrDoneDate", "x")], "RawDlrDoneDate"),
    "To": ([("MessageStatus", "sent"), ("To", "+1415555010199999")], "To"),
    "repeated": ([("MessageStatus", "sent"), ("MessageStatus", "delivered")], "repeated"),
}


@pytest.mark.parametrize("case", STATUS_CASES)
def test_each_rule_refuses_a_status_callback(
    client: falcon.testing.TestClient, store: Store, spool: Spool, now: datetime, case: str
) -> None:
    message_id = sent_message(store, now)
    sid = str(store.get(message_id).provider_sid)  # type: ignore[union-attr]
    extra, field = STATUS_CASES[case]
    form = [("MessageSid", sid), ("AccountSid", ACCOUNT_SID), *extra]
    _refused(
        post_signed(client, "/twilio/status", form, query=f"id={message_id}"), field, store, spool
    )


def test_a_real_shaped_form_with_every_checked_field_is_accepted(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    sid = new_sid("MM")
    form = [
        *_set(inbound_form("pic", sid=sid), "From", "whatsapp:+14155550101"),
        ("SmsMessageSid", sid),
        ("ApiVersion", "2010-04-01"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ErrorCode", ""),  # blank is absent
    ]
    assert post_signed(client, "/twilio/inbound", form).status_code == 200
    assert count(store, "sms_inbound") == 1
    message_id = sent_message(store, now)
    msid = str(store.get(message_id).provider_sid)  # type: ignore[union-attr]
    status = [
        *[("MessageSid", msid), ("SmsSid", msid), ("MessageStatus", "undelivered")],
        *[("SmsStatus", "undelivered"), ("ErrorCode", "30003"), ("RawDlrDoneDate", "3001011200")],
        *[("From", ""), ("To", "+14155550101")],  # From blank: a Messaging Service's early one
        ("AccountSid", "AC" + "0" * 32),
    ]
    assert (
        post_signed(client, "/twilio/status", status, query=f"id={message_id}").status_code == 200
    )


def _app_checking_account_sid(
    settings: Settings, store: Store, spool: Spool, now: datetime
) -> falcon.testing.TestClient:
    # The webhooks as wired with [twilio] account_sid (replacing the app's routes: the same
    # resources, given the setting).
    app = create_app(settings, store, clock=lambda: now, spool=spool)
    args = (store, settings.inbound, spool, lambda: now)
    sid = settings.twilio.account_sid
    app.add_route("/twilio/inbound", InboundWebhook(*args, account_sids={sid}))
    app.add_route("/twilio/status", StatusWebhook(*args, account_sids={sid}))
    return falcon.testing.TestClient(app)


def test_another_accounts_sid_is_refused(
    settings: Settings, store: Store, spool: Spool, now: datetime
) -> None:
    client = _app_checking_account_sid(settings, store, spool, now)
    assert post_signed(client, "/twilio/inbound", inbound_form("hi")).status_code == 200
    store_before = count(store, "sms_inbound")
    other = _set(inbound_form("hi"), "AccountSid", "AC" + "1" * 32)
    result = post_signed(client, "/twilio/inbound", other)
    assert result.status_code == 403 and result.json["error"] == "unknown_account"
    message_id = sent_message(store, now)
    sid = str(store.get(message_id).provider_sid)  # type: ignore[union-attr]
    status = [("MessageSid", sid), ("MessageStatus", "sent"), ("AccountSid", "AC" + "1" * 32)]
    result = post_signed(client, "/twilio/status", status, query=f"id={message_id}")
    assert result.status_code == 403 and result.json["error"] == "unknown_account"
    assert count(store, "sms_inbound") == store_before and _callbacks(store) == 0
    assert spool.pending() == 0


def test_the_live_app_refuses_another_accounts_webhook(tmp_path: Path) -> None:
    """create_app verifies with the token of the form's account: another account's form is
    403 (unknown_account), whatever its signature."""
    from bridge.store import open_store
    from tests.inbound.conftest import inbound_form, make_settings, post_signed

    settings = make_settings(
        tmp_path / "db.sqlite", tmp_path / "spool", account_sid="AC" + "1" * 32
    )
    store = open_store(settings.database)
    store.install(store.now())
    try:
        client = falcon.testing.TestClient(create_app(settings, store))
        answer = post_signed(client, "/twilio/inbound", inbound_form("hi"))
        assert answer.status_code == 403 and answer.json["error"] == "unknown_account"
        with store.dialect.transaction("count", write=False) as tx:
            assert tx.scalar("SELECT COUNT(*) FROM sms_inbound") == 0
    finally:
        store.close()


def test_a_reply_to_a_short_code_is_accepted() -> None:
    from bridge.replies.webhook_form import check_form

    check_form({"To": ["89361"], "From": ["+14155550100"]})  # no BadWebhook
