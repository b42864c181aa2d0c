"""``sms-bridge purge [--dry-run]`` (issue 14, retention) through the real console script."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.config import DatabaseSettings
from bridge.domain.models import EnqueueRequest, InboundRecord
from bridge.store import Store, open_store
from tests.cli.support import one_line, sms_bridge

NUMBER = "+14155550123"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "sms-bridge.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "bridge.db"}"\n'
        "[retention]\noutbound_days = 30\ninbound_days = 10\n",
        encoding="utf-8",
    )
    run(tmp_path, "db", "install", "--no-demo")
    run(tmp_path, "sender", "HR", "--from-number", "+15005550006")
    return tmp_path


def run(site: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    proc = sms_bridge("--config", str(site / "sms-bridge.toml"), *args, cwd=site)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc


def store_of(site: Path) -> Store:
    return open_store(DatabaseSettings(url=f"sqlite:///{site / 'bridge.db'}"))


def canceled(store: Store, days_ago: float, body: str) -> int:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    request = EnqueueRequest(sender_code="HR", body=body, to_number=NUMBER)
    message_id = store.enqueue(request, at)
    store.cancel(message_id, at, reason=f"{NUMBER} left")
    return message_id


def reply(store: Store, days_ago: float) -> int:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    record = InboundRecord(
        message_sid=f"SM{days_ago:032.0f}",
        from_number=NUMBER,
        to_number="+15005550006",
        body="see you",
        raw_payload='{"Body": ["see you"]}',
        status="PROCESSED",
    )
    return store.record_inbound(record, at)[0]


def table_line(out: str, table: str) -> str:
    return one_line("\n".join(x for x in out.splitlines() if x.startswith(f"{table}:")))


def rows(store: Store, table: str) -> list[dict[str, Any]]:
    with store.dialect.transaction("read", write=False) as tx:
        return tx.rows(f"SELECT * FROM {table} ORDER BY id")


def test_dry_run_then_purge(site: Path) -> None:
    store = store_of(site)
    try:
        old = canceled(store, 40, "old news")
        recent = canceled(store, 5, "fresh news")
        old_reply, new_reply = reply(store, 20), reply(store, 2)
        store.set_optout(NUMBER, "*", True, datetime.now(UTC) - timedelta(days=400))
        before = (rows(store, "sms_outbound"), rows(store, "sms_inbound"))
        optouts = store.get_optout(NUMBER, "*")
    finally:
        store.close()

    out = run(site, "purge", "--dry-run").stdout
    assert len([x for x in out.splitlines() if x.strip()]) == 5, out  # one line per table
    assert table_line(out, "sms_outbound").startswith("sms_outbound: would purge 1 message(s)")
    assert "sms_events: would mask the numbers in 1 event detail(s)" in table_line(
        out, "sms_events"
    )
    assert table_line(out, "sms_inbound").startswith("sms_inbound: would purge 1 processed")
    assert table_line(out, "sms_optouts") == "sms_optouts: untouched (the record of consent)"
    store = store_of(site)
    try:
        assert (rows(store, "sms_outbound"), rows(store, "sms_inbound")) == before
    finally:
        store.close()

    out = run(site, "purge").stdout
    assert table_line(out, "sms_outbound").startswith("sms_outbound: purged 1 message(s)")
    assert table_line(out, "sms_inbound").startswith("sms_inbound: purged 1 processed")
    store = store_of(site)
    try:
        by_id = {r["id"]: r for r in rows(store, "sms_outbound")}
        assert (by_id[old]["body"], by_id[old]["to_number"]) == ("[purged]", "+1415*****23")
        assert by_id[old]["status"] == "CANCELED" and by_id[old]["purged_at"] is not None
        assert (by_id[recent]["body"], by_id[recent]["to_number"]) == ("fresh news", NUMBER)
        replies = {r["id"]: r for r in rows(store, "sms_inbound")}
        assert replies[old_reply]["raw_payload"] is None
        assert replies[new_reply]["body"] == "see you"
        assert optouts is not None and store.get_optout(NUMBER, "*") == optouts
    finally:
        store.close()

    again = run(site, "purge").stdout
    assert table_line(again, "sms_outbound").startswith("sms_outbound: purged 0 message(s)")
    status = run(site, "status", str(old)).stdout
    assert "[purged]" in status and "Traceback" not in status
