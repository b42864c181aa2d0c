"""The store's clock: on Oracle, the database's; on SQLite, the host's.

``sms_api.enqueue`` stamps ``created_at`` and ``next_attempt_at`` with the database clock
(``SYSTIMESTAMP``), since ERP code queues from PL/SQL; the worker claims what is due and leases
it. Had the worker compared those stamps with the host's clock, any skew between the two would
delay (or advance) every ERP-queued message and shorten or stretch every lease. So every time
the bridge binds as "now" comes from here: the host's UTC clock plus the offset to the database
clock, measured at start and every few minutes (one round trip; the measurement's own latency
is halved out). SQLite has no clock of its own: there the offset is zero and nothing is measured.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

# The database's "now" in UTC, per engine. SYS_EXTRACT_UTC of SYSTIMESTAMP: the instance's
# clock with its own zone taken out (SYSDATE would be in the server OS's zone, to the second).
DATABASE_NOW_SQL = {"oracle": "SELECT SYS_EXTRACT_UTC(SYSTIMESTAMP) AS db_now FROM dual"}

REFRESH_SECONDS = 300.0
RETRY_SECONDS = 30.0
WARN_OFFSET_SECONDS = 2.0


def host_utc() -> datetime:
    return datetime.now(UTC)


class StoreClock:
    """``now()``: host UTC + the measured offset to the database's clock (thread-safe)."""

    def __init__(
        self,
        measure: Callable[[], datetime | tuple[datetime, datetime, datetime]] | None,
        *,
        host: Callable[[], datetime] = host_utc,
        monotonic: Callable[[], float] = time.monotonic,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self._measure = measure
        self._host = host
        self._monotonic = monotonic
        self._refresh_seconds = refresh_seconds
        self._offset = timedelta(0)
        self._measured_at: float | None = None
        self._refreshing = False
        self._lock = threading.Lock()
        self._measuring = threading.Lock()

    def host(self) -> datetime:
        return self._host()

    @property
    def follows_database(self) -> bool:
        return self._measure is not None

    def now(self) -> datetime:
        if self._measure is not None:
            at = self._measured_at
            if at is None:
                self.refresh()  # the first reading: nothing to go on without it
            elif self._monotonic() - at >= self._refresh_seconds:
                self._refresh_in_background()
        return self._host() + self._offset

    def _refresh_in_background(self) -> None:
        """A stale offset is still good for seconds: refresh it off the caller's path, so a
        webhook answer or a claim never waits for the measurement (or for a database that is
        down, which could take the pool's whole wait)."""
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True

        def run() -> None:
            try:
                self.refresh()
            finally:
                with self._lock:
                    self._refreshing = False

        threading.Thread(target=run, name="store-clock", daemon=True).start()

    def offset(self) -> timedelta:
        """Database clock minus host clock (zero on SQLite); measures first if never did."""
        if self._measure is not None and self._measured_at is None:
            self.refresh()
        return self._offset

    def refresh(self) -> None:
        """Measure the offset again. A failure (the database is down) keeps the last offset and
        is retried at the next refresh: the caller's own statement will report the outage."""
        if self._measure is None:
            return
        with self._measuring:
            before = self._host()
            try:
                reading = self._measure()
            except Exception as exc:
                log.warning("could not read the database clock (%s); offset kept", exc)
                # Try again in RETRY_SECONDS, not a whole refresh period later.
                self._measured_at = self._monotonic() - self._refresh_seconds + RETRY_SECONDS
                return
            after = self._host()
            if isinstance(reading, tuple):  # (database, before, after) timed by the measurer
                raw, before, after = reading
            else:
                raw = reading
            database = _as_utc(raw)
            offset = database - (before + (after - before) / 2)
            changed = abs((offset - self._offset).total_seconds()) >= 0.5
            first = self._measured_at is None
            self._offset = offset
            self._measured_at = self._monotonic()
        seconds = offset.total_seconds()
        if abs(seconds) > WARN_OFFSET_SECONDS and (first or changed):
            log.warning(
                "the database clock is %s; the bridge uses the database's", describe(offset)
            )
        elif first or changed:
            log.info("database clock offset %+.3f s", seconds)


def describe(offset: timedelta) -> str:
    seconds = offset.total_seconds()
    side = "ahead of" if seconds >= 0 else "behind"
    return f"{abs(seconds):.1f} s {side} this host's"


def _as_utc(value: datetime) -> datetime:
    # Oracle returns SYS_EXTRACT_UTC(...) as a TIMESTAMP without a zone: it is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
