"""Injected faults: latency, 429/500/503 answers, slow answers, connection resets, callback chaos.

Every draw comes from one ``random.Random`` (seedable), so a run with ``--seed`` produces the same
sequence of decisions and rates can be tested. The request faults are mutually exclusive slices
of one uniform draw, so a configured rate is exactly the probability of that fault.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Dist = Literal["none", "fixed", "uniform", "normal"]
Scope = Literal["create", "all"]
Outcome = Literal[
    "ok", "429", "500-before", "500-after", "503", "slow", "reset-before", "reset-after"
]


@dataclass(frozen=True)
class Latency:
    dist: Dist = "none"
    value: float = 0.0  # fixed
    min: float = 0.0  # uniform
    max: float = 0.0
    mean: float = 0.0  # normal (clipped at 0)
    stddev: float = 0.0

    def sample_ms(self, rng: random.Random) -> float:
        if self.dist == "fixed":
            return self.value
        if self.dist == "uniform":
            return rng.uniform(self.min, self.max)
        if self.dist == "normal":
            return max(0.0, rng.gauss(self.mean, self.stddev))
        return 0.0


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: Latency = field(default_factory=Latency)
    scope: Scope = "create"  # which Twilio API requests the error faults below may hit
    rate_429: float = 0.0
    rate_500: float = 0.0
    fraction_500_after_create: float = 0.0  # of the 500s, this share happen after the create
    rate_503: float = 0.0
    slow_rate: float = 0.0  # the work is done, then the answer waits slow_ms (client times out)
    slow_ms: float = 15000.0
    reset_rate: float = 0.0  # the socket is closed with RST instead of an answer
    fraction_reset_after_create: float = 0.0
    callback_duplicate_rate: float = 0.0  # a status callback is POSTed twice
    callback_out_of_order_rate: float = 0.0  # a message's callbacks arrive final status first
    # Twilio's clock = the host's + this many seconds: date_created/updated/sent, callbacks'
    # dates and the HTTP Date header all follow it (a Twilio clock behind or ahead of ours).
    clock_offset_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


MAX_CLOCK_OFFSET = 86_400.0  # a day either way

_RATES = (
    "rate_429",
    "rate_500",
    "fraction_500_after_create",
    "rate_503",
    "slow_rate",
    "reset_rate",
    "fraction_reset_after_create",
    "callback_duplicate_rate",
    "callback_out_of_order_rate",
)


def parse_latency(value: Any) -> Latency:
    """``200`` (fixed ms), or ``{"dist": "fixed"|"uniform"|"normal"|"none", ...}``."""
    if value is None:
        return Latency()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Latency(dist="fixed", value=float(value)) if value > 0 else Latency()
    if not isinstance(value, dict):
        raise ValueError("latency_ms must be a number or an object with a 'dist'")
    dist = value.get("dist", "fixed")
    if dist not in ("none", "fixed", "uniform", "normal"):
        raise ValueError(f"latency_ms.dist must be none, fixed, uniform or normal, not {dist!r}")
    known = {"dist", "value", "min", "max", "mean", "stddev"}
    unknown = set(value) - known
    if unknown:
        raise ValueError(f"unknown latency_ms keys: {sorted(unknown)}")
    nums = {k: float(v) for k, v in value.items() if k != "dist"}
    if any(v < 0 for v in nums.values()):
        raise ValueError("latency_ms values must not be negative")
    latency = Latency(dist=dist, **nums)
    if latency.dist == "uniform" and latency.max < latency.min:
        raise ValueError("latency_ms.max must be >= latency_ms.min")
    return latency


def apply_patch(current: FaultSettings, patch: dict[str, Any]) -> FaultSettings:
    """A new FaultSettings with the keys of ``patch`` changed; raises ValueError if invalid."""
    changes: dict[str, Any] = {}
    for key, value in patch.items():
        if key == "latency_ms":
            changes[key] = parse_latency(value)
        elif key == "scope":
            if value not in ("create", "all"):
                raise ValueError("scope must be 'create' or 'all'")
            changes[key] = value
        elif key in _RATES:
            rate = float(value)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{key} must be between 0 and 1")
            changes[key] = rate
        elif key == "clock_offset_seconds":
            offset = float(value)
            if not abs(offset) <= MAX_CLOCK_OFFSET:
                raise ValueError(f"clock_offset_seconds must be within +-{MAX_CLOCK_OFFSET:g}")
            changes[key] = offset
        elif key == "slow_ms":
            if float(value) < 0:
                raise ValueError("slow_ms must not be negative")
            changes[key] = float(value)
        else:
            raise ValueError(f"unknown fault setting {key!r}")
    result = replace(current, **changes)
    exclusive = (
        result.rate_429 + result.rate_500 + result.rate_503 + result.slow_rate + result.reset_rate
    )
    if exclusive > 1.0 + 1e-9:
        raise ValueError("rate_429 + rate_500 + rate_503 + slow_rate + reset_rate must be <= 1")
    return result


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    latency_s: float
    slow_s: float


class FaultInjector:
    """Thread-safe fault decisions from one seeded random stream."""

    def __init__(self, settings: FaultSettings, seed: int | None) -> None:
        self._initial = settings
        self._seed = seed
        self._lock = threading.Lock()
        self._settings = settings
        self._rng = random.Random(seed)

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def update(self, patch: dict[str, Any], *, replace_all: bool = False) -> FaultSettings:
        seed = patch.pop("seed", None) if "seed" in patch else None
        with self._lock:
            base = FaultSettings() if replace_all else self._settings
            self._settings = apply_patch(base, patch)
            if seed is not None:
                self._rng.seed(int(seed))
            return self._settings

    def reset(self) -> None:
        with self._lock:
            self._settings = self._initial
            self._rng.seed(self._seed)

    def decide(self, is_create: bool) -> Decision:
        with self._lock:
            s = self._settings
            latency_s = s.latency_ms.sample_ms(self._rng) / 1000.0
            if not is_create and s.scope != "all":
                return Decision("ok", latency_s, 0.0)
            u = self._rng.random()
            outcome: Outcome = "ok"
            edge = s.rate_429
            if u < edge:
                outcome = "429"
            elif u < (edge := edge + s.rate_500):
                after = self._rng.random() < s.fraction_500_after_create
                outcome = "500-after" if after else "500-before"
            elif u < (edge := edge + s.rate_503):
                outcome = "503"
            elif u < (edge := edge + s.slow_rate):
                outcome = "slow"
            elif u < edge + s.reset_rate:
                after = self._rng.random() < s.fraction_reset_after_create
                outcome = "reset-after" if after else "reset-before"
            return Decision(outcome, latency_s, s.slow_ms / 1000.0 if outcome == "slow" else 0.0)

    def chance(self, rate: float) -> bool:
        """One draw for a callback fault (duplicate, out of order)."""
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < rate
