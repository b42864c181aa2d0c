"""In-memory records of one sandbox run: messages, opt-outs, and the request and callback logs.

One lock guards everything; each operation holds it only for dictionary and list work, never for
I/O or sleeps, so it does not limit concurrency. ``generation`` changes on reset so that work
scheduled before a reset (lifecycle steps, queued callbacks) is dropped instead of leaking into
the next test.
"""

from __future__ import annotations

import itertools
import random
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.segments import SegmentInfo

# SIDs need uniqueness, not secrecy: a PRNG seeded once from the OS is far cheaper per create
# than os.urandom (a syscall each time), and getrandbits is atomic under the GIL.
_sid_random = random.Random(secrets.randbits(64))


def random_hex(digits: int = 32) -> str:
    return f"{_sid_random.getrandbits(digits * 4):0{digits}x}"


def new_sid(prefix: str) -> str:
    return prefix + random_hex(32)


@dataclass(slots=True)
class Message:
    seq: int
    sid: str
    account_sid: str
    direction: str  # "outbound-api" or "inbound"
    to: str
    sender: str | None  # the number that sends it (hidden as "from" while status is accepted)
    messaging_service_sid: str | None
    body: str
    status: str
    segments: SegmentInfo
    date_created: datetime
    date_updated: datetime
    generation: int
    date_sent: datetime | None = None
    price: Decimal | None = None  # positive here; Twilio's JSON shows the charge negative
    price_unit: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    status_callback: str | None = None
    validity_period: int | None = None
    create_params: dict[str, str] | None = None
    history: list[tuple[str, datetime]] = field(default_factory=list)
    # Out-of-order callbacks: intermediate callbacks are held here and sent after the final one.
    reorder_callbacks: bool = False
    held_callbacks: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class OptOut:
    handset: str
    scope: str  # a sender number, a Messaging Service SID, or "*" (STOPALL)
    keyword: str
    source: str
    changed_at: datetime


class Store:
    def __init__(self, log_limit: int = 200_000) -> None:
        self.lock = threading.Lock()
        self.generation = 0
        self._seq = itertools.count(1)
        self._messages: dict[str, Message] = {}
        self._order: list[Message] = []  # creation order; lists walk it backwards
        self._optouts: dict[tuple[str, str], OptOut] = {}
        # Bounded, so a long demo run cannot grow without limit; seq numbers keep counting.
        self._requests: deque[dict[str, Any]] = deque(maxlen=log_limit)
        self._callbacks: deque[dict[str, Any]] = deque(maxlen=log_limit)
        self._request_seq = itertools.count(1)
        self._callback_seq = itertools.count(1)

    def next_seq(self) -> int:
        return next(self._seq)

    # -- messages -------------------------------------------------------------------------
    def add_message(self, message: Message) -> None:
        with self.lock:
            self._messages[message.sid] = message
            self._order.append(message)

    def add_backdated(self, message: Message) -> None:
        """A message dated before others already held (a handset's text from the past): placed
        by date_created, as Twilio lists newest first by date."""
        with self.lock:
            self._messages[message.sid] = message
            at = len(self._order)
            while at > 0 and self._order[at - 1].date_created > message.date_created:
                at -= 1
            self._order.insert(at, message)

    def get(self, sid: str) -> Message | None:
        with self.lock:
            return self._messages.get(sid)

    def newest_first(self, keep: Callable[[Message], bool]) -> list[Message]:
        with self.lock:
            return [m for m in reversed(self._order) if keep(m)]

    def update(self, sid: str, generation: int, change: Callable[[Message], None]) -> bool:
        """Apply ``change`` under the lock unless the message is gone or from an older run."""
        with self.lock:
            message = self._messages.get(sid)
            if message is None or message.generation != generation:
                return False
            change(message)
            return True

    def message_count(self) -> int:
        with self.lock:
            return len(self._order)

    # -- opt-outs -------------------------------------------------------------------------
    def set_optout(self, entry: OptOut, opted_out: bool) -> None:
        with self.lock:
            key = (entry.handset, entry.scope)
            if opted_out:
                self._optouts[key] = entry
            else:
                self._optouts.pop(key, None)

    def clear_optouts(self, handset: str, scopes: tuple[str, ...]) -> list[str]:
        with self.lock:
            removed = [s for s in scopes if self._optouts.pop((handset, s), None) is not None]
            return removed

    def is_opted_out(self, handset: str, scope: str) -> bool:
        with self.lock:
            return (handset, scope) in self._optouts or (handset, "*") in self._optouts

    def optouts(self) -> list[OptOut]:
        with self.lock:
            return list(self._optouts.values())

    # -- logs -----------------------------------------------------------------------------
    def log_request(self, entry: dict[str, Any], generation: int) -> None:
        with self.lock:
            if generation != self.generation:  # began before a reset: not this run's record
                return
            entry["seq"] = next(self._request_seq)
            self._requests.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._requests)

    def log_callback(self, entry: dict[str, Any]) -> None:
        with self.lock:
            entry["seq"] = next(self._callback_seq)
            self._callbacks.append(entry)

    def callbacks(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._callbacks)

    def reset(self) -> int:
        with self.lock:
            self.generation += 1
            self._messages.clear()
            self._order.clear()
            self._optouts.clear()
            self._requests.clear()
            self._callbacks.clear()
            self._request_seq = itertools.count(1)
            self._callback_seq = itertools.count(1)
            return self.generation
