"""Subaccounts in the sandbox (``--subaccount SID:TOKEN:E164[,E164...]``, sandbox/accounts.py):
auth, creates, reads and webhooks per account, driven by the real twilio library against a
sandbox process of its own."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sandbox_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    HANDSET,
    NUMBER_A,
    SERVICE_NUMBERS,
    SERVICE_SID,
    Control,
    Receiver,
    SandboxProcess,
    start_sandbox,
)
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from sandbox.accounts import SubAccount
from sandbox.cli import build_parser, main, settings_from_args
from sandbox.service import Sandbox
from sandbox.settings import SandboxSettings

SUB_SID = "AC" + "5ab0acc1" * 4
SUB_TOKEN = "sub-auth-token-0123456789abcdef"
SUB_NUMBERS = ("+15017122670", "+15017122671")
OTHER_SID = "AC" + "0feb4acc" * 4
OTHER_TOKEN = "other:token-with-a-colon"
OTHER_NUMBER = "+15017122680"


class _SandboxHttp(TwilioHttpClient):
    """The twilio library's own HTTP client, sending api.twilio.com and lookups.twilio.com to
    the sandbox (as the bridge's RewritingHttpClient does), never through a proxy."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=5.0)
        self.session.trust_env = False
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        url = url.replace("https://api.twilio.com", self.base_url)
        url = url.replace("https://lookups.twilio.com", self.base_url + "/lookups")
        assert url.startswith(self.base_url), url  # nothing may leak to the real Twilio
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(scope="module")
def accounts_receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def accounts_process(accounts_receiver: Receiver) -> Iterator[SandboxProcess]:
    sp = start_sandbox(
        "--account-sid", ACCOUNT_SID,
        "--auth-token", AUTH_TOKEN,
        "--number", NUMBER_A,
        "--messaging-service", f"{SERVICE_SID}={','.join(SERVICE_NUMBERS)}",
        "--subaccount", f"{SUB_SID}:{SUB_TOKEN}:{','.join(SUB_NUMBERS)}",
        "--subaccount", f"{OTHER_SID}:{OTHER_TOKEN}:{OTHER_NUMBER}",
        "--inbound-url", accounts_receiver.url + "/inbound",
        "--accepted-delay", "0.05",
        "--queued-delay", "0.05",
        "--sending-delay", "0.05",
        "--delivery-delay", "0.05",
        "--seed", "11",
    )  # fmt: skip
    yield sp
    assert sp.stop() == 0, "the sandbox did not exit cleanly on SIGTERM"
    assert "Traceback" not in sp.log and "[ERROR]" not in sp.log, sp.log


@pytest.fixture
def ctl(accounts_process: SandboxProcess, accounts_receiver: Receiver) -> Iterator[Control]:
    c = Control(accounts_process.url)
    assert c.post("/_sandbox/reset").status_code == 200
    accounts_receiver.clear()
    yield c
    c.close()


def _client(ctl: Control, sid: str, token: str) -> Client:
    # A non-empty environment: Client(environment={}) would read os.environ (TWILIO_EDGE...).
    return Client(sid, token, http_client=_SandboxHttp(ctl.url), environment={"HOME": "/"})


@pytest.fixture
def main_client(ctl: Control) -> Client:
    return _client(ctl, ACCOUNT_SID, AUTH_TOKEN)


@pytest.fixture
def sub_client(ctl: Control) -> Client:
    return _client(ctl, SUB_SID, SUB_TOKEN)


def _rest_error(call: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as info:
        call()
    return info.value


# -- creates --------------------------------------------------------------------------------
def test_create_under_the_subaccount_from_its_number(ctl: Control, sub_client: Client) -> None:
    message = sub_client.messages.create(to=HANDSET, from_=SUB_NUMBERS[1], body="hi")
    assert message.account_sid == SUB_SID and message.from_ == SUB_NUMBERS[1]
    assert message.uri == f"/2010-04-01/Accounts/{SUB_SID}/Messages/{message.sid}.json"
    (record,) = ctl.messages(account_sid=SUB_SID)
    assert record["sid"] == message.sid and record["account_sid"] == SUB_SID
    assert ctl.messages(account_sid=ACCOUNT_SID) == []


def test_a_number_of_another_account_is_21606(main_client: Client, sub_client: Client) -> None:
    error = _rest_error(lambda: sub_client.messages.create(to=HANDSET, from_=NUMBER_A, body="x"))
    assert (error.status, error.code) == (400, 21606)
    assert NUMBER_A in error.msg
    error = _rest_error(
        lambda: main_client.messages.create(to=HANDSET, from_=SUB_NUMBERS[0], body="x")
    )
    assert (error.status, error.code) == (400, 21606)
    error = _rest_error(
        lambda: sub_client.messages.create(to=HANDSET, from_=OTHER_NUMBER, body="x")
    )
    assert (error.status, error.code) == (400, 21606)


def test_messaging_services_are_the_main_accounts_only(
    ctl: Control, main_client: Client, sub_client: Client
) -> None:
    error = _rest_error(
        lambda: sub_client.messages.create(to=HANDSET, messaging_service_sid=SERVICE_SID, body="x")
    )
    assert (error.status, error.code) == (400, 21705)
    assert ctl.messages() == []
    made = main_client.messages.create(to=HANDSET, messaging_service_sid=SERVICE_SID, body="x")
    assert made.account_sid == ACCOUNT_SID


# -- auth -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "password", "path_account"),
    [
        (ACCOUNT_SID, AUTH_TOKEN, SUB_SID),  # the main account's credentials, a sub's path
        (SUB_SID, SUB_TOKEN, ACCOUNT_SID),  # a sub's credentials, the main path
        (SUB_SID, SUB_TOKEN, OTHER_SID),  # one sub's credentials, another sub's path
        (SUB_SID, AUTH_TOKEN, SUB_SID),  # the main token for a sub
        (SUB_SID, OTHER_TOKEN, SUB_SID),  # another sub's token
    ],
)
def test_credentials_count_only_for_their_own_account(
    ctl: Control, user: str, password: str, path_account: str
) -> None:
    client = _client(ctl, user, password)
    account = client.api.v2010.accounts(path_account)
    error = _rest_error(lambda: account.fetch())
    assert (error.status, error.code) == (401, 20003)
    # A failed list page is a plain TwilioException("Unable to fetch page", response).
    with pytest.raises(TwilioException) as info:
        account.messages.list()
    assert info.value.args[1].status_code == 401
    error = _rest_error(lambda: account.messages.create(to=HANDSET, from_=NUMBER_A, body="x"))
    assert (error.status, error.code) == (401, 20003)
    assert ctl.messages() == []


def test_each_account_authenticates_on_its_own_path(ctl: Control) -> None:
    for sid, token in ((ACCOUNT_SID, AUTH_TOKEN), (SUB_SID, SUB_TOKEN), (OTHER_SID, OTHER_TOKEN)):
        assert _client(ctl, sid, token).api.v2010.accounts(sid).fetch().sid == sid


def test_lookup_accepts_any_known_accounts_credentials(ctl: Control) -> None:
    for sid, token in ((ACCOUNT_SID, AUTH_TOKEN), (SUB_SID, SUB_TOKEN), (OTHER_SID, OTHER_TOKEN)):
        number = (
            _client(ctl, sid, token)
            .lookups.v2.phone_numbers("+12025550142")
            .fetch(fields="line_type_intelligence")
        )
        assert number.line_type_intelligence["type"] == "landline"
    wrong = _client(ctl, SUB_SID, AUTH_TOKEN)
    error = _rest_error(lambda: wrong.lookups.v2.phone_numbers("+12025550142").fetch())
    assert error.status == 401


# -- reads ----------------------------------------------------------------------------------
def test_fetch_of_another_accounts_message_is_404(main_client: Client, sub_client: Client) -> None:
    sub_message = sub_client.messages.create(to=HANDSET, from_=SUB_NUMBERS[0], body="sub")
    main_message = main_client.messages.create(to=HANDSET, from_=NUMBER_A, body="main")
    assert sub_client.messages(sub_message.sid).fetch().account_sid == SUB_SID
    error = _rest_error(lambda: main_client.messages(sub_message.sid).fetch())
    assert (error.status, error.code) == (404, 20404)
    error = _rest_error(lambda: sub_client.messages(main_message.sid).fetch())
    assert (error.status, error.code) == (404, 20404)


def test_the_messages_list_is_per_account(
    ctl: Control, main_client: Client, sub_client: Client
) -> None:
    mine = {sub_client.messages.create(to=HANDSET, from_=n, body="sub").sid for n in SUB_NUMBERS}
    theirs = main_client.messages.create(to=HANDSET, from_=NUMBER_A, body="main").sid
    other = _client(ctl, OTHER_SID, OTHER_TOKEN)
    other_sid = other.messages.create(to=HANDSET, from_=OTHER_NUMBER, body="other").sid
    assert {m.sid for m in sub_client.messages.list()} == mine
    assert {m.sid for m in sub_client.messages.list(to=HANDSET)} == mine
    assert [m.sid for m in main_client.messages.list()] == [theirs]
    assert [m.sid for m in other.messages.list()] == [other_sid]
    assert len(ctl.messages()) == 4  # the control API still sees every account's


def test_numbers_and_the_account_resource_are_per_account(
    main_client: Client, sub_client: Client
) -> None:
    numbers = sub_client.incoming_phone_numbers.list()
    assert sorted(n.phone_number for n in numbers) == sorted(SUB_NUMBERS)
    assert {n.account_sid for n in numbers} == {SUB_SID}
    main_numbers = {n.phone_number for n in main_client.incoming_phone_numbers.list()}
    assert main_numbers == {NUMBER_A, *SERVICE_NUMBERS}
    account = sub_client.api.v2010.accounts(SUB_SID).fetch()
    assert account.sid == SUB_SID and account.owner_account_sid == ACCOUNT_SID
    parent = main_client.api.v2010.accounts(ACCOUNT_SID).fetch()
    assert parent.sid == parent.owner_account_sid == ACCOUNT_SID


# -- webhooks -------------------------------------------------------------------------------
def test_status_callbacks_are_signed_with_the_subaccounts_token(
    accounts_receiver: Receiver, sub_client: Client
) -> None:
    url = accounts_receiver.url + "/status?unit=sub"
    made = sub_client.messages.create(
        to=HANDSET, from_=SUB_NUMBERS[0], body="hi", status_callback=url
    )
    got = accounts_receiver.wait_for(
        lambda r: any(x.params.get("MessageStatus") == "delivered" for x in r)
    )
    assert len(got) >= 2  # sent, delivered (no callback for the initial queued)
    for callback in got:
        assert callback.params["MessageSid"] == made.sid
        assert callback.params["AccountSid"] == SUB_SID
        signature = callback.headers["X-Twilio-Signature"]
        assert RequestValidator(SUB_TOKEN).validate(callback.url, callback.params, signature)
        assert not RequestValidator(AUTH_TOKEN).validate(callback.url, callback.params, signature)


def test_main_account_callbacks_keep_the_main_token(
    accounts_receiver: Receiver, main_client: Client
) -> None:
    url = accounts_receiver.url + "/status"
    main_client.messages.create(to=HANDSET, from_=NUMBER_A, body="hi", status_callback=url)
    (first, *_) = accounts_receiver.wait_for(lambda r: len(r) >= 1)
    assert first.params["AccountSid"] == ACCOUNT_SID
    signature = first.headers["X-Twilio-Signature"]
    assert RequestValidator(AUTH_TOKEN).validate(first.url, first.params, signature)
    assert not RequestValidator(SUB_TOKEN).validate(first.url, first.params, signature)


@pytest.mark.parametrize(
    ("to", "owner", "token"),
    [
        (SUB_NUMBERS[1], SUB_SID, SUB_TOKEN),
        (OTHER_NUMBER, OTHER_SID, OTHER_TOKEN),
        (NUMBER_A, ACCOUNT_SID, AUTH_TOKEN),
    ],
)
def test_a_reply_belongs_to_the_numbers_owner(
    ctl: Control, accounts_receiver: Receiver, to: str, owner: str, token: str
) -> None:
    answer = ctl.post("/_sandbox/reply", {"from": HANDSET, "to": to, "body": "hello"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"]["account_sid"] == owner
    (got,) = accounts_receiver.wait_for(lambda r: len(r) >= 1)
    assert got.path == "/inbound" and got.params["AccountSid"] == owner
    signature = got.headers["X-Twilio-Signature"]
    assert RequestValidator(token).validate(got.url, got.params, signature)
    for sid, other_token in ((ACCOUNT_SID, AUTH_TOKEN), (SUB_SID, SUB_TOKEN)):
        if sid != owner:
            assert not RequestValidator(other_token).validate(got.url, got.params, signature)
    # The inbound message is in its owner's Messages list, and only there.
    owner_client = _client(ctl, owner, token)
    assert [m.direction for m in owner_client.messages.list()] == ["inbound"]
    if owner != SUB_SID:
        assert _client(ctl, SUB_SID, SUB_TOKEN).messages.list() == []


def test_health_reports_the_subaccounts_without_tokens(ctl: Control) -> None:
    health = ctl.get("/_sandbox/health")
    assert health["account_sid"] == ACCOUNT_SID and health["numbers"] == [
        NUMBER_A,
        *SERVICE_NUMBERS,
    ]
    assert health["subaccounts"] == [
        {"account_sid": SUB_SID, "numbers": list(SUB_NUMBERS)},
        {"account_sid": OTHER_SID, "numbers": [OTHER_NUMBER]},
    ]
    assert SUB_TOKEN not in str(health) and OTHER_TOKEN not in str(health)


# -- options and settings -------------------------------------------------------------------
def test_the_option_becomes_settings() -> None:
    args = build_parser().parse_args(
        [
            "--number", NUMBER_A,
            "--subaccount", f"{SUB_SID}:{SUB_TOKEN}:{SUB_NUMBERS[0]},{SUB_NUMBERS[1]}",
            "--subaccount", f"{OTHER_SID}:{OTHER_TOKEN}:{OTHER_NUMBER}",
        ]
    )  # fmt: skip
    settings, _ = settings_from_args(args)
    assert settings.subaccounts == (
        SubAccount(SUB_SID, SUB_TOKEN, SUB_NUMBERS),
        SubAccount(OTHER_SID, OTHER_TOKEN, (OTHER_NUMBER,)),
    )
    assert settings.token_of(OTHER_SID) == OTHER_TOKEN  # the token may contain colons
    assert settings.token_of(settings.account_sid) == settings.auth_token
    assert settings.token_of("AC" + "f" * 32) is None
    assert settings.owner_of(SUB_NUMBERS[1]) == SUB_SID
    assert settings.owner_of(NUMBER_A) == settings.account_sid
    assert settings.owner_of("+15550001111") is None
    assert settings.numbers_of(SUB_SID) == SUB_NUMBERS
    without = settings_from_args(build_parser().parse_args([]))[0]
    assert without.subaccounts == () and without.accounts() == (
        (without.account_sid, without.auth_token),
    )


@pytest.mark.parametrize(
    "spec",
    [
        f"AC123:{SUB_TOKEN}:{SUB_NUMBERS[0]}",  # not AC + 32 hex
        f"{SUB_SID}::{SUB_NUMBERS[0]}",  # no token
        f"{SUB_SID}:{SUB_TOKEN}",  # no numbers
        f"{SUB_SID}:{SUB_TOKEN}:",  # no numbers
        f"{SUB_SID}:{SUB_TOKEN}:5017122670",  # not E.164
        f"{ACCOUNT_SID}:{SUB_TOKEN}:{SUB_NUMBERS[0]}",  # the main account's SID
        f"{SUB_SID}:{SUB_TOKEN}:{NUMBER_A}",  # the main account's number
        f"{SUB_SID}:{SUB_TOKEN}:{SERVICE_NUMBERS[0]}",  # a main Messaging Service's number
        f"{SUB_SID}:{SUB_TOKEN}:{SUB_NUMBERS[0]},{SUB_NUMBERS[0]}",  # a number twice
    ],
)
def test_bad_subaccounts_exit_2(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "--account-sid", ACCOUNT_SID,
        "--number", NUMBER_A,
        "--messaging-service", f"{SERVICE_SID}={SERVICE_NUMBERS[0]}",
        "--subaccount", spec,
    ]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("sandbox: ") and "subaccount" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "second",
    [
        f"{SUB_SID}:other-token:{OTHER_NUMBER}",  # the same SID twice
        f"{OTHER_SID}:{OTHER_TOKEN}:{SUB_NUMBERS[0]}",  # one number in two subaccounts
    ],
)
def test_subaccounts_may_not_overlap(second: str) -> None:
    args = build_parser().parse_args(
        ["--subaccount", f"{SUB_SID}:{SUB_TOKEN}:{SUB_NUMBERS[0]}", "--subaccount", second]
    )
    with pytest.raises(ValueError, match="subaccount"):
        settings_from_args(args)


def test_settings_refuse_overlapping_accounts_when_built_directly() -> None:
    with pytest.raises(ValueError, match="already belongs"):
        SandboxSettings(subaccounts=(SubAccount(SUB_SID, SUB_TOKEN, ("+15005550006",)),))


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_authorized_checks_user_token_and_path_account() -> None:
    settings = SandboxSettings(subaccounts=(SubAccount(SUB_SID, SUB_TOKEN, SUB_NUMBERS),))
    sb = Sandbox(settings)  # never started: no threads
    main_sid, main_token = settings.account_sid, settings.auth_token
    assert sb.authorized(_basic(SUB_SID, SUB_TOKEN), SUB_SID)
    assert sb.authorized(_basic(main_sid, main_token), main_sid)
    assert not sb.authorized(_basic(main_sid, main_token), SUB_SID)
    assert not sb.authorized(_basic(SUB_SID, SUB_TOKEN), main_sid)
    assert not sb.authorized(_basic(SUB_SID, main_token), SUB_SID)
    assert not sb.authorized(_basic("AC" + "e" * 32, SUB_TOKEN), "AC" + "e" * 32)
    assert not sb.authorized(_basic("ACé", SUB_TOKEN), SUB_SID)  # non-ASCII: no crash
    assert sb.authorized(_basic(SUB_SID, SUB_TOKEN), None)  # Lookup: any known account
    assert not sb.authorized(_basic(SUB_SID, "nope"), None)


def test_raw_requests_see_the_same_rules(ctl: Control) -> None:
    """Without the library: the 401 carries WWW-Authenticate, the 404 Twilio's JSON."""
    http = requests.Session()
    http.trust_env = False
    base = f"{ctl.url}/2010-04-01/Accounts"
    denied = http.get(f"{base}/{SUB_SID}/Messages.json", auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert denied.status_code == 401 and denied.json()["code"] == 20003
    assert denied.headers["WWW-Authenticate"].startswith("Basic")
    made = http.post(
        f"{base}/{SUB_SID}/Messages.json",
        data={"To": HANDSET, "From": SUB_NUMBERS[0], "Body": "x"},
        auth=(SUB_SID, SUB_TOKEN),
    )
    assert made.status_code == 201 and made.json()["account_sid"] == SUB_SID
    sid = made.json()["sid"]
    missing = http.get(f"{base}/{ACCOUNT_SID}/Messages/{sid}.json", auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert missing.status_code == 404 and missing.json()["code"] == 20404
    http.close()
