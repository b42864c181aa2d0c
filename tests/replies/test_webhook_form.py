"""The webhook form rules (bridge.replies.webhook_form) as pure checks, and on spool replay."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from bridge.config import Settings
from bridge.replies.processing import replay_spool
from bridge.replies.spool import REJECTED, Spool
from bridge.replies.webhook_form import BadWebhook, Form, check_form
from bridge.store import Store
from tests.inbound.conftest import ACCOUNT_SID, ALICE, HR_NUMBER, count, new_sid

OTHER_ACCOUNT = "AC" + "1" * 32


def reply(sid: str | None = None, **fields: str) -> dict[str, list[str]]:
    sid = sid or new_sid()
    form = {"MessageSid": [sid], "SmsSid": [sid], "AccountSid": [ACCOUNT_SID]}
    form |= {"From": [ALICE], "To": [HR_NUMBER], "Body": ["hi"], "NumMedia": ["0"]}
    return form | {k: [v] for k, v in fields.items()}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (reply(MessageSid=new_sid() + "NumMedia0"), "MessageSid"),
        (reply(SmsMessageSid=new_sid()), "differ"),
        (reply(NumMedia="1.0"), "NumMedia"),
        (reply(ApiVersion="2010-04-02"), "ApiVersion"),
        (reply(To="+1500555000612345"), "To"),
        (reply(MessageStatus="unknown"), "MessageStatus"),
        ({**reply(), "Body": ["a", "b"]}, "Body is repeated"),
    ],
)
def test_a_form_not_shaped_as_twilios_is_refused_naming_the_field(form: Form, field: str) -> None:
    with pytest.raises(BadWebhook, match=field):
        check_form(form, account_sids={ACCOUNT_SID})


def test_the_account_sid_is_checked_only_when_configured() -> None:
    other = reply(AccountSid=OTHER_ACCOUNT)
    with pytest.raises(BadWebhook, match="AccountSid"):
        check_form(other, account_sids={ACCOUNT_SID})
    check_form(other, account_sids=())  # tests, development: no account configured
    check_form(reply(), account_sids={ACCOUNT_SID})


def test_replay_rejects_entries_twilio_would_not_send_and_applies_the_rest(
    store: Store, settings: Settings, spool: Spool, now: datetime
) -> None:
    good = reply()
    spool.append("inbound", good, now)
    spool.append("inbound", reply(MessageSid=good["MessageSid"][0] + "NumMedia0"), now)
    spool.append("inbound", reply(AccountSid=OTHER_ACCOUNT), now)
    status = {"MessageSid": [new_sid()], "MessageStatus": ["bogus"], "AccountSid": [ACCOUNT_SID]}
    spool.append("status", status, now)
    report = replay_spool(store, settings.inbound, account_sids={ACCOUNT_SID})
    assert (report.applied, report.rejected, report.remaining) == (1, 3, 0)
    assert count(store, "sms_inbound") == 1 and store.get_inbound(good["MessageSid"][0])
    rejected = Path(settings.inbound.spool_dir) / REJECTED
    reasons = [json.loads(line)["reason"] for line in rejected.read_text().splitlines()]
    assert [r.split(":")[0] for r in reasons] == ["BadWebhook"] * 3
    assert ["MessageSid" in reasons[0], "AccountSid" in reasons[1]] == [True, True]
    assert "MessageStatus" in reasons[2]
    assert spool.pending() == 0


def test_a_callback_key_is_the_token_else_sid_status_and_date_or_code() -> None:
    from bridge.replies.processing import callback_key

    sid = new_sid()
    form = {"RawDlrDoneDate": ["2603020930"], "ErrorCode": ["30003"]}
    assert callback_key(form, sid, "Delivered", " RD1 ") == "t:RD1"
    assert callback_key(form, sid, "Delivered", None) == f"s:{sid}:delivered:2603020930"
    assert callback_key({"ErrorCode": ["30003"]}, sid, "failed", "") == f"s:{sid}:failed:30003"
    assert callback_key({}, sid, "sent", None) == f"s:{sid}:sent:"
    long = callback_key({}, sid, "sent", "x" * 200)
    assert long.startswith("t:") and len(long) == 66
