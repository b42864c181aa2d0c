"""The per-sender token bucket (pure arithmetic over the sender row's tokens/tokens_at).

Tokens are SMS segments; the bucket refills at the sender's ``mps`` and holds at most one
second's worth, so a burst can never exceed what Twilio meters for that sender. It may go
negative: a claim is bounded by whole tokens but charged its real segments, and the debt delays
the next claim instead of being forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TokenBucket:
    tokens: float
    rate: float  # tokens per second (the sender's mps)

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate)

    @classmethod
    def refill(cls, sender_row: dict[str, Any], now: datetime) -> TokenBucket:
        rate = float(sender_row["mps"])
        capacity = max(1.0, rate)
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
