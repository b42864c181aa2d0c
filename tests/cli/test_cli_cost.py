"""``sms-bridge report --cost``: what Twilio charged, by sender and month, one row per currency."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bridge.config import DatabaseSettings
from bridge.domain.models import EnqueueRequest, Sender, SubmitResult
from bridge.domain.statuses import Status
from bridge.store import open_store
from tests.cli.support import one_line, sms_bridge


def _seed(db: Path) -> str:
    """HR: two messages priced in USD (3 segments), one in EUR, one not priced; this month."""
    store = open_store(DatabaseSettings(url=f"sqlite:///{db}"))
    now = datetime.now(UTC)
    store.install(now, with_demo=False)
    store.save_sender(Sender(code="HR", from_number="+15005550006", mps=10.0), now)
    for price, unit, segments in (
        (-0.0079, "USD", 1),
        (-0.0158, "USD", 2),
        (-0.05, "EUR", 1),
        (None, None, 1),
    ):
        request = EnqueueRequest(sender_code="HR", to_number="+14155550100", body="hi")
        message_id = store.enqueue(request, now)
        store.claim_batch("HR", 1, now, lease_seconds=60, worker="w")
        sid = "SM" + uuid.uuid4().hex
        store.mark_submitted(
            [SubmitResult(message_id, sid, "queued", "+14155550100", segments)], now
        )
        store.record_status(now, Status.DELIVERED, source="sync", provider_sid=sid)
        store.record_price(message_id, price, unit)
    store.close()
    return f"{now.year:04d}-{now.month:02d}"


def test_report_cost_shows_a_row_per_currency_and_totals_never_adding_units(
    tmp_path: Path,
) -> None:
    month = _seed(tmp_path / "cost.db")
    env = {"SMS_BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cost.db'}"}
    result = sms_bridge("report", "--cost", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["sender", "month", "unit", "messages", "priced", "segments", "cost"]
    body = [line.split() for line in lines if line.startswith(("HR", "total"))]
    assert body == [
        ["HR", month, "EUR", "1", "1", "1", "0.05000"],
        ["HR", month, "USD", "2", "2", "3", "0.02370"],
        ["HR", month, "-", "1", "0", "1", "-"],
        ["total", "EUR", "1", "1", "1", "0.05000"],
        ["total", "USD", "2", "2", "3", "0.02370"],
        ["total", "-", "1", "0", "1", "-"],
    ]

    as_json = sms_bridge("report", "--cost", "--months", "1", "--json", cwd=tmp_path, env=env)
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert rows[1] == {
        "sender": "HR",
        "month": month,
        "unit": "USD",
        "messages": 2,
        "priced": 2,
        "segments": 3,
        "cost": 0.0237,
    }
    assert [r["unit"] for r in rows] == ["EUR", "USD", None]


def test_report_cost_months_must_be_positive(tmp_path: Path) -> None:
    _seed(tmp_path / "cost.db")
    env = {"SMS_BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cost.db'}"}
    result = sms_bridge("report", "--cost", "--months", "0", cwd=tmp_path, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "argument --months: 0: must be at least 1" in result.stderr.splitlines()[-1]
    empty = sms_bridge(
        "report",
        "--cost",
        cwd=tmp_path,
        env={**env, "SMS_BRIDGE_DATABASE_URL": "sqlite:///none.db"},
    )
    assert empty.returncode == 2 and "no sms-bridge schema" in one_line(empty.stderr)
