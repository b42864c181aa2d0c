"""What messages cost, by sender and month (pure: no I/O, time passed in).

Twilio reports ``price`` once a message is final, negative for a charge ("-0.00750"), with
``price_unit`` (ISO 4217). The bridge stores it as Twilio reports it and shows ``cost`` as the
positive amount charged (``-price`` summed). Amounts in different currencies are never added:
each (sender, month) has one row per unit, and messages not priced yet one row without a unit.
Months are UTC calendar months of ``submitted_at`` (when the message went to Twilio).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
MAX_MONTHS = 120  # what one report may span
FIRST_YEAR, LAST_YEAR = 1970, 9998  # the years the stores keep (the month after still fits)


@dataclass(frozen=True)
class CostRow:
    sender_code: str
    month: str  # YYYY-MM, UTC
    price_unit: str | None  # None: the messages of that month not priced (yet)
    messages: int  # messages submitted to Twilio that month (in this unit, or unpriced)
    priced: int  # of those, with a price
    segments: int
    cost: float  # the positive amount charged, in price_unit (0 when unpriced)


def parse_month(text: str) -> datetime:
    """``YYYY-MM`` as the first instant of that UTC month; ValueError when malformed or
    outside 1970-01..9998-12."""
    match = _MONTH.fullmatch(text)
    if match is None or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise ValueError(f"not a month YYYY-MM from 1970-01 to 9998-12: {text!r}")
    return datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=UTC)


def month_of(moment: datetime) -> datetime:
    """The first instant of ``moment``'s UTC month."""
    utc = moment.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)


def add_months(month: datetime, count: int) -> datetime:
    """The first instant of the month ``count`` months after (or before) ``month``'s."""
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def months_between(first: datetime, last: datetime) -> int:
    """How many months ``first``..``last`` span, both included (0 when last is before first)."""
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


def month_text(month: datetime) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def cost_of(price_sum: float | None) -> float:
    """The positive amount charged from the sum of Twilio's prices (negative: a charge),
    rounded to Twilio's five decimals; 0 for none (never -0.0)."""
    if price_sum is None:
        return 0.0
    return round(-float(price_sum), 5) + 0.0


@dataclass(frozen=True)
class CostTotal:
    price_unit: str | None
    messages: int
    priced: int
    segments: int
    cost: float


def totals(rows: list[CostRow]) -> list[CostTotal]:
    """Per currency (never added across units), the sums of ``rows``; the unpriced messages
    (unit None) last."""
    sums: dict[str | None, CostTotal] = {}
    for row in rows:
        seen = sums.get(row.price_unit, CostTotal(row.price_unit, 0, 0, 0, 0.0))
        sums[row.price_unit] = CostTotal(
            row.price_unit,
            seen.messages + row.messages,
            seen.priced + row.priced,
            seen.segments + row.segments,
            round(seen.cost + row.cost, 5),
        )
    return [sums[u] for u in sorted(sums, key=lambda u: (u is None, u or ""))]
