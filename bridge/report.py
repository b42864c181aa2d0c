"""Rendering of reports and message details (pure: data in, text or JSON-ready dicts out)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bridge.models import Event, Message, StatusCount
from bridge.statuses import Status

REPORT_COLUMNS = [s.value for s in Status]


def render_counts(counts: Sequence[StatusCount]) -> str:
    """A sender × status table with totals, as the connectors in the seeds report them."""
    senders = sorted({c.sender_code for c in counts})
    table: dict[tuple[str, str], int] = {(c.sender_code, c.status): c.count for c in counts}
    columns = [s for s in REPORT_COLUMNS if any(c.status == s for c in counts)] or ["QUEUED"]
    width = max([len("sender"), *(len(s) for s in senders)])
    head = "sender".ljust(width) + "".join(f" {c:>11}" for c in columns) + f" {'total':>7}"
    lines = [head, "-" * len(head)]
    for sender in senders:
        row = [table.get((sender, c), 0) for c in columns]
        lines.append(sender.ljust(width) + "".join(f" {n:>11}" for n in row) + f" {sum(row):>7}")
    totals = [sum(table.get((s, c), 0) for s in senders) for c in columns]
    lines.append("total".ljust(width) + "".join(f" {n:>11}" for n in totals) + f" {sum(totals):>7}")
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Status):
        return value.value
    return value


def message_json(message: Message, events: Sequence[Event] = ()) -> dict[str, Any]:
    data = {k: _jsonable(v) for k, v in message.__dict__.items()}
    if events:
        data["events"] = [{k: _jsonable(v) for k, v in e.__dict__.items()} for e in events]
    return data
