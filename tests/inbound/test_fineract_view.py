"""Apache Fineract's recipients through the shipped default view (issue 13 #2): clientId and
staffId need no site view (the demo tables fin_demo_clients / fin_demo_staff), GET /sms filters
by them, and every message shows Fineract's status beside ours."""

from __future__ import annotations

from datetime import datetime

import falcon.testing
import pytest

from bridge.apikeys import Scope
from bridge.domain.statuses import FINERACT_STATUS, Status
from bridge.store import Store
from tests.inbound.conftest import api_key, bearer


@pytest.fixture
def key(store: Store, now: datetime) -> str:
    with store.dialect.transaction("officer") as tx:  # client 7's loan officer
        tx.execute(
            "INSERT INTO fin_demo_staff (staff_id, display_name, mobile_number, email)"
            " VALUES (8, 'Officer Eight', '+14155550118', 'officer8@example.com')"
        )
        tx.execute("UPDATE fin_demo_clients SET staff_id = 8 WHERE client_id = 7")
    return api_key(store, now, "fineract", Scope.SEND, Scope.READ)


def test_the_shipped_view_has_clients_with_their_officer_and_staff(store: Store, key: str) -> None:
    client = store.get_recipient("CLIENT", "7")
    assert client is not None and client.mobile_number == "+14155550107"
    assert client.manager_email == "officer8@example.com"  # the reply digest goes to the officer
    staff = store.get_recipient("STAFF", "7")
    assert staff is not None and staff.display_name == "Staff Seven"
    assert store.get_recipient("CLIENT", "8") is None  # staff 8 is no client


def test_get_sms_filters_by_client_and_by_staff(
    client: falcon.testing.TestClient, store: Store, key: str
) -> None:
    ids = {}
    for field in ("clientId", "staffId"):
        body = {field: 7, "message": f"Loan instalment due ({field})", "sender": "HR"}
        answer = client.simulate_post("/sms", json=body, headers=bearer(key))
        assert answer.status_code == 202, answer.json
        assert answer.json["fineractStatus"] == "pending" and answer.json["status"] == "QUEUED"
        ids[field] = answer.json["id"]
    for field, other in (("clientId", "staffId"), ("staffId", "clientId")):
        listed = client.simulate_get("/sms", params={field: "7"}, headers=bearer(key)).json
        assert [m["id"] for m in listed["items"]] == [ids[field]], (field, listed)
        assert ids[other] not in [m["id"] for m in listed["items"]]


def test_every_status_has_a_fineract_name() -> None:
    assert set(FINERACT_STATUS) == set(Status)
    assert {FINERACT_STATUS[s] for s in (Status.SUBMITTED, Status.SENT)} == {"sent"}
    assert FINERACT_STATUS[Status.DELIVERED] == "delivered"
    assert FINERACT_STATUS[Status.SUPPRESSED] == FINERACT_STATUS[Status.EXPIRED] == "declined"
