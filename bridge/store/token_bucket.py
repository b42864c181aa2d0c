"""The per-sender token bucket (pure arithmetic over the sender row's tokens/tokens_at).

Tokens are SMS segments; the bucket refills at the sender's ``mps`` and holds at most
BURST_SECONDS of it (at least one token). The promise is at Twilio: in any one second it
receives at most one second's worth of burst plus one second of refill (2 x mps). The bucket
charges claims, and the creates of one claim leave, and reach Twilio, some tens of
milliseconds apart (measured at 100 segments/s: 206 arrivals in one second from a full bucket
that charged 198), so it keeps the last tenth of a second's worth as a margin for that spread:
what it charges in any 1.1 s stays within the promise. It may go negative: a claim is bounded
by whole tokens but charged its real segments, and the debt delays the next claim instead of
being forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

BURST_SECONDS = 0.9  # of the rate the bucket holds; the rest is the margin for creates' spread


@dataclass(frozen=True)
class TokenBucket:
    tokens: float
    rate: float  # tokens per second (the sender's mps)

    @property
    def capacity(self) -> float:
        return capacity_of(self.rate)

    @classmethod
    def refill(cls, sender_row: dict[str, Any], now: datetime) -> TokenBucket:
        rate = float(sender_row["mps"])
        capacity = capacity_of(rate)
        last = sender_row.get("tokens_at")
        if last is None:
            return cls(tokens=capacity, rate=rate)
        elapsed = max(0.0, (now - last).total_seconds())
        tokens = min(capacity, float(sender_row["tokens"]) + elapsed * rate)
        return cls(tokens=tokens, rate=rate)

    def whole_tokens(self) -> int:
        return max(0, math.floor(self.tokens + 1e-9))

    def seconds_to_next_token(self) -> float:
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate


def capacity_of(rate: float) -> float:
    """The most tokens a sender's bucket holds: BURST_SECONDS of its rate, at least one."""
    return max(1.0, rate * BURST_SECONDS)
