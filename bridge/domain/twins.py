"""Identical twins: never two creates of one text to one number unresolved at once.

Twilio's Messages API has no idempotency key, and a listed message does not show the
StatusCallback URL that names our row. After a create of unknown outcome (a 500 after the
create, a timeout, a reset) recovery can only recognise the message by To, From and Body. Two
rows with the same number and text, both unresolved, would be indistinguishable: recovery could
give one row the other's message and send the other again. So the later one waits until the
earlier is resolved (submitted with its SID, or proven absent and queued again); then every
listed message of that text belongs to a row whose SID is known, or to the one row in doubt.

The key is the number and the text, whichever sender: two senders may share a From number or a
Messaging Service, and waiting is cheap while an ambiguity is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# How long a held twin waits before it is claimed again: at least a second (the earlier create
# is usually answered in well under one), at most a few (an unknown outcome is reconciled after
# its grace; the held row must not wait a whole lease for an in-flight create that finished).
MIN_WAIT = timedelta(seconds=1)
MAX_WAIT = timedelta(seconds=5)


@dataclass(frozen=True)
class Prepared:
    """A claimed message about to be created: its row, the number used and the text."""

    id: int
    to_number: str
    body: str


@dataclass(frozen=True)
class Unresolved:
    """A row in SENDING with a prepared number: its create is in flight or of unknown outcome."""

    id: int
    to_number: str
    body: str
    lease_until: datetime | None
    claimed_by: str | None = None


@dataclass(frozen=True)
class Hold:
    """``id`` waits for ``blocker`` (another row with the same number and text) until ``until``."""

    id: int
    blocker: int
    until: datetime


def hold_twins(
    batch: Sequence[Prepared], unresolved: Sequence[Unresolved], now: datetime
) -> list[Hold]:
    """Which of ``batch`` must wait, and for which row.

    ``unresolved`` are the other rows in SENDING (the batch's own rows may be among them; they
    are ignored). Within the batch the first of a pair goes (the batch is in claim order) and
    the later ones wait for it.
    """
    mine = {p.id for p in batch}
    busy: dict[tuple[str, str], Unresolved] = {}
    for row in unresolved:
        if row.id not in mine:
            busy.setdefault((row.to_number, row.body), row)
    holds: list[Hold] = []
    for prepared in batch:
        key = (prepared.to_number, prepared.body)
        blocker = busy.get(key)
        if blocker is None:
            # This one goes: its later twins in the batch wait for it, for the longest time.
            busy[key] = Unresolved(prepared.id, prepared.to_number, prepared.body, None)
            continue
        holds.append(Hold(prepared.id, blocker.id, now + _wait(blocker.lease_until, now)))
    return holds


def _wait(lease_until: datetime | None, now: datetime) -> timedelta:
    if lease_until is None:
        return MAX_WAIT
    return min(MAX_WAIT, max(MIN_WAIT, lease_until - now))
