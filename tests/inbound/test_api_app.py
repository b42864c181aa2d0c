"""The /sms REST API on the Falcon app in-process: auth, validation, paging, filters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import falcon.testing
import pytest

from bridge.apikeys import Scope
from bridge.domain import column_sizes
from bridge.domain.models import Sender
from bridge.store import Store
from tests.inbound.conftest import (
    ALICE,
    HR_NUMBER,
    PUBLIC_URL,
    api_key,
    bearer,
    count,
    inbound_form,
    post_signed,
    sent_message,
)


@pytest.fixture
def keys(store: Store, now: datetime) -> dict[str, str]:
    return {
        "send": api_key(store, now, "fineract", Scope.SEND, Scope.READ),
        "read": api_key(store, now, "dashboard", Scope.READ),
        "raw": api_key(store, now, "ops", Scope.SEND, Scope.READ, Scope.RAW_NUMBERS),
        "admin": api_key(store, now, "root", Scope.ADMIN),
    }


def post_sms(
    client: falcon.testing.TestClient, key: str, body: dict[str, Any]
) -> falcon.testing.Result:
    return client.simulate_post("/sms", json=body, headers=bearer(key))


# -- authentication ------------------------------------------------------------------------


def test_no_key_or_bad_key_is_401(client: falcon.testing.TestClient, keys: dict[str, str]) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer smsb_not-a-real-key-at-all-000"},
        {"Authorization": f"Basic {keys['admin']}"},
    ):
        result = client.simulate_get("/sms", headers=headers)
        assert result.status_code == 401
        assert result.headers["www-authenticate"].startswith("Bearer")
        assert result.json["error"] == "unauthorized"


def test_revoked_key_is_401(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    assert client.simulate_get("/stats", headers=bearer(keys["read"])).status_code == 200
    assert store.revoke_api_key("dashboard", now)
    assert client.simulate_get("/stats", headers=bearer(keys["read"])).status_code == 401


def test_wrong_scope_is_403_and_writes_nothing(
    client: falcon.testing.TestClient, store: Store, keys: dict[str, str]
) -> None:
    result = post_sms(client, keys["read"], {"clientId": 7, "message": "hi", "sender": "HR"})
    assert result.status_code == 403 and "send" in result.json["message"]
    assert count(store, "sms_outbound") == 0
    assert (
        post_sms(
            client, keys["admin"], {"clientId": 7, "message": "hi", "sender": "HR"}
        ).status_code
        == 202
    )


def test_only_the_hash_is_stored(store: Store, keys: dict[str, str]) -> None:
    with store.dialect.transaction("t", write=False) as tx:
        stored = " ".join(str(v) for r in tx.rows("SELECT * FROM sms_api_keys") for v in r.values())
    assert all(key not in stored for key in keys.values())
    assert all(key[:12] in stored for key in keys.values())  # the visible prefix


# -- POST /sms -----------------------------------------------------------------------------


def test_queue_by_recipient_reference(
    client: falcon.testing.TestClient, store: Store, keys: dict[str, str]
) -> None:
    result = post_sms(
        client,
        keys["send"],
        {
            "recipientType": "employee",
            "recipientId": "1001",
            "message": "Hello",
            "sender": "hr",
            "priority": 1,
            "sendAfter": "2030-01-01T09:00:00+02:00",
            "reference": "CERT-1",
            "replyCode": "4821",
        },
    )
    assert result.status_code == 202
    assert result.json["status"] == "QUEUED"
    assert result.headers["location"] == f"{PUBLIC_URL}/sms/{result.json['id']}"
    message = store.get(result.json["id"])
    assert message is not None
    assert (message.recipient_type, message.recipient_id, message.sender_code) == (
        "EMPLOYEE",
        "1001",
        "HR",
    )
    assert message.send_after is not None and message.send_after.hour == 7  # stored as UTC
    assert message.created_by == "api:fineract" and message.reply_code == "4821"


@pytest.mark.parametrize(("field", "kind"), [("clientId", "CLIENT"), ("staffId", "STAFF")])
def test_fineract_shortcuts(
    client: falcon.testing.TestClient, store: Store, keys: dict[str, str], field: str, kind: str
) -> None:
    result = post_sms(client, keys["send"], {field: 7, "message": "Loan due", "sender": "HR"})
    assert result.status_code == 202
    message = store.get(result.json["id"])
    assert message is not None and (message.recipient_type, message.recipient_id) == (kind, "7")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"clientId": 7, "staffId": 7}, "staffId"),
        ({}, "recipientId"),
        ({"recipientId": "1001", "clientId": 7}, "clientId"),
        ({"recipientType": "EMPLOYEE"}, "recipientId"),
        ({"clientId": 7, "to": "+14155550100"}, "to"),
    ],
)
def test_exactly_one_recipient(
    client: falcon.testing.TestClient,
    store: Store,
    keys: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    result = post_sms(client, keys["raw"], {**body, "message": "hi", "sender": "HR"})
    assert result.status_code == 400
    assert result.json["field"] == field
    assert count(store, "sms_outbound") == 0


def test_raw_numbers_need_their_scope(
    client: falcon.testing.TestClient, keys: dict[str, str]
) -> None:
    body = {"to": "+14155550199", "message": "hi", "sender": "HR"}
    denied = post_sms(client, keys["send"], body)
    assert (denied.status_code, denied.json["field"]) == (403, "to")
    assert post_sms(client, keys["raw"], body).status_code == 202


@pytest.mark.parametrize(
    ("body", "status", "field", "error"),
    [
        ({"clientId": 7}, 400, "message", "invalid_request"),
        ({"clientId": 7, "message": "   "}, 400, "message", "empty_body"),
        ({"clientId": 7, "message": "x" * 1601}, 400, "message", "body_too_long"),
        ({"clientId": 7, "message": "hi", "priority": 5}, 400, "priority", "bad_priority"),
        ({"clientId": 7, "message": "hi", "priority": "1"}, 400, "priority", "invalid_request"),
        (
            {"clientId": 7, "message": "hi", "sendAfter": "2030-01-01T09:00"},
            400,
            "sendAfter",
            "invalid_request",
        ),
        (
            {
                "clientId": 7,
                "message": "hi",
                "sendAfter": "2030-01-02T00:00:00Z",
                "expiresAt": "2030-01-01T00:00:00Z",
            },
            400,
            "expiresAt",
            "bad_window",
        ),
        ({"clientId": 7, "message": "hi", "colour": "red"}, 400, "colour", "unknown_field"),
        ({"clientId": 8, "message": "hi"}, 404, "clientId", "unknown_recipient"),
        ({"clientId": 7, "message": "hi", "sender": "NOPE"}, 404, "sender", "unknown_sender"),
        ({"clientId": True, "message": "hi"}, 400, "clientId", "invalid_request"),
        ({"to": "555-0100", "message": "hi"}, 400, "to", "bad_number"),
        ({"clientId": 7, "message": "hi", "replyCode": "YES"}, 400, "replyCode", "bad_reply_code"),
        (
            {"clientId": 7, "message": "hi", "replyCode": "4821-"},
            400,
            "replyCode",
            "bad_reply_code",
        ),
    ],
)
def test_validation_errors_name_the_field(
    client: falcon.testing.TestClient,
    store: Store,
    keys: dict[str, str],
    body: dict[str, Any],
    status: int,
    field: str,
    error: str,
) -> None:
    result = post_sms(client, keys["raw"], {"sender": "HR", **body})
    assert (result.status_code, result.json["field"], result.json["error"]) == (
        status,
        field,
        error,
    )
    assert result.json["message"]
    assert count(store, "sms_outbound") == 0


def test_a_correlation_key_of_100_characters_in_any_script_is_accepted(
    client: falcon.testing.TestClient, store: Store, keys: dict[str, str]
) -> None:
    # Issue 10: 128 characters, as the API says, in a CHAR column (it was 128 bytes: a key of
    # more than 43 such characters was ORA-12899 on Oracle, a 500).
    key = "ключ-" + "я" * 95
    body = {"clientId": 7, "message": "hi", "sender": "HR", "correlationKey": key}
    first = post_sms(client, keys["send"], body)
    assert first.status_code == 202, first.json
    assert post_sms(client, keys["send"], body).json["id"] == first.json["id"]  # idempotent
    message = store.get(first.json["id"])
    assert message is not None and message.correlation_key == key
    column = column_sizes.column("sms_outbound", "correlation_key")
    assert column.fits(key) and len(key.encode("utf-8")) > column.size


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"correlationKey": "я" * 129},
            "correlationKey",
            "correlationKey is too long: at most 128 characters",
        ),
        ({"reference": "r" * 101}, "reference", "reference is too long: at most 100 characters"),
        ({"clientId": "é" * 40}, "clientId", "clientId is too long: at most 64 bytes"),
    ],
)
def test_a_text_longer_than_its_column_is_400_naming_the_field(
    client: falcon.testing.TestClient,
    store: Store,
    keys: dict[str, str],
    fields: dict[str, Any],
    field: str,
    message: str,
) -> None:
    body = {"clientId": 7, "message": "hi", "sender": "HR", **fields}
    result = post_sms(client, keys["send"], body)
    assert result.status_code == 400
    assert result.json == {"error": "value_too_long", "message": message, "field": field}
    assert count(store, "sms_outbound") == 0


def test_inactive_sender_is_409(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    store.save_sender(Sender(code="OLD", from_number="+15005550009", active=False), now)
    result = post_sms(client, keys["send"], {"clientId": 7, "message": "hi", "sender": "OLD"})
    assert (result.status_code, result.json["field"]) == (409, "sender")


def test_sender_may_be_omitted_only_when_there_is_one(
    client: falcon.testing.TestClient, keys: dict[str, str]
) -> None:
    result = post_sms(client, keys["send"], {"clientId": 7, "message": "hi"})
    assert (result.status_code, result.json["field"]) == (400, "sender")  # HR and IT exist


def test_not_json_is_400_or_415(client: falcon.testing.TestClient, keys: dict[str, str]) -> None:
    headers = {**bearer(keys["send"]), "Content-Type": "application/json"}
    assert (
        client.simulate_post("/sms", body="{nope", headers=headers).json["error"] == "invalid_json"
    )
    assert client.simulate_post("/sms", body="[1]", headers=headers).status_code == 400
    text = {**bearer(keys["send"]), "Content-Type": "text/plain"}
    assert client.simulate_post("/sms", body="hi", headers=text).status_code == 415


def test_oversized_body_is_413(
    client: falcon.testing.TestClient, store: Store, keys: dict[str, str]
) -> None:
    result = post_sms(
        client, keys["send"], {"clientId": 7, "message": "x" * 70_000, "sender": "HR"}
    )
    assert (result.status_code, result.json["error"]) == (413, "too_large")
    assert count(store, "sms_outbound") == 0


def test_correlation_key_is_idempotent_per_api_key(
    client: falcon.testing.TestClient, store: Store, keys: dict[str, str]
) -> None:
    body = {"clientId": 7, "message": "Loan due", "sender": "HR", "correlationKey": "loan-42"}
    first = post_sms(client, keys["send"], body).json["id"]
    assert post_sms(client, keys["send"], body).json["id"] == first
    other_app = post_sms(client, keys["raw"], body).json["id"]
    assert other_app != first and count(store, "sms_outbound") == 2


# -- GET /sms, /sms/{id}, cancel -----------------------------------------------------------


def test_paging_is_ords_style(client: falcon.testing.TestClient, keys: dict[str, str]) -> None:
    ids = [
        post_sms(client, keys["send"], {"clientId": 7, "message": f"m{i}", "sender": "HR"}).json[
            "id"
        ]
        for i in range(5)
    ]
    page = client.simulate_get("/sms", params={"limit": 2}, headers=bearer(keys["send"])).json
    assert [m["id"] for m in page["items"]] == ids[::-1][:2]
    assert (page["hasMore"], page["limit"], page["offset"], page["count"]) == (True, 2, 0, 2)
    links = {link["rel"]: link["href"] for link in page["links"]}
    assert links["self"] == f"{PUBLIC_URL}/sms?limit=2&offset=0"
    assert links["next"] == f"{PUBLIC_URL}/sms?limit=2&offset=2"
    last = client.simulate_get(
        "/sms", params={"limit": 2, "offset": 4}, headers=bearer(keys["send"])
    ).json
    assert [m["id"] for m in last["items"]] == [ids[0]] and last["hasMore"] is False
    assert "next" not in {link["rel"] for link in last["links"]}
    bad = client.simulate_get("/sms", params={"limit": 0}, headers=bearer(keys["send"]))
    assert (bad.status_code, bad.json["field"]) == (400, "limit")


def test_filters(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    client_msg = post_sms(
        client, keys["send"], {"clientId": 7, "message": "a", "sender": "HR"}
    ).json["id"]
    staff_msg = post_sms(client, keys["send"], {"staffId": 7, "message": "b", "sender": "IT"}).json[
        "id"
    ]
    emp_msg = post_sms(
        client,
        keys["send"],
        {"recipientType": "EMPLOYEE", "recipientId": 1001, "message": "c", "sender": "HR"},
    ).json["id"]
    client.simulate_post(f"/sms/{emp_msg}/cancel", headers=bearer(keys["send"]))

    def ids(**params: Any) -> list[int]:
        result = client.simulate_get("/sms", params=params, headers=bearer(keys["send"]))
        assert result.status_code == 200, result.text
        return [m["id"] for m in result.json["items"]]

    assert ids(clientId=7) == [client_msg]
    assert ids(staffId=7) == [staff_msg]
    assert ids(recipientType="EMPLOYEE", recipientId="1001") == [emp_msg]
    assert ids(clientId=7, staffId=7) == []  # contradictory filters match nothing
    assert ids(sender="it") == [staff_msg]
    assert ids(status="CANCELED") == [emp_msg]
    assert ids(status="QUEUED", sender="HR") == [client_msg]
    later = (now + timedelta(seconds=1)).isoformat()
    assert ids(createdTo=later) == [emp_msg, staff_msg, client_msg]
    assert ids(createdFrom=later) == []
    bad = client.simulate_get("/sms", params={"status": "LOST"}, headers=bearer(keys["send"]))
    assert (bad.status_code, bad.json["field"]) == (400, "status")


def test_message_detail_has_events_and_replies(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    message_id = sent_message(store, now, created_by="api:dashboard")
    post_signed(client, "/twilio/inbound", inbound_form("DONE"))
    detail = client.simulate_get(f"/sms/{message_id}", headers=bearer(keys["read"])).json
    assert [e["status"] for e in detail["events"]] == ["QUEUED", "SENDING", "SUBMITTED"]
    assert [(r["body"], r["matchMethod"]) for r in detail["replies"]] == [("DONE", "LATEST")]
    assert detail["to"] == "+1415*****01" and detail["replies"][0]["from"] == "+1415*****01"
    raw = client.simulate_get(f"/sms/{message_id}", headers=bearer(keys["admin"])).json
    assert raw["to"] == ALICE and raw["replies"][0]["from"] == ALICE
    missing = client.simulate_get("/sms/999999", headers=bearer(keys["read"]))
    assert (missing.status_code, missing.json["error"]) == (404, "not_found")


def test_cancel(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    queued = post_sms(client, keys["send"], {"clientId": 7, "message": "a", "sender": "HR"}).json[
        "id"
    ]
    result = client.simulate_post(f"/sms/{queued}/cancel", headers=bearer(keys["send"]))
    assert (result.status_code, result.json) == (
        200,
        {"id": queued, "status": "CANCELED", "fineractStatus": "declined"},
    )
    again = client.simulate_post(f"/sms/{queued}/cancel", headers=bearer(keys["send"]))
    assert (again.status_code, again.json["error"]) == (409, "not_cancelable")
    sent = sent_message(store, now, created_by="api:fineract")
    assert (
        client.simulate_post(f"/sms/{sent}/cancel", headers=bearer(keys["send"])).status_code == 409
    )
    assert (
        client.simulate_post("/sms/424242/cancel", headers=bearer(keys["send"])).status_code == 404
    )
    assert (
        client.simulate_post(f"/sms/{queued}/cancel", headers=bearer(keys["read"])).status_code
        == 403
    )


# -- /inbound, /stats, /health, /openapi.json ----------------------------------------------


def test_inbound_collection(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    sent_message(store, now, created_by="api:dashboard")  # the replies answer its message
    for body in ("hello", "STOP", "thanks"):
        post_signed(client, "/twilio/inbound", inbound_form(body))
    page = client.simulate_get("/inbound", params={"limit": 2}, headers=bearer(keys["read"])).json
    assert [r["body"] for r in page["items"]] == ["thanks", "STOP"] and page["hasMore"] is True
    new = client.simulate_get(
        "/inbound", params={"status": "NEW"}, headers=bearer(keys["read"])
    ).json
    assert [r["body"] for r in new["items"]] == ["thanks", "hello"]
    assert new["items"][0]["to"] == HR_NUMBER and new["items"][0]["from"] == "+1415*****01"


def test_stats(client: falcon.testing.TestClient, keys: dict[str, str]) -> None:
    for sender in ("HR", "HR", "IT"):
        post_sms(client, keys["send"], {"clientId": 7, "message": "a", "sender": sender})
    stats = client.simulate_get("/stats", headers=bearer(keys["send"])).json
    assert stats["total"] == 3 and stats["byStatus"] == {"QUEUED": 3}
    assert stats["bySender"] == {"HR": 2, "IT": 1}


def test_health_and_openapi_are_public(client: falcon.testing.TestClient) -> None:
    health = client.simulate_get("/health")
    assert health.status_code == 200
    assert health.json == {
        "status": "ok",
        "database": "ok",
        "engine": "sqlite",
        "schemaVersion": 1,
        "spooled": 0,
    }
    doc = client.simulate_get("/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {
        "/twilio/inbound",
        "/twilio/status",
        "/sms",
        "/sms/{id}",
        "/sms/{id}/cancel",
        "/sms/batch",
        "/batches/{id}",
        "/inbound",
        "/stats",
        "/reports/cost",
        "/health",
        "/openapi.json",
    }


def test_unknown_route_is_json_404(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/nope")
    assert result.status_code == 404 and result.json["error"] == "not_found"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"clientId": 7, "message": "\\ud800"}, "message"),
        ({"clientId": 7, "message": "hi", "sender": "H\\udfffR"}, "sender"),
        ({"clientId": 7, "message": "hi", "reference": "r\\ud800"}, "reference"),
        ({"clientId": 7, "message": "hi", "replyCode": "A1\\ud800"}, "replyCode"),
        ({"clientId": 7, "message": "hi", "correlationKey": "k\\udc00"}, "correlationKey"),
        ({"clientId": "7\\ud800", "message": "hi"}, "clientId"),
        ({"staffId": "\\ud800", "message": "hi"}, "staffId"),
        ({"recipientType": "CLIENT\\ud800", "recipientId": "7", "message": "hi"}, "recipientType"),
        ({"recipientType": "CLIENT", "recipientId": "\\ud800", "message": "hi"}, "recipientId"),
        ({"to": "+1415555019\\ud800", "message": "hi"}, "to"),
        ({"clientId": 7, "message": "hi", "sendAfter": "2030-01-01T09:00:00\\ud800"}, "sendAfter"),
    ],
)
def test_a_lone_surrogate_in_a_text_field_is_400_naming_the_field(
    client: falcon.testing.TestClient,
    store: Store,
    keys: dict[str, str],
    fields: dict[str, Any],
    field: str,
) -> None:
    # Escaped JSON text ("\ud800") decodes to a str that cannot be encoded as UTF-8: it was a
    # 500 where the store bound it. The raw JSON is built by hand so the escape reaches us.
    members = ", ".join(
        f'"{k}": {v}' if isinstance(v, int) else f'"{k}": "{v}"'
        for k, v in {"sender": "HR", **fields}.items()
    )
    result = client.simulate_post(
        "/sms",
        body="{" + members + "}",
        headers={**bearer(keys["raw"]), "Content-Type": "application/json"},
    )
    assert result.status_code == 400, result.text
    assert (result.json["error"], result.json["field"]) == ("invalid_request", field)
    assert result.json["message"]
    assert count(store, "sms_outbound") == 0


def test_a_lone_surrogate_in_a_member_name_is_400(
    client: falcon.testing.TestClient, store: Store, keys: dict[str, str]
) -> None:
    result = client.simulate_post(
        "/sms",
        body='{"clientId": 7, "message": "hi", "sender": "HR", "x\\ud800": "y"}',
        headers={**bearer(keys["send"]), "Content-Type": "application/json"},
    )
    assert result.status_code == 400, result.text
    assert result.json["error"] in ("invalid_request", "unknown_field")
    assert count(store, "sms_outbound") == 0


def test_numbers_quoted_in_provider_texts_are_masked_without_raw_numbers(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    from bridge.domain.statuses import Status

    quoted = f"The 'To' phone number: {ALICE}, is not currently reachable"
    message_id = sent_message(store, now, created_by="api:dashboard")
    store.record_status(
        now, Status.UNDELIVERED, source="callback", message_id=message_id,
        error_code=30003, error_message=quoted, detail=quoted,
    )  # fmt: skip
    masked = "The 'To' phone number: +1415*****01, is not currently reachable"
    detail = client.simulate_get(f"/sms/{message_id}", headers=bearer(keys["read"])).json
    assert detail["errorMessage"] == masked
    assert detail["events"][-1]["detail"] == masked
    listed = client.simulate_get("/sms", headers=bearer(keys["read"])).json["items"][0]
    assert listed["errorMessage"] == masked
    assert ALICE not in str(detail) and ALICE not in str(listed)
    raw = client.simulate_get(f"/sms/{message_id}", headers=bearer(keys["admin"])).json
    assert (raw["errorMessage"], raw["events"][-1]["detail"]) == (quoted, quoted)
