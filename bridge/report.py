"""Rendering of reports and message details (pure: data in, text or JSON-ready dicts out)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bridge.domain.models import DailyCount, Event, Message, StatusCount
from bridge.domain.statuses import Status

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


# The columns the connectors in the source documents report, in lifecycle order.
DAILY_COLUMNS = [
    "QUEUED", "SENDING", "SUBMITTED", "SENT", "DELIVERED", "UNDELIVERED", "FAILED",
    "SUPPRESSED", "INVALID", "EXPIRED", "CANCELED",
]  # fmt: skip


def daily_rows(counts: Sequence[DailyCount]) -> list[dict[str, Any]]:
    """One row per sender and UTC day, every status column present (0 when none)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for c in counts:
        row = rows.setdefault(
            (c.sender_code, c.day),
            {"sender": c.sender_code, "day": c.day, **{s.lower(): 0 for s in DAILY_COLUMNS}},
        )
        row[c.status.lower()] = row.get(c.status.lower(), 0) + c.count
    result = [rows[k] for k in sorted(rows)]
    for row in result:
        row["total"] = sum(row[s.lower()] for s in DAILY_COLUMNS)
    return result


def render_daily(counts: Sequence[DailyCount]) -> str:
    """The daily table for a terminal: only the statuses the period has, each column as wide
    as its heading or its largest count (all eleven still fit in 100 columns)."""
    rows = daily_rows(counts)
    if not rows:
        return "no messages in the period"
    shown = [s for s in DAILY_COLUMNS if any(r[s.lower()] for r in rows)]
    heads = [SHORT_HEADS.get(s, s.lower()) for s in shown]
    widths = [
        max(len(h), *(len(str(r[s.lower()])) for r in rows))
        for h, s in zip(heads, shown, strict=True)
    ]
    total_width = max(len("total"), *(len(str(r["total"])) for r in rows))
    sender_width = max(len("sender"), *(len(r["sender"]) for r in rows))
    head = (
        "sender".ljust(sender_width)
        + "  day       "
        + "".join(f" {h:>{w}}" for h, w in zip(heads, widths, strict=True))
        + f" {'total':>{total_width}}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            r["sender"].ljust(sender_width)
            + f"  {r['day']}"
            + "".join(f" {r[s.lower()]:>{w}}" for s, w in zip(shown, widths, strict=True))
            + f" {r['total']:>{total_width}}"
        )
    return "\n".join(lines)


SHORT_HEADS = {
    "SUBMITTED": "submit",
    "DELIVERED": "deliv",
    "UNDELIVERED": "undel",
    "SUPPRESSED": "suppr",
    "CANCELED": "cancel",
}
