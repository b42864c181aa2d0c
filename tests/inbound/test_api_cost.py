"""GET /reports/cost (issue 14, cost): what Twilio charged by sender, UTC month and currency,
scope read, a key without admin sees its own messages; malformed months are 400 naming the
field."""

from __future__ import annotations

from datetime import datetime, timedelta

import falcon.testing
import pytest

from bridge.apikeys import Scope
from bridge.domain.cost import add_months, month_of, month_text
from bridge.store import Store
from tests.inbound.conftest import api_key, bearer, sent_message


@pytest.fixture
def keys(store: Store, now: datetime) -> dict[str, str]:
    return {
        "reader": api_key(store, now, "dashboard", Scope.READ),
        "a": api_key(store, now, "app-a", Scope.SEND, Scope.READ),
        "sender": api_key(store, now, "sender-only", Scope.SEND),
        "admin": api_key(store, now, "root", Scope.ADMIN),
    }


def _priced(
    store: Store, now: datetime, price: float | None, unit: str | None, **kw: object
) -> int:
    message_id = sent_message(store, now, **kw)  # type: ignore[arg-type]
    store.record_price(message_id, price, unit)
    return message_id


def test_cost_by_sender_and_month_per_currency_and_scoped_to_the_key(
    client: falcon.testing.TestClient, store: Store, now: datetime, keys: dict[str, str]
) -> None:
    this = month_text(month_of(now - timedelta(hours=1)))
    _priced(store, now, -0.0079, "USD")
    _priced(store, now, -0.0079, "USD", sender="IT", employee="1002")
    _priced(store, now, -0.05, "EUR", created_by="api:app-a")
    _priced(store, now, None, None)
    result = client.simulate_get("/reports/cost", headers=bearer(keys["admin"]))
    assert result.status_code == 200, result.json
    body = result.json
    assert body["to"] == month_text(month_of(now))
    assert body["from"] == month_text(add_months(month_of(now), -2))
    assert [
        (i["sender"], i["month"], i["unit"], i["messages"], i["cost"]) for i in body["items"]
    ] == [
        ("HR", this, "EUR", 1, 0.05),
        ("HR", this, "USD", 1, 0.0079),
        ("HR", this, None, 1, 0.0),
        ("IT", this, "USD", 1, 0.0079),
    ]
    assert [(t["unit"], t["messages"], t["priced"], t["cost"]) for t in body["totals"]] == [
        ("EUR", 1, 1, 0.05),
        ("USD", 2, 2, 0.0158),
        (None, 1, 0, 0.0),
    ]
    own = client.simulate_get(
        "/reports/cost", params={"from": this, "to": this}, headers=bearer(keys["a"])
    ).json
    assert [(i["unit"], i["cost"]) for i in own["items"]] == [("EUR", 0.05)]
    assert (own["from"], own["to"]) == (this, this)
    reader = client.simulate_get("/reports/cost", headers=bearer(keys["reader"])).json
    assert reader["items"] == [] and reader["totals"] == []  # it queued nothing
    # Other months: nothing.
    empty = client.simulate_get(
        "/reports/cost", params={"from": "2001-01", "to": "2001-12"}, headers=bearer(keys["admin"])
    ).json
    assert empty["items"] == [] and empty["totals"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13"}, "from"),
        ({"from": "2026-1"}, "from"),
        ({"to": "1969-12"}, "to"),
        ({"to": "9999-01"}, "to"),
        ({"from": "2026-03", "to": "2026-02"}, "to"),
        ({"from": "2000-01", "to": "2020-01"}, "to"),
        ({"month": "2026-01"}, "month"),
    ],
)
def test_a_malformed_query_is_400_naming_the_field(
    client: falcon.testing.TestClient, keys: dict[str, str], params: dict[str, str], field: str
) -> None:
    result = client.simulate_get("/reports/cost", params=params, headers=bearer(keys["reader"]))
    assert result.status_code == 400
    assert result.json["field"] == field and result.json["error"] in (
        "invalid_request",
        "unknown_parameter",
    )


def test_cost_needs_a_key_with_read(
    client: falcon.testing.TestClient, keys: dict[str, str]
) -> None:
    assert client.simulate_get("/reports/cost").status_code == 401
    assert client.simulate_get("/reports/cost", headers=bearer(keys["sender"])).status_code == 403
