"""Opt-outs read back from Twilio's message history (pure: no I/O, time passed in).

``sms-bridge optouts sync`` and the worker's daily job list the inbound messages our numbers
received (bridge/replies/optout_sync.py applies them); this module holds what needs no I/O:
the listed message, the ``--since`` argument and the conversion of Twilio's ``date_sent`` to
our clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bridge.errors import ConfigError

# sms_optouts.source of a change read from Twilio's history (VARCHAR2(30), no CHECK list).
HISTORY_SOURCE = "twilio-history"
# Thirteen months: what the first run of the worker's job reads ([bridge]
# optout_sync_lookback_days), and the CLI's default --since.
DEFAULT_LOOKBACK_DAYS = 400

_DURATION = re.compile(r"(\d+)\s*(months?|mo|weeks?|w|days?|d|hours?|h|minutes?|min)", re.I)
_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "min": timedelta(minutes=1),
}


@dataclass(frozen=True)
class HistoryMessage:
    """One inbound message as Twilio's Messages list shows it (direction ``inbound``)."""

    sid: str
    from_number: str
    to_number: str
    body: str
    date_sent: datetime | None  # Twilio's clock, whole seconds
    messaging_service_sid: str | None = None


@dataclass(frozen=True)
class HistoryChange:
    """One opt-out or opt-in written from history (the error digest lists it, masked)."""

    phone_number: str
    scope: str
    opted_out: bool
    keyword: str
    changed_at: datetime


def parse_since(text: str, now: datetime) -> datetime:
    """``--since``: a duration back from ``now`` (13months, 30d, 12h, 2w, 90min) or an ISO date
    (``2025-11-01``, UTC midnight) or date-time with its zone. One-line ConfigError otherwise."""
    value = text.strip()
    found = _DURATION.fullmatch(value)
    if found:
        amount, unit = int(found.group(1)), found.group(2).lower()
        if unit.startswith("mo"):
            return months_before(now, amount)
        key = "min" if unit.startswith("min") else unit[0]
        try:
            return now - _UNITS[key] * amount
        except OverflowError:
            raise ConfigError(f"--since {text!r}: too far back") from None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--since {text!r}: expected a duration (13months, 30d, 12h) or an ISO date"
            " (2025-11-01, 2025-11-01T09:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise ConfigError(f"--since {text!r} has no time zone: add Z (UTC) or an offset")
    moment = moment.astimezone(UTC)
    if moment > now:
        raise ConfigError(f"--since {text!r} is in the future")
    return moment


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the 31st becomes the last day
    of a shorter month)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        raise ConfigError(f"{months} months back is before year 1")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def on_our_clock(date_sent: datetime, twilio_offset: timedelta | None) -> datetime:
    """Twilio's ``date_sent`` as a time on our clock: minus Twilio's clock minus ours (a lower
    bound read from a listing's Date header, bridge.outbound.gateway.twilio_clock_offset).

    An opt-out's time decides which change wins, so a history STOP must not overtake a live
    START that came later just because Twilio's clock runs ahead. The offset being a lower
    bound, the result may be late by the round trip plus the header's rounding (a second or
    two), never by the skew itself."""
    moment = date_sent if date_sent.tzinfo else date_sent.replace(tzinfo=UTC)
    return (moment - (twilio_offset or timedelta(0))).astimezone(UTC)
