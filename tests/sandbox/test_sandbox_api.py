"""The sandbox's Twilio REST surface, driven by the real twilio library through the adapter."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sandbox_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    HANDSET,
    NUMBER_A,
    NUMBER_B,
    OTHER_HANDSET,
    SERVICE_NUMBERS,
    SERVICE_SID,
    Control,
    Receiver,
    wait_until,
)
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator

from bridge.outbound.twilio_http import make_twilio_client

RFC2822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
FINAL = {"delivered", "undelivered", "failed"}
# Fields GET /_sandbox/messages adds to each Twilio Message.
CONTROL_EXTRAS = {"sender", "create_params", "encoding", "history"}


def wait_final(control: Control, sid: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (record,) = [m for m in control.messages() if m["sid"] == sid]
        if record["status"] in FINAL:
            return record
        time.sleep(0.02)
    raise AssertionError(f"{sid} did not reach a final status")


def test_create_answers_in_twilios_shape(
    control: Control, client: Any, assert_twilio_message: Callable[[dict[str, Any]], None]
) -> None:
    message = client.messages.create(to=HANDSET, from_=NUMBER_A, body="Your certificate expires")
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.status == "queued"
    assert message.date_sent is None and message.price is None
    assert message.num_segments == "1" and message.direction == "outbound-api"
    assert message.account_sid == ACCOUNT_SID and message.from_ == NUMBER_A
    assert re.fullmatch(
        r"RQ[0-9a-f]{32}", client.http_client.last_response_headers["Twilio-Request-Id"]
    )

    raw = control.api("POST", "/Messages.json", data={"To": HANDSET, "From": NUMBER_A, "Body": "é"})
    assert raw.status_code == 201
    body = raw.json()
    assert_twilio_message(body)
    assert RFC2822.match(body["date_created"]) and body["date_sent"] is None
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{body['sid']}.json"

    fetched = control.api("GET", f"/Messages/{message.sid}.json")
    assert fetched.status_code == 200
    assert_twilio_message(fetched.json())
    assert fetched.json()["body"] == "Your certificate expires"

    # Every create is recorded with its params.
    creates = control.requests(kind="create")
    assert [r["params"]["Body"] for r in creates] == ["Your certificate expires", "é"]
    assert all(r["status"] == 201 and r["sid"] for r in creates)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"From": NUMBER_A, "Body": "hi"}, 21604),
        ({"To": "555-1234", "From": NUMBER_A, "Body": "hi"}, 21211),
        ({"To": HANDSET, "From": "+15550000000", "Body": "hi"}, 21606),
        ({"To": HANDSET, "From": NUMBER_A, "Body": "x" * 1601}, 21617),
        ({"To": HANDSET, "From": NUMBER_A}, 21602),
        ({"To": HANDSET, "Body": "hi"}, 21603),
        ({"To": HANDSET, "From": NUMBER_A, "Body": "hi", "ValidityPeriod": "0"}, 90007),
        ({"To": HANDSET, "MessagingServiceSid": "MG" + "0" * 32, "Body": "hi"}, 21705),
        ({"To": "+15005550009", "From": NUMBER_A, "Body": "hi"}, 21614),
        ({"To": "+15005550004", "From": NUMBER_A, "Body": "hi"}, 21610),
    ],
)
def test_create_validation_errors(control: Control, params: dict[str, str], code: int) -> None:
    response = control.api("POST", "/Messages.json", data=params)
    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": response.json()["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert control.messages() == [], "a refused create must not leave a message behind"
    (logged,) = control.requests(kind="create")
    assert (logged["status"], logged["code"], logged["sid"]) == (400, code, None)


def test_errors_reach_the_library_as_twilio_rest_exceptions(client: Any) -> None:
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to="+15005550009", from_=NUMBER_A, body="landline")
    assert (info.value.status, info.value.code) == (400, 21614)
    ok = client.messages.create(to=HANDSET, from_=NUMBER_A, body="x" * 1600)
    assert ok.num_segments == "11"  # 1600 GSM-7 septets / 153 per segment


def test_bad_credentials_are_401_20003(control: Control) -> None:
    wrong = make_twilio_client(ACCOUNT_SID, "wrong", base_url=control.url, environment={})
    with pytest.raises(TwilioRestException) as info:
        wrong.messages.create(to=HANDSET, from_=NUMBER_A, body="hi")
    assert (info.value.status, info.value.code) == (401, 20003)
    # The library reports a failed list page as a plain TwilioException carrying the response.
    with pytest.raises(TwilioException) as listing:
        wrong.incoming_phone_numbers.list()
    assert listing.value.args[1].status_code == 401
    other_account = "AC" + "9" * 32  # right token, someone else's account in the path
    response = control.api("GET", "/Messages.json", auth=(other_account, AUTH_TOKEN))
    assert response.status_code == 401 and response.json()["code"] == 20003
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert control.messages() == []
    (logged,) = control.requests(kind="create")
    assert logged["authorized"] is False and logged["code"] == 20003
    wrong.http_client.session.close()


def test_unknown_message_is_404(control: Control, client: Any) -> None:
    with pytest.raises(TwilioRestException) as info:
        client.messages("SM" + "0" * 32).fetch()
    assert (info.value.status, info.value.code) == (404, 20404)


def test_lifecycle_to_delivered_with_date_sent_only_once_sent(
    control: Control, client: Any, receiver: Receiver
) -> None:
    url = receiver.url + "/status?row=42"
    created = client.messages.create(to=HANDSET, from_=NUMBER_A, body="hi", status_callback=url)
    assert created.status == "queued" and created.date_sent is None  # always checked
    seen: dict[str, Any] = {}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        m = client.messages(created.sid).fetch()
        seen.setdefault(m.status, m)
        if m.status == "delivered":
            break
    for status in ("queued", "sending", "sent"):  # priced once final, as Twilio does
        if status in seen:
            assert seen[status].price is None and seen[status].price_unit is None
    for status in ("queued", "sending"):
        if status in seen:
            assert seen[status].date_sent is None
    delivered = seen["delivered"]
    assert delivered.date_sent is not None and delivered.date_sent >= created.date_created
    assert str(delivered.price) == "-0.00790" and delivered.price_unit == "USD"
    (record,) = control.messages()
    assert [h["status"] for h in record["history"]] == ["queued", "sending", "sent", "delivered"]

    got = receiver.wait_for(lambda r: len(r) >= 2)
    assert [r.params["MessageStatus"] for r in got] == ["sent", "delivered"]
    validator = RequestValidator(AUTH_TOKEN)
    for r in got:
        assert r.path == "/status" and r.url == url
        assert validator.validate(r.url, r.params, r.headers["X-Twilio-Signature"])
        assert r.params["MessageSid"] == r.params["SmsSid"] == created.sid
        assert r.params["AccountSid"] == ACCOUNT_SID and r.params["ApiVersion"] == "2010-04-01"
        assert (r.params["From"], r.params["To"]) == (NUMBER_A, HANDSET)
        assert r.params["SmsStatus"] == r.params["MessageStatus"]
        assert "ErrorCode" not in r.params
    assert not RequestValidator("other").validate(
        url, got[0].params, got[0].headers["X-Twilio-Signature"]
    )
    # The sandbox records each callback once the receiver has answered.
    logged = wait_until(lambda: len(control.callbacks(kind="status")) == 2 and control.callbacks())
    assert [c["response_status"] for c in logged] == [200, 200]


def test_the_price_shows_after_the_final_status_as_configured_and_reset_restores_it(
    control: Control, client: Any, receiver: Receiver
) -> None:
    assert control.pricing()["per_segment"] == "0.00790"
    pricing = control.pricing(per_segment="0.05", unit="EUR", delay_seconds=0.6)
    assert pricing == {"per_segment": "0.05000", "unit": "EUR", "delay_seconds": 0.6}
    assert control.get("/_sandbox/health")["pricing"] == pricing
    created = client.messages.create(
        to=HANDSET, from_=NUMBER_A, body="x" * 200, status_callback=receiver.url + "/status"
    )
    failed = client.messages.create(to="+15005550013", from_=NUMBER_A, body="never sent")
    record = wait_final(control, created.sid)
    assert record["status"] == "delivered"
    assert record["price"] is None and record["price_unit"] is None  # not yet: final first
    priced = wait_until(lambda: client.messages(created.sid).fetch().price is not None)
    assert priced
    fetched = client.messages(created.sid).fetch()
    assert (fetched.price, fetched.price_unit) == ("-0.10000", "EUR")  # two segments, a charge
    # Status callbacks never carry the price, as Twilio's do not.
    got = receiver.wait_for(lambda r: len(r) >= 2)
    assert all(not any("rice" in k for k in r.params) for r in got)
    time.sleep(0.7)
    assert wait_final(control, failed.sid)["price"] is None  # failed: never charged

    for bad in ({"per_segment": "-1"}, {"unit": "usd"}, {"delay_seconds": -1}, {"other": 1}):
        response = control.post("/_sandbox/pricing", bad)
        assert response.status_code == 400 and "error" in response.json()
    control.post("/_sandbox/reset")
    assert control.pricing() == {"per_segment": "0.00790", "unit": "USD", "delay_seconds": 0.0}


@pytest.mark.parametrize(
    ("to", "final", "code", "callbacks"),
    [
        ("+15005550010", "undelivered", 30003, ["sent", "undelivered"]),
        ("+15005550011", "undelivered", 30005, ["sent", "undelivered"]),
        ("+15005550012", "undelivered", 30007, ["sent", "undelivered"]),
        ("+15005550013", "failed", 30008, ["failed"]),
    ],
)
def test_magic_numbers_reach_each_final_status(
    control: Control,
    client: Any,
    receiver: Receiver,
    to: str,
    final: str,
    code: int,
    callbacks: list[str],
) -> None:
    created = client.messages.create(
        to=to, from_=NUMBER_A, body="hi", status_callback=receiver.url + "/status"
    )
    record = wait_final(control, created.sid)
    assert (record["status"], record["error_code"]) == (final, code)
    assert record["error_message"]
    if final == "failed":  # never sent: no date_sent and no charge
        assert record["date_sent"] is None and record["price"] is None
    else:
        assert record["date_sent"] is not None and record["price"] == "-0.00790"
    got = receiver.wait_for(lambda r: len(r) >= len(callbacks))
    assert [r.params["MessageStatus"] for r in got] == callbacks
    assert got[-1].params["ErrorCode"] == str(code)


def test_messaging_service_send_is_accepted_then_gets_a_sender(
    control: Control,
    client: Any,
    receiver: Receiver,
    assert_twilio_message: Callable[[dict[str, Any]], None],
) -> None:
    created = client.messages.create(
        to=HANDSET,
        messaging_service_sid=SERVICE_SID,
        body="hi",
        status_callback=receiver.url + "/s",
    )
    assert created.status == "accepted" and created.from_ is None and created.num_segments == "0"
    record = wait_final(control, created.sid)
    assert_twilio_message({k: v for k, v in record.items() if k not in CONTROL_EXTRAS})
    assert record["from"] in SERVICE_NUMBERS and record["messaging_service_sid"] == SERVICE_SID
    got = receiver.wait_for(lambda r: len(r) >= 3)
    assert [r.params["MessageStatus"] for r in got] == ["queued", "sent", "delivered"]
    assert all(r.params["MessagingServiceSid"] == SERVICE_SID for r in got)


def test_a_previous_page_never_overlaps_the_page_it_precedes(control: Control, client: Any) -> None:
    sids = [client.messages.create(to=HANDSET, from_=NUMBER_A, body=f"p{i}").sid for i in range(5)]
    newest_first = sids[::-1]
    # A page that starts at the second newest (as after a new message arrived) has only the
    # newest one before it.
    params = {"To": HANDSET, "PageSize": "3", "PageToken": f"PB{newest_first[1]}"}
    raw = control.api("GET", "/Messages.json", params=params).json()
    assert [m["sid"] for m in raw["messages"]] == newest_first[:1]


def test_paging_and_filters_through_the_library(control: Control, client: Any) -> None:
    sids_a = [
        client.messages.create(to=HANDSET, from_=NUMBER_A, body=f"a{i}").sid for i in range(7)
    ]
    sids_b = [
        client.messages.create(to=OTHER_HANDSET, from_=NUMBER_B, body=f"b{i}").sid for i in range(3)
    ]
    never_sent = client.messages.create(to="+15005550013", from_=NUMBER_A, body="fails").sid

    listed = client.messages.list(to=HANDSET, page_size=3)
    assert [m.sid for m in listed] == sids_a[::-1], "newest first, all pages walked"
    list_requests = [r for r in control.requests(kind="list") if r["params"].get("To") == HANDSET]
    assert len(list_requests) == 3  # 3 + 3 + 1 through next_page_uri
    assert list_requests[1]["params"]["PageToken"].startswith("PA")

    assert [m.sid for m in client.messages.stream(from_=NUMBER_B, page_size=2)] == sids_b[::-1]
    assert len(client.messages.list(page_size=4)) == 11
    assert len(client.messages.list(limit=5, page_size=2)) == 5

    page = client.messages.page(to=HANDSET, page_size=3)
    raw = control.api("GET", "/Messages.json", params={"To": HANDSET, "PageSize": "3"}).json()
    assert raw["page"] == 0 and raw["page_size"] == 3 and raw["previous_page_uri"] is None
    assert raw["next_page_uri"].startswith(
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?To=%2B"
    )
    assert "PageSize=3&Page=1&PageToken=PA" in raw["next_page_uri"]
    second = page.next_page()
    assert [m.sid for m in second] == sids_a[::-1][3:6]
    back = second.previous_page()
    assert [m.sid for m in back] == sids_a[::-1][:3]

    for sid in sids_a + sids_b:
        wait_final(control, sid)
    today = datetime.now(UTC)
    # The days the messages were sent on (two if the test runs across UTC midnight).
    days = {client.messages(sid).fetch().date_sent.date() for sid in sids_a + sids_b}
    by_day = {m.sid for day in days for m in client.messages.list(date_sent=day)}
    assert by_day == set(sids_a + sids_b), "a message never sent has no date_sent"
    assert never_sent in {m.sid for m in client.messages.list()}
    assert client.messages.list(date_sent_before=today - timedelta(days=1)) == []
    after = client.messages.list(date_sent_after=today - timedelta(hours=1), to=OTHER_HANDSET)
    assert {m.sid for m in after} == set(sids_b)
    raw = control.api("GET", "/Messages.json", params={"DateSent>": "2999-01-01"}).json()
    assert raw["messages"] == [] and "DateSent%3E=2999-01-01" in raw["uri"]


def test_incoming_phone_numbers(control: Control, client: Any) -> None:
    numbers = client.incoming_phone_numbers.list()
    assert {n.phone_number for n in numbers} == {NUMBER_A, NUMBER_B, *SERVICE_NUMBERS}
    assert all(re.fullmatch(r"PN[0-9a-f]{32}", n.sid) for n in numbers)
    assert all(n.capabilities["sms"] for n in numbers)
    only = client.incoming_phone_numbers.list(phone_number=NUMBER_B)
    assert [n.phone_number for n in only] == [NUMBER_B]


def test_handset_reply_posts_a_signed_inbound_webhook(control: Control, receiver: Receiver) -> None:
    response = control.post(
        "/_sandbox/reply", {"from": HANDSET, "to": SERVICE_NUMBERS[0], "body": "YES 4821"}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == 200 and result["response_body"] == "<Response/>"
    (got,) = receiver.wait_for(lambda r: len(r) >= 1)
    assert got.path == "/inbound"
    assert RequestValidator(AUTH_TOKEN).validate(
        got.url, got.params, got.headers["X-Twilio-Signature"]
    )
    p = got.params
    assert p == result["params"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", p["MessageSid"])
    assert p["MessageSid"] == p["SmsMessageSid"] == p["SmsSid"]
    assert (p["From"], p["To"], p["Body"]) == (HANDSET, SERVICE_NUMBERS[0], "YES 4821")
    assert (p["AccountSid"], p["MessagingServiceSid"]) == (ACCOUNT_SID, SERVICE_SID)
    assert (p["NumMedia"], p["NumSegments"], p["SmsStatus"]) == ("0", "1", "received")
    assert p["ApiVersion"] == "2010-04-01" and p["FromCountry"] == "US"
    (inbound,) = control.messages(direction="inbound")
    assert inbound["sid"] == p["MessageSid"] and inbound["status"] == "received"
    bad = control.post("/_sandbox/reply", {"from": HANDSET, "to": "+15550001111", "body": "x"})
    assert bad.status_code == 400


def test_stop_opts_out_and_start_opts_back_in(
    control: Control, client: Any, receiver: Receiver
) -> None:
    stop = control.post(
        "/_sandbox/reply", {"from": HANDSET, "to": NUMBER_A, "body": " stop "}
    ).json()
    assert stop["params"]["OptOutType"] == "STOP"
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=HANDSET, from_=NUMBER_A, body="hi")
    assert (info.value.status, info.value.code) == (400, 21610)
    assert (
        client.messages.create(to=HANDSET, from_=NUMBER_B, body="other sender").status == "queued"
    )
    assert client.messages.create(to=OTHER_HANDSET, from_=NUMBER_A, body="other handset")

    control.post("/_sandbox/reply", {"from": HANDSET, "to": NUMBER_A, "body": "START"})
    assert client.messages.create(to=HANDSET, from_=NUMBER_A, body="back").status == "queued"

    control.post("/_sandbox/reply", {"from": HANDSET, "to": NUMBER_A, "body": "STOPALL"})
    for sender in (NUMBER_A, NUMBER_B):
        with pytest.raises(TwilioRestException) as info:
            client.messages.create(to=HANDSET, from_=sender, body="hi")
        assert info.value.code == 21610
    optouts = control.get("/_sandbox/optout")["optouts"]
    assert [(o["number"], o["scope"], o["keyword"]) for o in optouts] == [(HANDSET, "*", "STOPALL")]
    control.post("/_sandbox/reply", {"from": HANDSET, "to": NUMBER_B, "body": "unstop"})
    assert client.messages.create(to=HANDSET, from_=NUMBER_B, body="again")


def test_optout_control_api(control: Control, client: Any) -> None:
    control.post("/_sandbox/optout", {"number": OTHER_HANDSET, "sender": NUMBER_B})
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=OTHER_HANDSET, from_=NUMBER_B, body="hi")
    assert info.value.code == 21610
    control.post(
        "/_sandbox/optout", {"number": OTHER_HANDSET, "sender": NUMBER_B, "opted_out": False}
    )
    assert client.messages.create(to=OTHER_HANDSET, from_=NUMBER_B, body="hi")
    assert control.post("/_sandbox/optout", {"number": "nope"}).status_code == 400


def test_callbacks_out_of_order_and_duplicated(
    control: Control, client: Any, receiver: Receiver
) -> None:
    control.faults(callback_out_of_order_rate=1.0, callback_duplicate_rate=1.0)
    created = client.messages.create(
        to=HANDSET, from_=NUMBER_A, body="hi", status_callback=receiver.url + "/status"
    )
    got = receiver.wait_for(lambda r: len(r) >= 4)
    statuses = [r.params["MessageStatus"] for r in got]
    assert statuses == ["delivered", "delivered", "sent", "sent"]
    tokens = [r.headers["I-Twilio-Idempotency-Token"] for r in got]
    assert tokens[0] == tokens[1] and tokens[2] == tokens[3] and tokens[0] != tokens[2]
    assert all(r.params["MessageSid"] == created.sid for r in got)
    logged = wait_until(
        lambda: len(control.callbacks()) == 4 and control.callbacks(sid=created.sid)
    )
    assert [c["duplicate"] for c in logged] == [False, True, False, True]
