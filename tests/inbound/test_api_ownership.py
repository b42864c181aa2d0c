"""Issue 11 #10: API keys own what they queue, and their correlation keys are their own.

A key without the ``admin`` scope reads, counts and cancels only the messages it queued
(created_by ``api:<name>``); another key's message is 404, as an unknown id. Its correlation
keys live in the source system ``api:<name>``, which ERP, PL/SQL and CLI callers may not use,
so a key named like an ERP source system never meets that system's rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import falcon.testing
import pytest

from bridge import errors
from bridge.apikeys import Scope, check_name, generate
from bridge.domain.models import EnqueueRequest, SubmitResult
from bridge.store import Store
from tests.inbound.conftest import (
    ALICE,
    BOB,
    api_key,
    bearer,
    count,
    inbound_form,
    new_sid,
    post_signed,
    sent_message,
)


@pytest.fixture
def keys(store: Store, now: datetime) -> dict[str, str]:
    return {
        "a": api_key(store, now, "app-a", Scope.SEND, Scope.READ),
        "b": api_key(store, now, "app-b", Scope.SEND, Scope.READ),
        "reader": api_key(store, now, "dashboard", Scope.READ),
        "admin": api_key(store, now, "root", Scope.ADMIN),
        "hr_cert": api_key(store, now, "HR_CERT", Scope.SEND, Scope.READ),
    }


def post_sms(
    client: falcon.testing.TestClient, key: str, body: dict[str, Any]
) -> falcon.testing.Result:
    return client.simulate_post("/sms", json=body, headers=bearer(key))


def queue(client: falcon.testing.TestClient, key: str, **more: Any) -> int:
    result = post_sms(client, key, {"clientId": 7, "message": "hi", "sender": "HR", **more})
    assert result.status_code == 202, result.json
    return int(result.json["id"])


def listed(client: falcon.testing.TestClient, key: str, **params: Any) -> list[int]:
    result = client.simulate_get("/sms", params=params, headers=bearer(key))
    assert result.status_code == 200, result.json
    return [m["id"] for m in result.json["items"]]


def status_of(store: Store, message_id: int) -> str:
    message = store.get(message_id)
    assert message is not None
    return message.status.value


# -- cancel --------------------------------------------------------------------------------


def test_a_send_key_cannot_cancel_a_message_another_key_queued(
    client: falcon.testing.TestClient, store: Store, keys: dict[str, str]
) -> None:
    mine = queue(client, keys["a"])
    other = client.simulate_post(f"/sms/{mine}/cancel", headers=bearer(keys["b"]))
    unknown = client.simulate_post("/sms/424242/cancel", headers=bearer(keys["b"]))
    assert other.status_code == 404 and other.json["error"] == "not_found"
    # Indistinguishable from an id that does not exist (apart from the id itself).
    assert other.json["message"] == f"no message with id {mine}"
    assert unknown.json["message"] == "no message with id 424242"
    assert status_of(store, mine) == "QUEUED"
    assert [e.status for e in store.events(mine)] == ["QUEUED"]
    own = client.simulate_post(f"/sms/{mine}/cancel", headers=bearer(keys["a"]))
    assert own.status_code == 200 and own.json["status"] == "CANCELED"


def test_an_erp_message_cannot_be_canceled_by_a_key_but_by_an_admin_key(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    erp = store.enqueue(
        EnqueueRequest(sender_code="HR", body="x", recipient_type="EMPLOYEE", recipient_id="1001"),
        now,
    )
    assert client.simulate_post(f"/sms/{erp}/cancel", headers=bearer(keys["a"])).status_code == 404
    assert status_of(store, erp) == "QUEUED"
    admin = client.simulate_post(f"/sms/{erp}/cancel", headers=bearer(keys["admin"]))
    assert admin.status_code == 200 and status_of(store, erp) == "CANCELED"


# -- reading -------------------------------------------------------------------------------


def test_a_read_key_sees_only_its_own_messages_in_lists_by_id_and_counts(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    a_ids = [queue(client, keys["a"], message=f"a{i}") for i in range(3)]
    b_id = queue(client, keys["b"])
    sent_message(store, now)  # an ERP row
    assert listed(client, keys["b"]) == [b_id]
    assert listed(client, keys["a"]) == a_ids[::-1]
    assert listed(client, keys["reader"]) == []  # it queued nothing
    # Paging counts only what the key may see: hasMore is false after its last own row.
    page = client.simulate_get("/sms", params={"limit": 2}, headers=bearer(keys["a"])).json
    assert [m["id"] for m in page["items"]] == a_ids[::-1][:2] and page["hasMore"] is True
    last = client.simulate_get(
        "/sms", params={"limit": 2, "offset": 2}, headers=bearer(keys["a"])
    ).json
    assert [m["id"] for m in last["items"]] == [a_ids[0]] and last["hasMore"] is False
    # Filters combine with ownership.
    assert listed(client, keys["b"], clientId=7, status="QUEUED") == [b_id]
    # By id: another key's message is the same 404 as an unknown id.
    other = client.simulate_get(f"/sms/{a_ids[0]}", headers=bearer(keys["b"]))
    assert other.status_code == 404 and other.json["error"] == "not_found"
    assert client.simulate_get(f"/sms/{b_id}", headers=bearer(keys["b"])).status_code == 200
    assert client.simulate_get(f"/sms/{b_id}", headers=bearer(keys["reader"])).status_code == 404
    # Counts: its own.
    stats = client.simulate_get("/stats", headers=bearer(keys["b"])).json
    assert stats["total"] == 1 and stats["byStatus"] == {"QUEUED": 1}
    assert stats["bySender"] == {"HR": 1}
    assert client.simulate_get("/stats", headers=bearer(keys["reader"])).json["total"] == 0


def test_an_admin_key_sees_every_message(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    a_id = queue(client, keys["a"])
    b_id = queue(client, keys["b"], sender="IT")
    erp = sent_message(store, now, ago=timedelta(minutes=1))
    assert set(listed(client, keys["admin"])) == {a_id, b_id, erp}
    for message_id in (a_id, b_id, erp):
        shown = client.simulate_get(f"/sms/{message_id}", headers=bearer(keys["admin"]))
        assert shown.status_code == 200
    stats = client.simulate_get("/stats", headers=bearer(keys["admin"])).json
    assert stats["total"] == 3 and stats["bySender"] == {"HR": 2, "IT": 1}
    assert [m.created_by for m in (store.get(a_id), store.get(b_id))] == [
        "api:app-a",
        "api:app-b",
    ]


def test_inbound_lists_only_replies_to_the_keys_own_messages(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    # Key a's message to Alice, sent; an ERP message to Bob, sent.
    mine = store.enqueue(
        EnqueueRequest(
            sender_code="HR",
            body="Shift tomorrow?",
            recipient_type="EMPLOYEE",
            recipient_id="1001",
            created_by="api:app-a",
        ),
        now - timedelta(hours=2),
    )
    store.claim_batch("HR", 10, now - timedelta(hours=2), lease_seconds=60, worker="t")
    store.mark_submitted([SubmitResult(mine, new_sid(), "queued", ALICE)], now - timedelta(hours=2))
    sent_message(store, now, employee="1002", number=BOB)
    for body, frm in (("yes", ALICE), ("ok", BOB), ("who is this", "+14155550199")):
        assert (
            post_signed(client, "/twilio/inbound", inbound_form(body, frm=frm)).status_code == 200
        )

    def bodies(key: str, **params: Any) -> list[str]:
        result = client.simulate_get("/inbound", params=params, headers=bearer(key))
        assert result.status_code == 200, result.json
        return [r["body"] for r in result.json["items"]]

    assert bodies(keys["a"]) == ["yes"]
    assert bodies(keys["a"], status="NEW") == ["yes"]
    assert bodies(keys["b"]) == [] and bodies(keys["reader"]) == []
    assert bodies(keys["admin"]) == ["who is this", "ok", "yes"]  # unmatched ones: admin only
    # The replies of a message it may read come with it, as before.
    detail = client.simulate_get(f"/sms/{mine}", headers=bearer(keys["a"])).json
    assert [r["body"] for r in detail["replies"]] == ["yes"]


# -- correlation keys ----------------------------------------------------------------------


def test_a_key_named_like_an_erp_source_system_gets_its_own_row(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    erp = store.enqueue(
        EnqueueRequest(
            sender_code="HR",
            body="Your certificate expires soon.",
            recipient_type="EMPLOYEE",
            recipient_id="1001",
            source_system="HR_CERT",
            correlation_key="cert-1001-2031",
            created_by="HRAPP",
        ),
        now,
    )
    before = store.get(erp)
    result = post_sms(
        client,
        keys["hr_cert"],
        {
            "clientId": 7,
            "message": "other text",
            "sender": "IT",
            "correlationKey": "cert-1001-2031",
        },
    )
    assert result.status_code == 202
    own = int(result.json["id"])
    assert own != erp and count(store, "sms_outbound") == 2
    assert store.get(erp) == before  # untouched
    shown = client.simulate_get(f"/sms/{own}", headers=bearer(keys["hr_cert"])).json
    assert shown["sourceSystem"] == "api:HR_CERT" and shown["correlationKey"] == "cert-1001-2031"
    # The ERP row is not the key's: not readable, not cancelable.
    assert client.simulate_get(f"/sms/{erp}", headers=bearer(keys["hr_cert"])).status_code == 404
    cancel = client.simulate_post(f"/sms/{erp}/cancel", headers=bearer(keys["hr_cert"]))
    assert cancel.status_code == 404 and status_of(store, erp) == "QUEUED"
    # A retry returns the key's own row; the ERP's retry its own.
    again = post_sms(
        client,
        keys["hr_cert"],
        {
            "clientId": 7,
            "message": "other text",
            "sender": "IT",
            "correlationKey": "cert-1001-2031",
        },
    )
    assert again.status_code == 202 and again.json["id"] == own
    assert (
        store.enqueue(
            EnqueueRequest(
                sender_code="HR",
                body="Your certificate expires soon.",
                recipient_type="EMPLOYEE",
                recipient_id="1001",
                source_system="HR_CERT",
                correlation_key="cert-1001-2031",
            ),
            now,
        )
        == erp
    )


def test_two_keys_with_the_same_correlation_key_get_two_rows(
    client: falcon.testing.TestClient, store: Store, keys: dict[str, str]
) -> None:
    a_id = queue(client, keys["a"], correlationKey="order-1")
    b_id = queue(client, keys["b"], correlationKey="order-1")
    assert a_id != b_id
    assert queue(client, keys["b"], correlationKey="order-1") == b_id
    assert queue(client, keys["a"], correlationKey="order-1") == a_id


@pytest.mark.parametrize("source_system", ["api:HR_CERT", "API:app-a", "Api:anything"])
def test_an_erp_enqueue_in_the_api_namespace_is_refused(
    store: Store, now: datetime, source_system: str
) -> None:
    for created_by in (None, "HRAPP", "api:someone-else"):
        with pytest.raises(errors.ReservedSourceSystemError) as refused:
            store.enqueue(
                EnqueueRequest(
                    sender_code="HR",
                    body="x",
                    recipient_type="EMPLOYEE",
                    recipient_id="1001",
                    source_system=source_system,
                    correlation_key="k-1",
                    created_by=created_by,
                ),
                now,
            )
        assert refused.value.name == "reserved_source_system"
        assert refused.value.number == -20016
        assert refused.value.message == (
            f"source system {source_system} is reserved for the REST API (api:...): use another"
            " source system"
        )
    assert count(store, "sms_outbound") == 0


def test_a_row_queued_before_the_api_namespace_is_still_found_on_retry(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    # As the API stored it before: source_system = the key's name, created_by = api:<name>.
    legacy = store.enqueue(
        EnqueueRequest(
            sender_code="HR",
            body="hi",
            recipient_type="CLIENT",
            recipient_id="7",
            source_system="app-a",
            correlation_key="order-9",
            created_by="api:app-a",
        ),
        now,
    )
    assert queue(client, keys["a"], correlationKey="order-9") == legacy
    # Not another key's, nor an ERP system's row of that name.
    assert queue(client, keys["b"], correlationKey="order-9") != legacy
    erp = store.enqueue(
        EnqueueRequest(
            sender_code="HR",
            body="hi",
            recipient_type="CLIENT",
            recipient_id="7",
            source_system="HR_CERT",
            correlation_key="order-9",
            created_by="HRAPP",
        ),
        now,
    )
    assert queue(client, keys["hr_cert"], correlationKey="order-9") not in (legacy, erp)


# -- key names -----------------------------------------------------------------------------


def test_new_key_names_have_at_most_26_characters() -> None:
    assert check_name("n" * 26) == "n" * 26
    with pytest.raises(ValueError, match="1 to 26 letters"):
        check_name("n" * 27)


def test_a_key_with_a_longer_name_from_before_still_works_but_for_correlation_keys(
    client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    name = "n" * 30  # allowed before: the store keeps accepting it
    key = generate()
    store.create_api_key(name, key.prefix, key.hash, [Scope.SEND, Scope.READ], now)
    plain = post_sms(client, key.key, {"clientId": 7, "message": "hi", "sender": "HR"})
    assert plain.status_code == 202
    assert listed(client, key.key) == [plain.json["id"]]
    refused = post_sms(
        client, key.key, {"clientId": 7, "message": "hi", "sender": "HR", "correlationKey": "k"}
    )
    assert refused.status_code == 400 and refused.json["field"] == "correlationKey"
    assert "at most 26 characters" in refused.json["message"]
    assert count(store, "sms_outbound") == 1
