"""What ``sms-bridge run`` says while it runs: a start line, a summary a minute, a stop line.

Pure (data in, text out): the runner gathers the figures and the clock. Lines are for a person
reading a terminal or ``journalctl -u sms-bridge-worker``, so they name things in words and
never carry a secret (the database URL is redacted, numbers are not shown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bridge.domain.models import Sender


@dataclass(frozen=True)
class Figures:
    """Cumulative counts of one worker (a snapshot of its Stats)."""

    claimed: int = 0
    submitted: int = 0
    retried: int = 0
    unknown: int = 0
    finalized: Mapping[str, int] = field(default_factory=dict)

    def minus(self, earlier: Figures) -> Figures:
        final = {
            status: n - earlier.finalized.get(status, 0)
            for status, n in self.finalized.items()
            if n - earlier.finalized.get(status, 0)
        }
        return Figures(
            claimed=self.claimed - earlier.claimed,
            submitted=self.submitted - earlier.submitted,
            retried=self.retried - earlier.retried,
            unknown=self.unknown - earlier.unknown,
            finalized=final,
        )

    @property
    def any(self) -> bool:
        return bool(self.claimed or self.submitted or self.retried or self.unknown) or any(
            self.finalized.values()
        )


def start_line(
    *,
    version: str,
    worker: str,
    database: str,
    twilio_base_url: str,
    concurrency: int,
    senders: Sequence[Sender],
) -> str:
    active = [s for s in senders if s.active]
    rates = ", ".join(f"{s.code} {s.mps:g}/s" for s in active) or "none active"
    return (
        f"sms-bridge {version} worker {worker} started: database {database}, "
        f"Twilio {twilio_base_url}, concurrency {concurrency}, senders {rates}"
    )


def summary_line(seconds: float, delta: Figures, queued: int, due: int) -> str:
    return f"last {seconds:.0f} s: {_figures(delta)}; queue {queued} ({due} due now)"


def stop_line(worker: str, seconds: float, total: Figures, reason: str) -> str:
    return f"worker {worker} stopped ({reason}) after {_duration(seconds)}: {_figures(total)}"


def should_summarise(delta: Figures, queued: int) -> bool:
    """A summary is written while there is work: something happened, or something waits."""
    return delta.any or queued > 0


def _figures(f: Figures) -> str:
    final = " ".join(f"{status} {n}" for status, n in sorted(f.finalized.items())) or "none"
    return (
        f"claimed {f.claimed}, submitted {f.submitted}, retried {f.retried}, "
        f"unknown {f.unknown}, final {final}"
    )


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{seconds:.1f} s"
