"""While the database is failing, webhooks are spooled at once, and one at a time probes it.

Each webhook's database wait is bounded (``[inbound] webhook_db_wait_ms``), but a process has
only so many threads: with every request waiting its full bound, a burst during an outage
queues behind itself (measured: 2 workers x 8 threads at 2 s each drain ~8 webhooks/s; at 19/s
during a 20 s write lock answers reached 14 s, past Twilio's 15 s limit). So after a webhook
finds the database unavailable, the process's other webhooks are spooled without touching it;
one request a second still tries the database, and the first that succeeds closes the breaker.
Nothing is lost either way: the spool replay applies what was spooled, once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

PROBE_INTERVAL_SECONDS = 1.0


class OutageBreaker:
    """Per process (shared by the webhooks' threads): closed, or open since a failure."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._open = False
        self._next_probe = 0.0
        self.reason = ""

    @property
    def is_open(self) -> bool:
        return self._open

    def may_try(self) -> bool:
        """True when this request should use the database: always while closed; while open,
        for one request a probe interval (the others are spooled at once)."""
        with self._lock:
            if not self._open:
                return True
            now = self._monotonic()
            if now < self._next_probe:
                return False
            self._next_probe = now + PROBE_INTERVAL_SECONDS
            return True

    def failed(self, reason: str) -> None:
        with self._lock:
            if not self._open:
                self._next_probe = self._monotonic() + PROBE_INTERVAL_SECONDS
            self._open = True
            self.reason = reason

    def succeeded(self) -> None:
        with self._lock:
            self._open = False
            self.reason = ""
