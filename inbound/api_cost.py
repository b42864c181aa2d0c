"""GET /reports/cost: what Twilio charged, by sender, UTC month and currency (scope read).

``from`` and ``to`` are months (``YYYY-MM``, both included; default: the three months up to
this one). Cost is the positive amount charged (Twilio reports a charge as a negative price);
amounts in different currencies are never added: one item per unit, and one with ``unit``
null for the messages Twilio has not priced yet. A key without admin sees the cost of the
messages it queued.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import falcon

from bridge.apikeys import Scope, owner_of
from bridge.domain.cost import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_MONTHS,
    add_months,
    month_of,
    month_text,
    months_between,
    parse_month,
    totals,
)
from bridge.store import Store
from inbound.http import invalid

DEFAULT_MONTHS = 3
FIRST_MONTH = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
LAST_MONTH = datetime(LAST_YEAR, 12, 1, tzinfo=UTC)


def _month(req: falcon.Request, name: str) -> datetime | None:
    text = req.get_param(name)
    if text is None:
        return None
    try:
        return parse_month(text)
    except ValueError:
        raise invalid(
            name, f"{name} must be a month YYYY-MM from 1970-01 to 9998-12, e.g. 2026-03"
        ) from None


class CostReport:
    auth_scopes: ClassVar[Mapping[str, Scope]] = {"GET": Scope.READ}
    query_parameters = frozenset({"from", "to"})

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        first, last = _month(req, "from"), _month(req, "to")
        if last is None:
            last = (
                month_of(self.clock()) if first is None else add_months(first, DEFAULT_MONTHS - 1)
            )
            last = min(last, LAST_MONTH)
        if first is None:
            first = max(add_months(last, -(DEFAULT_MONTHS - 1)), FIRST_MONTH)
        span = months_between(first, last)
        if span < 1:
            raise invalid("to", "to must not be before from")
        if span > MAX_MONTHS:
            raise invalid("to", f"at most {MAX_MONTHS} months at once")
        rows = self.store.cost_by_sender_and_month(
            first, add_months(last, 1), created_by=owner_of(req.context.api_key)
        )
        items: list[dict[str, Any]] = [
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
        resp.media = {
            "from": month_text(first),
            "to": month_text(last),
            "items": items,
            "totals": [
                {
                    "unit": t.price_unit,
                    "messages": t.messages,
                    "priced": t.priced,
                    "segments": t.segments,
                    "cost": t.cost,
                }
                for t in totals(rows)
            ],
        }
