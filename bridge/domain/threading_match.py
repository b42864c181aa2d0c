"""Matching a reply to the outbound message it answers (pure: no I/O, time passed in).

SMS has no thread id. In order:

1. A reference code quoted in the reply ("YES 4821") that equals the ``reply_code`` of an
   outbound message to that number. One message: REFERENCE. Several (a code reused while
   both messages are recent): AMBIGUOUS.
2. Else the latest message from the same sender number to that number within the window:
   LATEST. Unless two or more messages in the window asked for coded replies: the sender relied
   on codes to tell them apart and the reply quoted none, so picking the latest would be a
   guess. That is AMBIGUOUS.
3. Nothing in the window: NONE.

AMBIGUOUS and NONE rows keep ``outbound_id`` empty: they are shown in the digest as such, never
attached to a message by a silent guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# Reference codes are short tokens with at least one digit ("4821", "HR-2291", "A7K9"): words
# of the reply such as "YES" or "DONE" are never taken for a code.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{1,15}")
MAX_CODES = 10
# Reference matching looks back further than the LATEST window (a code is explicit), but not
# forever: codes are short and get reused.
REFERENCE_LOOKBACK = timedelta(days=30)
# Statuses of a message the recipient may have received and may be answering.
ANSWERABLE_STATUSES = ("SUBMITTED", "SENT", "DELIVERED")


class MatchMethod(StrEnum):
    REFERENCE = "REFERENCE"
    LATEST = "LATEST"
    AMBIGUOUS = "AMBIGUOUS"
    NONE = "NONE"


@dataclass(frozen=True)
class Candidate:
    """An outbound message that a reply from its recipient might answer."""

    outbound_id: int
    sent_at: datetime
    reply_code: str | None = None
    recipient_type: str | None = None
    recipient_id: str | None = None


@dataclass(frozen=True)
class ThreadMatch:
    method: MatchMethod
    outbound: Candidate | None = None

    @property
    def outbound_id(self) -> int | None:
        return None if self.outbound is None else self.outbound.outbound_id


def is_reply_code(code: str) -> bool:
    """Whether ``reference_codes`` can find ``code`` in a reply: a code it cannot find would
    never match by reference, and every reply would fall back to the time window."""
    return reference_codes(code) == [code.upper()]


def reference_codes(body: str | None) -> list[str]:
    """Tokens of the reply that could be reply codes, upper-cased, in order, without repeats."""
    codes: list[str] = []
    for token in _TOKEN.findall(body or ""):
        code = token.strip("-").upper()
        if any(c.isdigit() for c in code) and code not in codes:
            codes.append(code)
    return codes[:MAX_CODES]


def window_start(now: datetime, window_hours: float) -> datetime:
    return now - timedelta(hours=window_hours)


def reference_start(now: datetime) -> datetime:
    return now - REFERENCE_LOOKBACK


def match(
    codes: Sequence[str],
    by_reference: Sequence[Candidate],
    in_window: Sequence[Candidate],
) -> ThreadMatch:
    """Pick the thread.

    ``by_reference``: messages to this number whose reply_code is one of ``codes`` (any
    sender, within :data:`REFERENCE_LOOKBACK`). ``in_window``: messages from the same sender
    number to this number within the window.
    """
    wanted = {c.upper() for c in codes}
    hits = {c.outbound_id: c for c in by_reference if (c.reply_code or "").upper() in wanted}
    if len(hits) == 1:
        return ThreadMatch(MatchMethod.REFERENCE, next(iter(hits.values())))
    if len(hits) > 1:
        return ThreadMatch(MatchMethod.AMBIGUOUS)
    if not in_window:
        return ThreadMatch(MatchMethod.NONE)
    coded = [c for c in in_window if c.reply_code]
    if len(coded) > 1:
        return ThreadMatch(MatchMethod.AMBIGUOUS)
    latest = max(in_window, key=lambda c: (c.sent_at, c.outbound_id))
    return ThreadMatch(MatchMethod.LATEST, latest)
