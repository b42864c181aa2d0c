"""The webhooks on the Falcon app in-process: signatures, keywords, threading, status, spool."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import falcon.testing
import pytest

from bridge.config import Settings
from bridge.domain.statuses import Status
from bridge.errors import ConfigError
from bridge.replies.spool import Spool
from bridge.store import Store, open_store
from inbound.app import create_app
from tests.inbound.conftest import (
    ALICE,
    BOB,
    HELP_TEXT,
    HR_NUMBER,
    IT_NUMBER,
    PUBLIC_URL,
    count,
    inbound_form,
    make_settings,
    new_sid,
    post_signed,
    sent_message,
    sign,
)


def reply_row(store: Store, sid: str) -> dict[str, object]:
    row = store.get_inbound(sid)
    assert row is not None
    return row


# -- signatures ----------------------------------------------------------------------------


def test_valid_signature_stores_the_reply_once(
    client: falcon.testing.TestClient, store: Store
) -> None:
    form = inbound_form("Thanks!")
    for _ in range(3):
        result = post_signed(client, "/twilio/inbound", form)
        assert result.status_code == 200
        assert result.headers["content-type"].startswith("text/xml")
        assert result.text.endswith("<Response/>")
    assert count(store, "sms_inbound") == 1
    row = reply_row(store, form[0][1])
    assert row["from_number"] == ALICE and row["to_number"] == HR_NUMBER
    assert row["recipient_type"] == "EMPLOYEE" and row["recipient_id"] == "1001"
    assert json.loads(str(row["raw_payload"]))["FromCity"] == [""]


@pytest.mark.parametrize(
    "signature",
    ["", "bm90IGEgc2lnbmF0dXJl", sign(f"{PUBLIC_URL}/twilio/inbound", inbound_form("other body"))],
)
def test_bad_or_missing_signature_is_403_and_writes_nothing(
    client: falcon.testing.TestClient, store: Store, signature: str
) -> None:
    result = post_signed(client, "/twilio/inbound", inbound_form("STOP"), signature=signature)
    assert result.status_code == 403
    assert result.json["error"] == "bad_signature"
    assert count(store, "sms_inbound") == 0 and count(store, "sms_optouts") == 0


def test_repeated_keys_and_blank_values_are_signed(
    client: falcon.testing.TestClient, store: Store
) -> None:
    form = [
        *inbound_form("see pictures"),
        ("MediaUrl0", "https://a.example/1"),
        ("MediaUrl0", "https://a.example/2"),
        ("Empty", ""),
    ]
    # Signed correctly, so past the signature check; then refused (Twilio never repeats a
    # field, bridge.replies.webhook_form): 400 naming it, not 403.
    answer = post_signed(client, "/twilio/inbound", form)
    assert answer.status_code == 400 and "MediaUrl0 is repeated" in answer.json["message"]
    once = [kv for kv in form if kv != ("MediaUrl0", "https://a.example/2")]
    assert post_signed(client, "/twilio/inbound", once).status_code == 200  # blank Empty signed
    # Dropping one of the repeated values changes the signed string: refused.
    tampered_signature = sign(f"{PUBLIC_URL}/twilio/inbound", form)
    tampered = [kv for kv in form if kv != ("MediaUrl0", "https://a.example/2")]
    tampered = [("MessageSid", new_sid()) if k == "MessageSid" else (k, v) for k, v in tampered]
    result = post_signed(client, "/twilio/inbound", tampered, signature=tampered_signature)
    assert result.status_code == 403
    assert count(store, "sms_inbound") == 1


def test_signature_uses_the_public_url_not_the_host_header(
    client: falcon.testing.TestClient, store: Store
) -> None:
    form = inbound_form("hi")
    signed_for_proxy_host = sign("https://evil.example/twilio/inbound", form)
    result = post_signed(
        client,
        "/twilio/inbound",
        form,
        signature=signed_for_proxy_host,
        headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    )
    assert result.status_code == 403  # forwarded headers are not trusted by default


def test_forwarded_headers_are_honoured_when_trusted(
    tmp_path: Path, store: Store, now: datetime
) -> None:
    settings = make_settings(
        tmp_path / "inbound.db", tmp_path / "spool", trust_forwarded_headers=True
    )
    client = falcon.testing.TestClient(create_app(settings, store, clock=lambda: now))
    form = inbound_form("hi")
    result = post_signed(
        client,
        "/twilio/inbound",
        form,
        signature=sign("https://proxy.example:8443/twilio/inbound", form),
        headers={"X-Forwarded-Host": "proxy.example:8443", "X-Forwarded-Proto": "https"},
    )
    assert result.status_code == 200
    assert count(store, "sms_inbound") == 1


def test_the_forwarded_values_the_trusted_proxy_appended_win(
    tmp_path: Path, store: Store, now: datetime
) -> None:
    # An appending proxy (nginx's $proxy_add_x_forwarded_for style, Traefik, ELB) keeps what
    # the client sent and adds its own value last: the first value is the client's choice.
    settings = make_settings(
        tmp_path / "inbound.db", tmp_path / "spool", trust_forwarded_headers=True
    )
    client = falcon.testing.TestClient(create_app(settings, store, clock=lambda: now))
    form = inbound_form("hi")
    spoofed = {
        "X-Forwarded-Host": "evil.example, proxy.example:8443",
        "X-Forwarded-Proto": "http, https",
    }
    signed_for_client_choice = sign("http://evil.example/twilio/inbound", form)
    result = post_signed(
        client, "/twilio/inbound", form, signature=signed_for_client_choice, headers=spoofed
    )
    assert result.status_code == 403
    assert count(store, "sms_inbound") == 0
    result = post_signed(
        client,
        "/twilio/inbound",
        form,
        signature=sign("https://proxy.example:8443/twilio/inbound", form),
        headers=spoofed,
    )
    assert result.status_code == 200
    assert count(store, "sms_inbound") == 1


def test_disabling_signatures_needs_development_mode(tmp_path: Path, store: Store) -> None:
    settings = make_settings(tmp_path / "x.db", tmp_path / "spool", verify_signatures=False)
    with pytest.raises(ConfigError, match=r"verify_signatures.*development_mode"):
        create_app(settings, store)


def test_development_mode_skips_the_check_and_says_so(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        tmp_path / "x.db", tmp_path / "spool", verify_signatures=False, development_mode=True
    )
    client = falcon.testing.TestClient(create_app(settings, store))
    assert "SIGNATURE VERIFICATION IS OFF" in caplog.text
    assert (
        post_signed(client, "/twilio/inbound", inbound_form("hi"), signature="").status_code == 200
    )


def test_oversized_webhook_is_413(client: falcon.testing.TestClient, store: Store) -> None:
    form = inbound_form("x" * 70_000)
    assert post_signed(client, "/twilio/inbound", form).status_code == 413
    assert count(store, "sms_inbound") == 0


# -- keywords ------------------------------------------------------------------------------


def test_stop_opts_out_of_that_sender_number_and_start_re_enables(
    client: falcon.testing.TestClient, store: Store
) -> None:
    result = post_signed(client, "/twilio/inbound", inbound_form(" stop "))
    assert result.text.endswith("<Response/>")  # Twilio sends the STOP confirmation itself
    assert store.is_opted_out(ALICE, HR_NUMBER)
    assert not store.is_opted_out(ALICE, IT_NUMBER)
    stop_row = store.list_inbound().items[0]
    assert stop_row["keyword"] == "STOP" and stop_row["status"] == "PROCESSED"
    post_signed(client, "/twilio/inbound", inbound_form("START"))
    assert not store.is_opted_out(ALICE, HR_NUMBER)


def test_stopall_opts_out_of_every_sender(client: falcon.testing.TestClient, store: Store) -> None:
    post_signed(client, "/twilio/inbound", inbound_form("STOPALL"))
    assert store.is_opted_out(ALICE, HR_NUMBER) and store.is_opted_out(ALICE, IT_NUMBER)


def test_yes_is_opt_in_only_when_opted_out(client: falcon.testing.TestClient, store: Store) -> None:
    post_signed(client, "/twilio/inbound", inbound_form("YES"))
    first = store.list_inbound().items[0]
    assert first["keyword"] == "YES" and first["status"] == "NEW"  # an ordinary answer
    post_signed(client, "/twilio/inbound", inbound_form("QUIT"))
    assert store.is_opted_out(ALICE, HR_NUMBER)
    post_signed(client, "/twilio/inbound", inbound_form("yes"))
    assert not store.is_opted_out(ALICE, HR_NUMBER)
    assert store.list_inbound().items[0]["status"] == "PROCESSED"


def test_yes_after_stopall_then_start_is_an_answer_not_an_opt_in(
    client: falcon.testing.TestClient, store: Store
) -> None:
    post_signed(client, "/twilio/inbound", inbound_form("STOPALL"))
    post_signed(client, "/twilio/inbound", inbound_form("START"))
    assert not store.is_opted_out(ALICE, HR_NUMBER)  # the latest change wins for sending
    post_signed(client, "/twilio/inbound", inbound_form("YES"))
    latest = store.list_inbound().items[0]
    assert (latest["body"], latest["status"]) == ("YES", "NEW")  # reaches the handlers


def test_help_answers_with_the_senders_help_text(client: falcon.testing.TestClient) -> None:
    result = post_signed(client, "/twilio/inbound", inbound_form("Help"))
    assert result.text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        "ACME HR: questions to hr@acme.example. Reply STOP to opt out.</Message></Response>"
    )
    assert HELP_TEXT in result.text
    other = post_signed(client, "/twilio/inbound", inbound_form("INFO", to=IT_NUMBER))
    assert "<Message>Reply STOP to unsubscribe.</Message>" in other.text  # no help_text set


def test_a_retried_stop_does_not_touch_the_optout_again(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    form = inbound_form("STOP")
    post_signed(client, "/twilio/inbound", form)
    post_signed(client, "/twilio/inbound", inbound_form("START"))
    post_signed(client, "/twilio/inbound", form)  # Twilio retries the old STOP
    assert not store.is_opted_out(ALICE, HR_NUMBER)


# -- threading -----------------------------------------------------------------------------


def test_reply_matches_the_latest_message_of_that_sender(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    older = sent_message(store, now, ago=timedelta(hours=5))
    latest = sent_message(store, now, ago=timedelta(hours=2))
    sent_message(store, now, sender="IT", ago=timedelta(minutes=5))  # other sender: ignored
    form = inbound_form("done")
    post_signed(client, "/twilio/inbound", form)
    row = reply_row(store, form[0][1])
    assert (row["outbound_id"], row["match_method"]) == (latest, "LATEST")
    assert older != latest and row["keyword"] == "DONE"


def test_reference_code_wins_over_latest(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    coded = sent_message(store, now, reply_code="4821", ago=timedelta(hours=3))
    sent_message(store, now, ago=timedelta(hours=1))
    form = inbound_form("YES 4821")
    post_signed(client, "/twilio/inbound", form)
    row = reply_row(store, form[0][1])
    assert (row["outbound_id"], row["match_method"]) == (coded, "REFERENCE")


def test_a_lower_case_code_matches_its_message_by_reference(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    coded = sent_message(store, now, reply_code="ab12", ago=timedelta(hours=3))
    sent_message(store, now, ago=timedelta(hours=1))  # the latest: a guess would take it
    form = inbound_form("yes ab12")
    post_signed(client, "/twilio/inbound", form)
    row = reply_row(store, form[0][1])
    assert (row["outbound_id"], row["match_method"]) == (coded, "REFERENCE")


def test_two_coded_messages_and_no_code_is_ambiguous(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    sent_message(store, now, reply_code="1111", ago=timedelta(hours=3))
    sent_message(store, now, reply_code="2222", ago=timedelta(hours=1))
    form = inbound_form("YES")
    post_signed(client, "/twilio/inbound", form)
    row = reply_row(store, form[0][1])
    assert (row["outbound_id"], row["match_method"]) == (None, "AMBIGUOUS")
    assert row["recipient_id"] == "1001"  # the person is still known from the number


def test_nothing_in_the_window_is_none(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    sent_message(store, now, ago=timedelta(hours=60))  # window is 48 h in these settings
    form = inbound_form("ok", frm=BOB)
    post_signed(client, "/twilio/inbound", form)
    row = reply_row(store, form[0][1])
    assert (row["outbound_id"], row["match_method"]) == (None, "NONE")
    assert row["recipient_id"] == "1002"


def test_missing_fields_are_400_not_spooled(
    client: falcon.testing.TestClient, store: Store, spool: Spool
) -> None:
    form = [kv for kv in inbound_form("hi") if kv[0] != "From"]
    assert post_signed(client, "/twilio/inbound", form).status_code == 400
    assert count(store, "sms_inbound") == 0 and spool.pending() == 0


def test_a_field_longer_than_its_column_is_400_and_writes_nothing(
    tmp_path: Path, store: Store, spool: Spool, now: datetime
) -> None:
    # Without [twilio] account_sid (tests, development) nothing else bounds AccountSid: the
    # column's (VARCHAR2(64)) does.
    client = falcon.testing.TestClient(
        create_app(
            make_settings(tmp_path / "inbound.db", tmp_path / "spool", account_sid=""),
            store,
            clock=lambda: now,
            spool=spool,
        )
    )
    form = [(k, "AC" + "0" * 70 if k == "AccountSid" else v) for k, v in inbound_form("hi")]
    answer = post_signed(client, "/twilio/inbound", form)
    assert answer.status_code == 400 and answer.json["error"] == "bad_webhook"
    assert "too long: at most 64" in answer.json["message"]
    assert count(store, "sms_inbound") == 0 and spool.pending() == 0


# -- status callbacks ----------------------------------------------------------------------


def status_form(sid: str, status: str, error: str = "") -> list[tuple[str, str]]:
    return [
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("ErrorCode", error),
        ("AccountSid", "AC" + "0" * 32),
    ]


def test_out_of_order_callbacks_end_delivered(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    message_id = sent_message(store, now)
    sid = store.get(message_id).provider_sid  # type: ignore[union-attr]
    assert sid is not None
    for status in ("delivered", "sent"):
        result = post_signed(
            client, "/twilio/status", status_form(sid, status), query=f"id={message_id}"
        )
        assert result.status_code == 200
    message = store.get(message_id)
    assert message is not None and message.status is Status.DELIVERED
    events = [(e.status, e.applied) for e in store.events(message_id) if e.source == "callback"]
    assert events == [("DELIVERED", True), ("SENT", False)]


@pytest.mark.parametrize("token", [None, "RD" + "7" * 32])
def test_a_replayed_callback_is_recorded_once(
    client: falcon.testing.TestClient, store: Store, now: datetime, token: str | None
) -> None:
    message_id = sent_message(store, now)
    sid = store.get(message_id).provider_sid  # type: ignore[union-attr]
    assert sid is not None
    headers = {"I-Twilio-Idempotency-Token": token} if token else None
    for _ in range(2):
        result = post_signed(
            client,
            "/twilio/status",
            status_form(sid, "sent"),
            query=f"id={message_id}",
            headers=headers,
        )
        assert result.status_code == 200
    other = {"I-Twilio-Idempotency-Token": token + "d"} if token else None
    for _ in range(2):
        post_signed(
            client,
            "/twilio/status",
            status_form(sid, "delivered"),
            query=f"id={message_id}",
            headers=other,
        )
    events = [(e.status, e.applied) for e in store.events(message_id) if e.source == "callback"]
    assert events == [("SENT", True), ("DELIVERED", True)]


def test_a_callback_replayed_from_the_spool_after_it_was_stored_is_skipped(
    client: falcon.testing.TestClient,
    store: Store,
    settings: Settings,
    now: datetime,
    spool: Spool,
) -> None:
    from bridge.replies.processing import replay_spool

    message_id = sent_message(store, now)
    sid = store.get(message_id).provider_sid  # type: ignore[union-attr]
    assert sid is not None
    token = {"I-Twilio-Idempotency-Token": "RD" + "8" * 32}
    form = status_form(sid, "delivered")
    post_signed(client, "/twilio/status", form, query=f"id={message_id}", headers=token)
    # Twilio retried it while the database was down: the retry was spooled with its token.
    # The same callback with another form (so not an in-file duplicate) but the same token.
    spool.append(
        "status",
        {k: [v] for k, v in [*form, ("ApiVersion", "2010-04-01")]},
        now,
        query={"id": str(message_id)},
        headers=token,
    )
    spool.append(  # and again, the same entry: an in-file duplicate
        "status",
        {k: [v] for k, v in [*form, ("ApiVersion", "2010-04-01")]},
        now,
        query={"id": str(message_id)},
        headers=token,
    )
    report = replay_spool(store, settings.inbound)
    assert (report.applied, report.duplicates, report.rejected) == (0, 2, 0)
    events = [e.status for e in store.events(message_id) if e.source == "callback"]
    assert events == ["DELIVERED"]


def test_callback_with_our_id_heals_a_row_without_sid(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    from bridge.domain.models import EnqueueRequest

    message_id = store.enqueue(EnqueueRequest(sender_code="HR", body="hi", to_number=ALICE), now)
    store.claim_batch("HR", 10, now, lease_seconds=60, worker="t")  # SENDING, create timed out
    sid = new_sid()
    post_signed(client, "/twilio/status", status_form(sid, "sent"), query=f"id={message_id}")
    message = store.get(message_id)
    assert message is not None and (message.provider_sid, message.status) == (sid, Status.SENT)


def test_callback_for_unknown_message_is_acknowledged(
    client: falcon.testing.TestClient, store: Store
) -> None:
    result = post_signed(
        client, "/twilio/status", status_form(new_sid(), "delivered"), query="id=999"
    )
    assert result.status_code == 200 and count(store, "sms_events") == 0


# -- database down -------------------------------------------------------------------------


def test_database_down_spools_and_replay_applies(
    tmp_path: Path, store: Store, settings: Settings, now: datetime, spool: Spool
) -> None:
    # A store whose database directory is a regular file: it can never open (the real
    # OSError/sqlite3 error path, not a mock).
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    down = open_store(make_settings(blocker / "db.sqlite", tmp_path / "spool").database)
    client = falcon.testing.TestClient(create_app(settings, down, clock=lambda: now, spool=spool))
    forms = [inbound_form("STOP"), inbound_form("hello")]
    for form in forms:
        assert post_signed(client, "/twilio/inbound", form).text.endswith("<Response/>")
    help_result = post_signed(client, "/twilio/inbound", inbound_form("HELP"))
    assert "<Message>Reply STOP to unsubscribe.</Message>" in help_result.text
    assert client.simulate_get("/health").status_code == 503
    assert spool.pending() == 3 and count(store, "sms_inbound") == 0

    from bridge.replies.processing import replay_spool

    report = replay_spool(store, settings.inbound)
    assert (report.applied, report.remaining, report.rejected) == (3, 0, 0)
    assert count(store, "sms_inbound") == 3 and store.is_opted_out(ALICE, HR_NUMBER)
    assert spool.pending() == 0
    down.close()


def test_other_methods_on_the_webhooks_are_405_and_write_nothing(
    client: falcon.testing.TestClient, store: Store
) -> None:
    for path in ("/twilio/inbound", "/twilio/status"):
        assert client.simulate_get(path).status_code == 405
        assert client.simulate_put(path, body="Body=STOP").status_code == 405
    assert count(store, "sms_inbound") == 0


MG = "MG" + "ab" * 16
POOL_NUMBER = "+15017122662"


def test_a_messaging_service_sender_opts_out_per_service_and_threads_by_sender(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    from bridge.domain.models import Sender

    ops = Sender(code="OPS", messaging_service_sid=MG, mps=10)
    store.save_sender(ops, now)
    sent = sent_message(store, now, sender="OPS", ago=timedelta(minutes=5))

    def from_pool(body: str) -> list[tuple[str, str]]:
        return [*inbound_form(body, to=POOL_NUMBER), ("MessagingServiceSid", MG)]

    answer = from_pool("ok thanks")
    post_signed(client, "/twilio/inbound", answer)
    row = reply_row(store, answer[0][1])
    assert (row["outbound_id"], row["match_method"]) == (sent, "LATEST")  # no number, by sender
    post_signed(client, "/twilio/inbound", from_pool("STOP"))
    # Recorded under the service, which is what the worker checks for this sender's sends.
    assert ops.optout_scope == MG and store.is_opted_out(ALICE, MG)
    assert not store.is_opted_out(ALICE, POOL_NUMBER) and not store.is_opted_out(ALICE, HR_NUMBER)


def test_a_sender_with_a_number_and_a_service_is_checked_by_its_service() -> None:
    from bridge.domain.models import Sender

    # The gateway sends through the service when a sender has both, so Twilio's opt-outs
    # (and 21610) are per service.
    assert Sender(code="X", from_number=HR_NUMBER, messaging_service_sid=MG).optout_scope == MG
    assert Sender(code="Y", from_number=HR_NUMBER).optout_scope == HR_NUMBER


def test_stop_with_a_zero_width_space_opts_out(
    client: falcon.testing.TestClient, store: Store
) -> None:
    # Issue 11: an invisible U+200B after STOP must not turn the opt-out into an answer.
    form = inbound_form("STOP\u200b")
    post_signed(client, "/twilio/inbound", form)
    assert store.is_opted_out(ALICE, HR_NUMBER)
    assert count(store, "sms_optouts") == 1
    row = reply_row(store, form[0][1])
    assert row["keyword"] == "STOP" and row["status"] == "PROCESSED"
