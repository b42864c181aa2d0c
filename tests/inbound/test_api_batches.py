"""POST /sms/batch and GET /batches/{id}: one answer per item, one bad item stops no other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import falcon.testing
import pytest

from bridge.apikeys import Scope
from bridge.domain.statuses import Status
from bridge.store import Store
from tests.inbound.conftest import api_key, bearer, count


@pytest.fixture
def keys(store: Store, now: datetime) -> dict[str, str]:
    return {
        "send": api_key(store, now, "fineract", Scope.SEND, Scope.READ),
        "other": api_key(store, now, "payroll", Scope.SEND, Scope.READ),
        "read": api_key(store, now, "dashboard", Scope.READ),
        "admin": api_key(store, now, "root", Scope.ADMIN),
    }


def post_batch(client: falcon.testing.TestClient, key: str, body: Any) -> falcon.testing.Result:
    return client.simulate_post("/sms/batch", json=body, headers=bearer(key))


def test_each_item_gets_its_id_or_an_error_naming_its_index_and_field(
    client: falcon.testing.TestClient, keys: dict[str, str], store: Store
) -> None:
    before = count(store, "sms_outbound")
    items: list[Any] = [
        {"recipientType": "EMPLOYEE", "recipientId": 1001, "message": "one", "sender": "HR"},
        {"recipientType": "EMPLOYEE", "recipientId": 1002, "message": "", "sender": "HR"},
        {"clientId": 7, "message": "three", "sender": "NOPE"},
        {"staffId": 7, "message": "four", "sender": "HR", "priority": "high"},
        "not an object",
        {"staffId": 7, "message": "six", "sender": "HR", "reference": "r" * 101},
        {"staffId": 7, "message": "seven", "sender": "HR", "colour": "red"},
        {"clientId": 7, "message": "eight", "sender": "HR"},
    ]
    result = post_batch(client, keys["send"], {"items": items, "label": "July payslips"})
    assert result.status_code == 202, result.text
    body = result.json
    answers = {a["index"]: a for a in body["items"]}
    assert sorted(answers) == list(range(len(items)))
    assert {i for i, a in answers.items() if "id" in a} == {0, 7}
    fields = {i: a["error"]["field"] for i, a in answers.items() if "error" in a}
    assert fields == {
        1: "items[1].message",
        2: "items[2].sender",
        3: "items[3].priority",
        4: "items[4]",
        5: "items[5].reference",
        6: "items[6].colour",
    }
    assert answers[2]["error"]["error"] == "unknown_sender"
    assert (body["accepted"], body["rejected"]) == (2, 6)
    assert count(store, "sms_outbound") == before + 2
    summary = client.simulate_get(f"/batches/{body['batchId']}", headers=bearer(keys["send"]))
    assert summary.status_code == 200
    counts = summary.json["counts"]
    assert (counts["attempted"], counts["rejected"], counts["pending"]) == (8, 6, 2)
    assert summary.json["label"] == "July payslips"


def test_a_retried_batch_gets_the_same_ids_and_queues_nothing_twice(
    client: falcon.testing.TestClient, keys: dict[str, str], store: Store
) -> None:
    items = [
        {"clientId": 7, "message": f"loan {n}", "sender": "HR", "correlationKey": f"loan-{n}"}
        for n in range(5)
    ]
    first = post_batch(client, keys["send"], {"items": items}).json
    rows = count(store, "sms_outbound")
    again = post_batch(client, keys["send"], {"items": items}).json
    assert [a["id"] for a in again["items"]] == [a["id"] for a in first["items"]]
    assert count(store, "sms_outbound") == rows
    # Answered from the batch that holds the items: no second, empty batch.
    assert again["batchId"] == first["batchId"]
    assert count(store, "sms_batches") == 1
    # One new item among them: a new batch for it.
    grown = post_batch(
        client, keys["send"], {"items": [*items, {**items[0], "correlationKey": "new"}]}
    ).json
    assert grown["batchId"] != first["batchId"]
    summary = client.simulate_get(f"/batches/{grown['batchId']}", headers=bearer(keys["send"]))
    assert summary.json["counts"]["attempted"] == 1


def test_a_retried_item_answers_with_its_rows_status_and_a_repeated_key_is_refused(
    client: falcon.testing.TestClient, keys: dict[str, str], store: Store, now: datetime
) -> None:
    item = {"clientId": 7, "message": "loan due", "sender": "HR", "correlationKey": "loan-a"}
    (first,) = post_batch(client, keys["send"], {"items": [item]}).json["items"]
    assert first["status"] == "QUEUED"
    store.cancel(first["id"], now)
    (again,) = post_batch(client, keys["send"], {"items": [item]}).json["items"]
    assert (again["id"], again["status"]) == (first["id"], "CANCELED")

    rows = count(store, "sms_outbound")
    items = [
        {"clientId": 7, "message": "one", "sender": "HR", "correlationKey": "loan-b"},
        {"clientId": 7, "message": "two", "sender": "HR", "correlationKey": "loan-c"},
        {"clientId": 7, "message": "three", "sender": "HR", "correlationKey": "loan-b"},
    ]
    body = post_batch(client, keys["send"], {"items": items}).json
    assert (body["accepted"], body["rejected"]) == (2, 1)
    error = body["items"][2]["error"]
    assert error["error"] == "duplicate_correlation_key"
    assert error["field"] == "items[2].correlationKey"
    assert "items[0]" in error["message"]
    assert count(store, "sms_outbound") == rows + 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": []}, "items"),
        ({"items": "x"}, "items"),
        ({}, "items"),
        ({"items": [{"clientId": 7, "message": "m"}] * 1001}, "items"),
        ({"items": [{"clientId": 7, "message": "m"}], "label": ""}, "label"),
        ({"items": [{"clientId": 7, "message": "m"}], "extra": 1}, "extra"),
    ],
)
def test_a_malformed_envelope_is_400_naming_the_field_and_writes_nothing(
    client: falcon.testing.TestClient,
    keys: dict[str, str],
    store: Store,
    body: dict[str, Any],
    field: str,
) -> None:
    before = (count(store, "sms_outbound"), count(store, "sms_batches"))
    result = post_batch(client, keys["send"], body)
    assert result.status_code == 400
    assert result.json["field"] == field
    assert (count(store, "sms_outbound"), count(store, "sms_batches")) == before


def test_scopes_and_ownership(
    client: falcon.testing.TestClient, keys: dict[str, str], store: Store
) -> None:
    item = {"clientId": 7, "message": "hi", "sender": "HR"}
    assert post_batch(client, keys["read"], {"items": [item]}).status_code == 403
    batch = post_batch(client, keys["send"], {"items": [item]}).json["batchId"]
    assert (
        client.simulate_get(f"/batches/{batch}", headers=bearer(keys["other"])).status_code == 404
    )
    assert (
        client.simulate_get(f"/batches/{batch}", headers=bearer(keys["admin"])).status_code == 200
    )
    assert client.simulate_get("/batches/999999", headers=bearer(keys["admin"])).status_code == 404


def test_the_summary_follows_the_messages(
    client: falcon.testing.TestClient, keys: dict[str, str], store: Store, now: datetime
) -> None:
    items = [{"clientId": 7, "message": f"m{n}", "sender": "HR"} for n in range(3)]
    body = post_batch(client, keys["send"], {"items": items}).json
    ids = [a["id"] for a in body["items"]]
    store.finalize(ids[0], Status.INVALID, now, reason="no number")
    store.finalize(ids[1], Status.SUPPRESSED, now, reason="recipient opted out")
    counts = client.simulate_get(f"/batches/{body['batchId']}", headers=bearer(keys["send"])).json[
        "counts"
    ]
    assert (counts["invalid"], counts["unsubscribed"], counts["pending"]) == (1, 1, 1)
