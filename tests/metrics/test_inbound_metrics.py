"""GET /metrics of the inbound app, in process: the exposition parses with prometheus_client's
own parser, the queue figures equal what the database holds, webhooks and API requests are
counted by route template and outcome, a scrape writes nothing, and metrics_networks."""

from __future__ import annotations

import sqlite3
from collections import Counter as Tally
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from bridge.apikeys import Scope
from bridge.config import Settings
from bridge.domain.models import EnqueueRequest, SubmitResult
from bridge.replies.spool import Spool
from bridge.store import Store, open_store
from bridge.store.metrics_store import METRICS_OLDEST_DUE, METRICS_QUEUE_DEPTH
from bridge.store.sqlite_dialect import to_db
from inbound.app import create_app
from inbound.metrics import address_allowed, parse_networks, route_label, webhook_outcome
from tests.inbound.conftest import (
    ALICE,
    api_key,
    bearer,
    inbound_form,
    make_settings,
    new_sid,
    post_signed,
)
from tests.metrics.support import named, samples, value


def _enqueue(store: Store, at: datetime, sender: str = "HR", **kw: Any) -> int:
    return store.enqueue(
        EnqueueRequest(
            sender_code=sender,
            body=kw.pop("body", "Certificate expires soon"),
            recipient_type="EMPLOYEE",
            recipient_id="1001",
            **kw,
        ),
        at,
    )


def fill_queue(store: Store, now: datetime) -> None:
    """Every kind of row the queue metrics tell apart, on two senders."""
    for minutes in (10, 7, 3):  # due 10, 7 and 3 minutes ago: the oldest is 600 s old
        _enqueue(store, now - timedelta(minutes=minutes), body=f"due {minutes}")
    _enqueue(store, now, priority=1, send_after=now + timedelta(hours=2), body="later")
    for i in range(3):
        _enqueue(store, now - timedelta(seconds=30), sender="IT", priority=3, body=f"it {i}")
    claimed = store.claim_batch("IT", 2, now - timedelta(seconds=20), lease_seconds=60, worker="t")
    store.mark_submitted([SubmitResult(claimed[0].id, new_sid(), "queued", ALICE)], now)
    canceled = _enqueue(store, now - timedelta(hours=1), body="canceled")
    store.cancel(canceled, now)


def database_truth(store: Store, now: datetime) -> tuple[dict[Any, int], dict[str, float]]:
    """The same figures from every row, computed here rather than by the store's queries."""
    with store.dialect.transaction("test", write=False) as tx:
        rows = tx.rows("SELECT status, sender_code, priority, next_attempt_at FROM sms_outbound")
    depth = Tally(
        (r["status"], r["sender_code"], str(r["priority"]))
        for r in rows
        if r["status"] in ("QUEUED", "SENDING", "SUBMITTED")
    )
    oldest: dict[str, float] = {}
    for r in rows:
        if r["status"] == "QUEUED" and r["next_attempt_at"] <= now:
            age = (now - r["next_attempt_at"]).total_seconds()
            oldest[r["sender_code"]] = max(oldest.get(r["sender_code"], 0.0), age)
    return dict(depth), oldest


@pytest.fixture
def app_client(settings: Settings, store: Store, now: datetime, spool: Spool) -> Any:
    return falcon.testing.TestClient(create_app(settings, store, clock=lambda: now, spool=spool))


def scrape(client: falcon.testing.TestClient, **kw: Any) -> dict[Any, float]:
    result = client.simulate_get("/metrics", **kw)
    assert result.status_code == 200, result.text
    assert result.headers["content-type"].startswith("text/plain; version=")
    return samples(result.text)


def test_metrics_parse_and_the_queue_equals_the_database(
    app_client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    fill_queue(store, now)
    parsed = scrape(app_client)  # no Authorization header: /metrics needs no key
    depth, oldest = database_truth(store, now)
    shown = {
        (dict(k)["status"], dict(k)["sender"], dict(k)["priority"]): v
        for k, v in named(parsed, "sms_bridge_queue_messages").items()
    }
    assert shown == depth
    assert depth == {
        ("QUEUED", "HR", "2"): 3,
        ("QUEUED", "HR", "1"): 1,
        ("QUEUED", "IT", "3"): 1,
        ("SENDING", "IT", "3"): 1,
        ("SUBMITTED", "IT", "3"): 1,
    }
    assert value(parsed, "sms_bridge_queue_oldest_due_age_seconds", sender="HR") == 600
    assert value(parsed, "sms_bridge_queue_oldest_due_age_seconds", sender="IT") == 30
    assert oldest == {"HR": 600, "IT": 30}
    assert value(parsed, "sms_bridge_queue_due_messages", sender="HR") == 3
    assert value(parsed, "sms_bridge_queue_due_messages", sender="IT") == 1
    assert value(parsed, "sms_bridge_queue_up") == 1
    assert value(parsed, "sms_bridge_spool_entries") == 0


def test_a_sender_with_nothing_due_shows_zero(
    app_client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    parsed = scrape(app_client)
    for sender in ("HR", "IT"):
        assert value(parsed, "sms_bridge_queue_oldest_due_age_seconds", sender=sender) == 0
        assert value(parsed, "sms_bridge_queue_due_messages", sender=sender) == 0
    assert named(parsed, "sms_bridge_queue_messages") == {}


def test_webhooks_are_counted_by_route_and_outcome(
    app_client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    for body in ("hello", "YES", "STOP"):
        assert post_signed(app_client, "/twilio/inbound", inbound_form(body)).status_code == 200
    forged = post_signed(app_client, "/twilio/inbound", inbound_form("x"), signature="AAAA")
    assert forged.status_code == 403
    bad = post_signed(app_client, "/twilio/status", [("MessageSid", "nope")], query="id=1")
    assert bad.status_code == 400
    parsed = scrape(app_client)
    inbound, status = "/twilio/inbound", "/twilio/status"
    assert value(parsed, "sms_bridge_webhooks_total", route=inbound, outcome="ok") == 3
    assert value(parsed, "sms_bridge_webhooks_total", route=inbound, outcome="forbidden") == 1
    assert value(parsed, "sms_bridge_webhooks_total", route=status, outcome="rejected") == 1
    assert value(parsed, "sms_bridge_webhook_duration_seconds_count", route=inbound) == 4
    assert (
        value(parsed, "sms_bridge_webhook_duration_seconds_bucket", route=inbound, le="+Inf") == 4
    )
    # Webhooks are not API requests.
    assert not [
        k for k in named(parsed, "sms_bridge_api_requests_total") if ("route", inbound) in k
    ]


def test_api_requests_are_counted_by_route_template_never_the_raw_path(
    app_client: falcon.testing.TestClient, store: Store, now: datetime
) -> None:
    key = api_key(store, now, "reader", Scope.ADMIN)
    message = _enqueue(store, now)
    assert app_client.simulate_get(f"/sms/{message}", headers=bearer(key)).status_code == 200
    assert app_client.simulate_get("/sms/999999", headers=bearer(key)).status_code == 404
    assert app_client.simulate_get("/sms/1").status_code == 401
    assert app_client.simulate_get("/no/such/path/42").status_code == 404
    assert app_client.simulate_request("TRACE", "/sms").status_code in (400, 405)
    parsed = scrape(app_client)
    requests = named(parsed, "sms_bridge_api_requests_total")
    item = "/sms/{message_id}"

    def n(route: str, method: str, status: str) -> float | None:
        return requests.get((("method", method), ("route", route), ("status", status)))

    assert n(item, "GET", "200") == 1 and n(item, "GET", "404") == 1 and n(item, "GET", "401") == 1
    assert n("unmatched", "GET", "404") == 1
    assert all(dict(k)["method"] in {"GET", "POST", "other"} for k in requests), requests
    assert not [k for k in requests if "42" in dict(k)["route"] or "999999" in dict(k)["route"]]
    # This scrape counts once it is answered: the next one sees it.
    again = scrape(app_client)
    assert value(
        again, "sms_bridge_api_requests_total", route="/metrics", method="GET", status="200"
    )


def test_a_spooled_webhook_is_counted_as_spooled(
    tmp_path: Path, settings: Settings, now: datetime, spool: Spool
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    down = open_store(make_settings(blocker / "db.sqlite", tmp_path / "spool").database)
    client = falcon.testing.TestClient(create_app(settings, down, clock=lambda: now, spool=spool))
    for body in ("hello", "STOP"):
        assert post_signed(client, "/twilio/inbound", inbound_form(body)).status_code == 200
    result = client.simulate_get("/metrics")
    assert result.status_code == 200  # the database is down: the scrape still answers
    parsed = samples(result.text)
    route = "/twilio/inbound"
    assert value(parsed, "sms_bridge_webhooks_total", route=route, outcome="spooled") == 2
    assert value(parsed, "sms_bridge_webhooks_total", route=route, outcome="ok") is None
    assert value(parsed, "sms_bridge_spool_appends_total", kind="inbound") == 2
    assert value(parsed, "sms_bridge_spool_entries") == spool.pending() == 2
    assert value(parsed, "sms_bridge_queue_up") == 0
    assert named(parsed, "sms_bridge_queue_messages") == {}
    down.close()


@contextmanager
def no_write_transactions(store: Store) -> Iterator[list[str]]:
    """Any write transaction the store opens fails (and is recorded)."""
    opened: list[str] = []
    original = store.dialect.transaction

    def guarded(action: str, *, write: bool = True) -> Any:
        if write:
            opened.append(action)
            raise AssertionError(f"a scrape opened a write transaction ({action})")
        return original(action, write=write)

    store.dialect.transaction = guarded  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        store.dialect.transaction = original  # type: ignore[method-assign]


def test_a_scrape_never_writes(
    app_client: falcon.testing.TestClient, store: Store, settings: Settings, now: datetime
) -> None:
    fill_queue(store, now)
    db = Path(settings.database.url.removeprefix("sqlite:///"))
    # PRAGMA data_version, read on another connection, moves when any other connection
    # commits a change to the file; total_changes counts this process's rows written.
    watcher = sqlite3.connect(db)
    before = watcher.execute("PRAGMA data_version").fetchone()[0]
    with no_write_transactions(store) as opened:
        for _ in range(3):
            scrape(app_client)
    assert opened == []
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
    # The check itself notices a write from the store's connection.
    _enqueue(store, now, body="a write")
    assert watcher.execute("PRAGMA data_version").fetchone()[0] != before
    watcher.close()


def test_metrics_networks_restrict_the_scrape(
    tmp_path: Path, store: Store, now: datetime, spool: Spool
) -> None:
    settings = make_settings(
        tmp_path / "inbound.db",
        tmp_path / "spool",
        metrics_networks=("10.0.0.0/8", "::1/128"),
        trust_forwarded_headers=True,
    )
    client = falcon.testing.TestClient(create_app(settings, store, clock=lambda: now, spool=spool))
    assert client.simulate_get("/metrics", remote_addr="10.1.2.3").status_code == 200
    assert client.simulate_get("/metrics", remote_addr="::1").status_code == 200
    refused = client.simulate_get("/metrics", remote_addr="192.0.2.7")
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    # Behind the trusted proxy: the hop the proxy appended, not what the client wrote first.
    via = {"X-Forwarded-For": "10.9.9.9, 192.0.2.7"}
    assert client.simulate_get("/metrics", remote_addr="127.0.0.1", headers=via).status_code == 403
    via = {"X-Forwarded-For": "192.0.2.7, 10.9.9.9"}
    assert client.simulate_get("/metrics", remote_addr="127.0.0.1", headers=via).status_code == 200


def test_small_rules() -> None:
    assert route_label("/sms/{message_id:int(min=1, max=999999999999999)}/cancel") == (
        "/sms/{message_id}/cancel"
    )
    assert route_label(None) == "unmatched"
    assert [webhook_outcome(s, spooled) for s, spooled in ((200, False), (200, True))] == [
        "ok",
        "spooled",
    ]
    assert [webhook_outcome(s, False) for s in (403, 400, 413, 500, 503)] == [
        "forbidden",
        "rejected",
        "rejected",
        "error",
        "error",
    ]
    nets = parse_networks(["10.0.0.0/8", "2001:db8::/32"])
    assert address_allowed("::ffff:10.0.0.1", nets) and address_allowed("2001:db8::5", nets)
    assert not address_allowed("11.0.0.1", nets) and not address_allowed("garbage", nets)


def test_the_queue_queries_read_the_ready_index_alone(
    store: Store, settings: Settings, now: datetime
) -> None:
    """SQLite's plan: the covering ready index (status, sender_code, priority, id,
    next_attempt_at), never the table: the cost does not grow with the final rows."""
    conn = sqlite3.connect(settings.database.url.removeprefix("sqlite:///"))
    for sql, binds in ((METRICS_QUEUE_DEPTH, {}), (METRICS_OLDEST_DUE, {"now": to_db(now)})):
        plan = " ".join(str(r[-1]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", binds))
        assert "COVERING INDEX sms_outbound_ready_ix" in plan, plan
    conn.close()
