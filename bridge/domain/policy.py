"""Sending policy (pure: time and randomness are passed in).

Quiet hours in the recipient's zone, expiry, retry backoff with jitter, and the table that
classifies Twilio's answers into what the worker does next.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def zone_for(view_zone: str | None, number_zones: tuple[str, ...], sender_zone: str) -> ZoneInfo:
    """The recipient's zone: the view's, else the number's (if unambiguous), else the sender's."""
    candidates = [view_zone] if view_zone else []
    if len(number_zones) == 1:
        candidates.append(number_zones[0])
    candidates.append(sender_zone)
    for name in candidates:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def quiet_until(
    now: datetime, zone: ZoneInfo, quiet_start: str | None, quiet_end: str | None
) -> datetime | None:
    """The next allowed instant if ``now`` is inside the quiet window, else None.

    The window may wrap midnight (21:00-08:00). Times are wall-clock in the recipient's zone.
    """
    if not quiet_start or not quiet_end:
        return None
    start, end = _parse_hhmm(quiet_start), _parse_hhmm(quiet_end)
    if start == end:
        return None
    local = now.astimezone(zone)
    t = local.time().replace(tzinfo=None)
    wraps = start > end
    inside = (t >= start or t < end) if wraps else (start <= t < end)
    if not inside:
        return None
    end_day = local.date()
    if wraps and t >= start:
        end_day += timedelta(days=1)
    allowed = datetime.combine(end_day, end, tzinfo=zone)
    return allowed.astimezone(now.tzinfo)


def is_expired(now: datetime, expires_at: datetime | None) -> bool:
    return expires_at is not None and now >= expires_at


# Twilio's ValidityPeriod: whole seconds a message may wait in Twilio's queue, 1 to 36,000 (its
# default and maximum, 10 hours). Past it Twilio fails the message with 30036 instead of sending.
MAX_VALIDITY_SECONDS = 36_000


def validity_period(
    now: datetime, expires_at: datetime | None, default_seconds: int | None
) -> int | None:
    """The ValidityPeriod of a create at ``now``: the whole seconds left before the message's
    expiry (rounded down: Twilio must not send it after), or the sender's default when that is
    shorter or there is no expiry; None when neither applies (Twilio's own 36,000 s)."""
    limits: list[int] = []
    if expires_at is not None:
        limits.append(int((expires_at - now).total_seconds()))
    if default_seconds is not None:
        limits.append(int(default_seconds))
    if not limits:
        return None
    return max(1, min(MAX_VALIDITY_SECONDS, *limits))


def backoff(attempt: int, base_seconds: float, max_seconds: float, rand: float) -> timedelta:
    """Exponential backoff with jitter: ``rand`` in [0, 1) spreads retries over 50-100%."""
    ceiling = min(max_seconds, base_seconds * (2 ** max(0, attempt - 1)))
    return timedelta(seconds=ceiling * (0.5 + rand / 2))


class Action(enum.Enum):
    SUBMITTED = "submitted"
    RETRY = "retry"  # Twilio did not process the request: safe to send again later
    UNKNOWN = "unknown"  # the request may have created a message: reconcile before anything
    SUPPRESS = "suppress"  # recipient opted out at Twilio (21610)
    INVALID = "invalid"  # the number cannot receive SMS
    FAIL = "fail"  # final rejection with Twilio's code
    STOP = "stop"  # our credentials are wrong: stop sending, alert at once


@dataclass(frozen=True)
class Outcome:
    action: Action
    code: int | None = None
    message: str | None = None
    sid: str | None = None
    provider_status: str | None = None


# Twilio error codes with a specific action; every other 4xx is a final FAIL with its code.
CODE_ACTIONS: dict[int, Action] = {
    20429: Action.RETRY,  # too many requests
    20003: Action.STOP,  # authentication failed
    20005: Action.STOP,  # account not active
    21610: Action.SUPPRESS,  # attempt to send to an unsubscribed recipient
    21211: Action.INVALID,  # invalid 'To' number
    21614: Action.INVALID,  # 'To' is not a valid mobile number (landline)
    21612: Action.INVALID,  # 'To' is not currently reachable via SMS
    21408: Action.FAIL,  # permission to send to this region not enabled
}


def classify_http(status: int, code: int | None) -> Action:
    """What to do with an HTTP error answer from Twilio (the request reached Twilio)."""
    if code is not None and code in CODE_ACTIONS:
        return CODE_ACTIONS[code]
    if status == 429:
        return Action.RETRY
    if status in (401, 403):
        return Action.STOP
    if status >= 500:
        # The request was received; Twilio may have created the message before failing.
        return Action.UNKNOWN
    return Action.FAIL


def classify_transport(sent: bool) -> Action:
    """A network error: before the request left us it is safe to retry, after it is unknown."""
    return Action.UNKNOWN if sent else Action.RETRY
