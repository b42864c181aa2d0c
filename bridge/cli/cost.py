"""``sms-bridge report --cost [--months N] [--json]``: what Twilio charged, by sender and month.

Cost is the positive amount charged (Twilio reports a charge as a negative price), per currency:
amounts in different units are never added, so a sender and month has one row per unit, and one
``-`` row for messages Twilio has not priced yet (the sync job fetches prices once messages are
final). Months are UTC calendar months of when messages went to Twilio, this month included.
``bridge.cli.main`` calls in here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from bridge.cli.inbound import EXIT_OK
from bridge.config import Settings
from bridge.domain.cost import CostRow, add_months, month_of, totals
from bridge.store import Store


def cost_json(rows: Sequence[CostRow]) -> list[dict[str, Any]]:
    return [
        {
            "sender": r.sender_code,
            "month": r.month,
            "unit": r.price_unit,
            "messages": r.messages,
            "priced": r.priced,
            "segments": r.segments,
            "cost": r.cost,
        }
        for r in rows
    ]


def render_cost(rows: Sequence[CostRow]) -> str:
    """The cost table for a terminal, then one total line per currency."""
    if not rows:
        return "no messages sent in the period"
    table = [
        (
            r.sender_code,
            r.month,
            r.price_unit or "-",
            str(r.messages),
            str(r.priced),
            str(r.segments),
            f"{r.cost:.5f}" if r.price_unit else "-",
        )
        for r in rows
    ]
    for t in totals(list(rows)):
        cost = f"{t.cost:.5f}" if t.price_unit else "-"
        unit = t.price_unit or "-"
        table.append(("total", "", unit, str(t.messages), str(t.priced), str(t.segments), cost))
    heads = ("sender", "month", "unit", "messages", "priced", "segments", "cost")
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(heads)]

    def line(cells: Sequence[str]) -> str:
        left = [c.ljust(w) for c, w in zip(cells[:3], widths[:3], strict=True)]
        right = [c.rjust(w) for c, w in zip(cells[3:], widths[3:], strict=True)]
        return "  ".join(left + right).rstrip()

    lines = [line(heads), "-" * len(line(heads))]
    lines += [line(row) for row in table[: len(rows)]]
    lines.append("-" * len(line(heads)))
    lines += [line(row) for row in table[len(rows) :]]
    return "\n".join(lines)


def cmd_report_cost(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    this_month = month_of(store.now())
    since = add_months(this_month, -(args.months - 1))
    rows = store.cost_by_sender_and_month(since, add_months(this_month, 1))
    print(json.dumps(cost_json(rows), indent=2) if args.json else render_cost(rows))
    return EXIT_OK
