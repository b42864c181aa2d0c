"""Bodies sent with ``Transfer-Encoding: chunked`` (no Content-Length), in-process.

gunicorn hands the app a ``wsgi.input`` that ends at the end of the chunked body and says so
with ``wsgi.input_terminated``; the environ below is what it builds (tests/inbound/
test_gunicorn_e2e.py sends real chunked requests through gunicorn). Falcon's
``req.bounded_stream`` reads nothing when there is no Content-Length, so a valid JSON body was
refused as invalid JSON and an oversized one got 400 instead of 413.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import falcon.testing
import pytest

from bridge.apikeys import Scope
from bridge.store import Store
from tests.inbound.conftest import PUBLIC_URL, api_key, bearer, count, inbound_form, sign


@pytest.fixture
def key(store: Store, now: datetime) -> str:
    return api_key(store, now, "fineract", Scope.SEND, Scope.READ)


def post_chunked(
    client: falcon.testing.TestClient,
    path: str,
    body: bytes,
    headers: dict[str, str],
    *,
    terminated: bool = True,
) -> falcon.testing.Result:
    extras: dict[str, Any] = {"wsgi.input": io.BytesIO(body)}
    if terminated:
        extras["wsgi.input_terminated"] = True
    result = client.simulate_post(
        path, headers={**headers, "Transfer-Encoding": "chunked"}, extras=extras
    )
    return result


def sms_headers(key: str) -> dict[str, str]:
    return {**bearer(key), "Content-Type": "application/json"}


def test_a_chunked_json_body_is_read_like_a_sized_one(
    client: falcon.testing.TestClient, store: Store, key: str
) -> None:
    body = {"clientId": 7, "message": "Loan due", "sender": "HR"}
    sized = client.simulate_post("/sms", json=body, headers=bearer(key))
    chunked = post_chunked(client, "/sms", json.dumps(body).encode(), sms_headers(key))
    assert chunked.status_code == sized.status_code == 202, chunked.text
    assert chunked.json["id"] != sized.json["id"]
    assert count(store, "sms_outbound") == 2


def test_an_oversized_chunked_body_is_413_with_a_json_error(
    client: falcon.testing.TestClient, store: Store, key: str
) -> None:
    body = json.dumps({"clientId": 7, "message": "x" * 70_000, "sender": "HR"}).encode()
    result = post_chunked(client, "/sms", body, sms_headers(key))
    assert result.status_code == 413, result.text
    assert result.json["error"] == "too_large" and "65536" in result.json["message"]
    assert count(store, "sms_outbound") == 0


def test_chunked_without_a_terminated_input_is_411_not_a_guess(
    client: falcon.testing.TestClient, store: Store, key: str
) -> None:
    """A server that passes a chunked body on without marking its end: reading on could
    block, so the app asks for a Content-Length instead of calling the body invalid."""
    body = json.dumps({"clientId": 7, "message": "hi", "sender": "HR"}).encode()
    result = post_chunked(client, "/sms", body, sms_headers(key), terminated=False)
    assert (result.status_code, result.json["error"]) == (411, "length_required")
    assert count(store, "sms_outbound") == 0


def test_a_chunked_webhook_is_verified_and_stored(
    client: falcon.testing.TestClient, store: Store
) -> None:
    form = inbound_form("Thanks, done")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign(f"{PUBLIC_URL}/twilio/inbound", form),
    }
    result = post_chunked(client, "/twilio/inbound", urlencode(form).encode(), headers)
    assert result.status_code == 200, result.text
    assert store.get_inbound(form[0][1]) is not None


def test_an_oversized_chunked_webhook_is_413(
    client: falcon.testing.TestClient, store: Store
) -> None:
    form = inbound_form("x" * 70_000)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign(f"{PUBLIC_URL}/twilio/inbound", form),
    }
    result = post_chunked(client, "/twilio/inbound", urlencode(form).encode(), headers)
    assert (result.status_code, result.json["error"]) == (413, "too_large")
    assert count(store, "sms_inbound") == 0
