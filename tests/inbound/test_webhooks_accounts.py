"""Webhooks of several Twilio accounts (issue 14 #1): each form is verified with the token of
the account whose AccountSid it carries; an AccountSid the bridge does not have is 403 and
writes nothing, whatever token signed it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import falcon.testing
import pytest

from bridge.config import Secret, Settings, TwilioAccount
from bridge.replies.spool import Spool
from bridge.store import Store
from inbound.app import create_app
from tests.inbound.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    count,
    inbound_form,
    make_settings,
    post_signed,
    sent_message,
    sign,
)

HR_SID = "AC" + "a" * 32  # a business unit's subaccount, [twilio.accounts.hr]
HR_TOKEN = "hr-subaccount-token-0123456789ab"
STRANGER_SID = "AC" + "b" * 32  # an account this bridge does not have


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = make_settings(tmp_path / "db.sqlite", tmp_path / "spool")
    hr = TwilioAccount(account_sid=HR_SID, auth_token=Secret(HR_TOKEN))
    return dataclasses.replace(base, twilio=dataclasses.replace(base.twilio, accounts={"hr": hr}))


@pytest.fixture
def client(
    settings: Settings, store: Store, now: datetime, spool: Spool
) -> Iterator[falcon.testing.TestClient]:
    yield falcon.testing.TestClient(create_app(settings, store, clock=lambda: now, spool=spool))


def _with_account(form: list[tuple[str, str]], sid: str) -> list[tuple[str, str]]:
    return [(k, sid if k == "AccountSid" else v) for k, v in form]


def _post(
    client: falcon.testing.TestClient,
    path: str,
    form: Sequence[tuple[str, str]],
    token: str,
    query: str = "",
) -> falcon.testing.Result:
    url = f"{PUBLIC_URL}{path}" + (f"?{query}" if query else "")
    return post_signed(client, path, form, query=query, signature=sign(url, form, token))


def _callbacks(store: Store) -> int:
    return _scalar(store, "SELECT COUNT(*) FROM sms_events WHERE source = 'callback'")


def _scalar(store: Store, sql: str) -> int:
    with store.dialect.transaction("count", write=False) as tx:
        return int(tx.scalar(sql))


def test_each_account_signs_with_its_own_token(
    client: falcon.testing.TestClient, store: Store
) -> None:
    default = _post(client, "/twilio/inbound", inbound_form("hi"), AUTH_TOKEN)
    hr = _post(client, "/twilio/inbound", _with_account(inbound_form("hello"), HR_SID), HR_TOKEN)
    assert (default.status_code, hr.status_code) == (200, 200), hr.text
    assert count(store, "sms_inbound") == 2


@pytest.mark.parametrize(
    ("sid", "token"),
    [(HR_SID, AUTH_TOKEN), (ACCOUNT_SID, HR_TOKEN)],
    ids=["hr-form-default-token", "default-form-hr-token"],
)
def test_another_accounts_token_is_refused(
    client: falcon.testing.TestClient, store: Store, spool: Spool, sid: str, token: str
) -> None:
    result = _post(client, "/twilio/inbound", _with_account(inbound_form("hi"), sid), token)
    assert result.status_code == 403 and result.json["error"] == "bad_signature"
    assert count(store, "sms_inbound") == 0 and spool.pending() == 0


@pytest.mark.parametrize("token", [AUTH_TOKEN, HR_TOKEN], ids=["default-token", "hr-token"])
def test_an_unknown_account_sid_is_403_and_writes_nothing(
    client: falcon.testing.TestClient,
    store: Store,
    spool: Spool,
    now: datetime,
    token: str,
) -> None:
    form = _with_account(inbound_form("STOP"), STRANGER_SID)
    result = _post(client, "/twilio/inbound", form, token)
    assert result.status_code == 403 and result.json["error"] == "unknown_account"
    message_id = sent_message(store, now)
    sid = str(store.get(message_id).provider_sid)  # type: ignore[union-attr]
    status = [("MessageSid", sid), ("MessageStatus", "delivered"), ("AccountSid", STRANGER_SID)]
    result = _post(client, "/twilio/status", status, token, query=f"id={message_id}")
    assert result.status_code == 403 and result.json["error"] == "unknown_account"
    assert (
        count(store, "sms_inbound") == 0 and _scalar(store, "SELECT COUNT(*) FROM sms_optouts") == 0
    )
    assert _callbacks(store) == 0 and spool.pending() == 0


def test_a_subaccounts_status_callback_is_applied(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    message_id = sent_message(store, now)
    sid = str(store.get(message_id).provider_sid)  # type: ignore[union-attr]
    status = [("MessageSid", sid), ("MessageStatus", "delivered"), ("AccountSid", HR_SID)]
    result = _post(client, "/twilio/status", status, HR_TOKEN, query=f"id={message_id}")
    assert result.status_code == 200, result.text
    assert store.get(message_id).status.value == "DELIVERED"  # type: ignore[union-attr]
    assert _callbacks(store) == 1
