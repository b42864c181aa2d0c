"""What the sandbox charges, and when the charge shows on a message.

Twilio reports ``price`` (negative: a charge, five decimals) and ``price_unit`` once a message
is final, often minutes after its final status (and never with a status callback). The sandbox
prices ``delivered`` and ``undelivered`` messages at segments × ``per_segment``, either with the
final status (``delay_seconds`` 0) or that many seconds later; ``failed`` messages never left
Twilio and stay unpriced. Set at start (``--price-per-segment``, ``--price-unit``,
``--price-delay``) or at run time (``POST /_sandbox/pricing``); a reset restores the start-up
values.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

# Price per segment, Twilio-style (reported as a negative decimal string with five places).
DEFAULT_PRICE_PER_SEGMENT = Decimal("0.00790")
DEFAULT_PRICE_UNIT = "USD"
MAX_PRICE_DELAY = 86_400.0
_UNIT = re.compile(r"^[A-Z]{3}$")
PRICED_STATUSES = frozenset({"delivered", "undelivered"})


@dataclass(frozen=True)
class Pricing:
    per_segment: Decimal = DEFAULT_PRICE_PER_SEGMENT
    unit: str = DEFAULT_PRICE_UNIT  # ISO 4217
    delay_seconds: float = 0.0  # after the final status; 0: with it

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["per_segment"] = f"{self.per_segment:.5f}"
        return data


def parse_price(value: Any, name: str = "per_segment") -> Decimal:
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not price.is_finite() or price < 0 or price >= 10_000:
        raise ValueError(f"{name} must be from 0 to 9999.99999 (a charge, positive)")
    return price


def parse_unit(value: Any) -> str:
    if not isinstance(value, str) or not _UNIT.fullmatch(value):
        raise ValueError(f"unit must be an ISO 4217 code of three capitals, e.g. EUR: {value!r}")
    return value


def parse_delay(value: Any) -> float:
    try:
        delay = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"delay_seconds is not a number: {value!r}") from None
    if not 0.0 <= delay <= MAX_PRICE_DELAY:
        raise ValueError(f"delay_seconds must be from 0 to {MAX_PRICE_DELAY:g}")
    return delay


def apply_pricing_patch(current: Pricing, patch: dict[str, Any]) -> Pricing:
    """A new Pricing with the keys of ``patch`` changed; raises ValueError if invalid."""
    changes: dict[str, Any] = {}
    for key, value in patch.items():
        if key == "per_segment":
            changes[key] = parse_price(value)
        elif key == "unit":
            changes[key] = parse_unit(value)
        elif key == "delay_seconds":
            changes[key] = parse_delay(value)
        else:
            raise ValueError(f"unknown pricing setting {key!r}")
    return replace(current, **changes)
