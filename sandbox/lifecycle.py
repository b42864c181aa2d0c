"""The clock that moves outbound messages on: [accepted ->] queued -> sending -> sent -> final.

At create time each message gets a plan (when each step happens), so the clock thread only pops
due steps from a heap. Plans follow Twilio: date_sent and the price appear when the message is
sent, the price once it is delivered or undelivered (with the final status, or a "priced" step
``Pricing.delay_seconds`` later, as Twilio often prices minutes after); ``failed`` happens
instead of sending (no date_sent, no price); ``undelivered`` after it was sent. With
``mps`` set, each sender number releases at most that many segments per second (Twilio's per-sender
queue), and a message still queued when its ValidityPeriod runs out fails with 30036.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sandbox.callbacks import CallbackJob, CallbackSender, make_job
from sandbox.errors import DELIVERY_ERRORS
from sandbox.faults import FaultInjector
from sandbox.pricing import PRICED_STATUSES, Pricing
from sandbox.rules import Final
from sandbox.settings import SandboxSettings
from sandbox.shapes import API_VERSION
from sandbox.state import Message, Store

FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed"})
# Twilio POSTs status callbacks on these changes (not for "sending", nor the initial status).
CALLBACK_STATUSES = frozenset({"queued", "sent", "delivered", "undelivered", "failed"})


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(order=True, frozen=True)
class Step:
    due: float
    seq: int
    sid: str = field(compare=False)
    generation: int = field(compare=False)
    status: str = field(compare=False)
    error_code: int | None = field(compare=False, default=None)


class Lifecycle:
    def __init__(
        self,
        store: Store,
        settings: SandboxSettings,
        faults: FaultInjector,
        callbacks: CallbackSender,
        wall: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        pricing: Callable[[], Pricing] | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        # The current pricing (the control API can change it); the start-up one by default.
        self._pricing = pricing or (lambda: settings.pricing)
        self._faults = faults
        self._callbacks = callbacks
        self._wall = wall
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._heap: list[Step] = []
        self._seq = itertools.count()
        self._next_free: dict[str, float] = {}  # sender -> when its queue can release again
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- planning -------------------------------------------------------------------------
    def plan(self, message: Message, final: Final, error_code: int | None) -> None:
        t = self._settings.timings
        start = self._monotonic()
        steps: list[tuple[float, str, int | None]] = []
        ready = start
        if message.status == "accepted":
            ready += t.accepted
            steps.append((ready, "queued", None))
        with self._cond:
            send_at = ready + t.queued
            if self._settings.mps > 0 and message.sender is not None:
                send_at = max(send_at, self._next_free.get(message.sender, 0.0))
                self._next_free[message.sender] = (
                    send_at + message.segments.segments / self._settings.mps
                )
            validity = message.validity_period
            if validity is not None and send_at - start > validity:
                steps.append((start + validity, "failed", 30036))
            elif final == "failed":
                steps.append((send_at, "failed", error_code))
            else:
                sent_at = send_at + t.sending
                steps.append((send_at, "sending", None))
                steps.append((sent_at, "sent", None))
                steps.append((sent_at + t.delivery, final, error_code))
            for due, status, code in steps:
                step = Step(due, next(self._seq), message.sid, message.generation, status, code)
                heapq.heappush(self._heap, step)
            self._cond.notify()

    def reset(self) -> None:
        with self._cond:
            self._heap.clear()
            self._next_free.clear()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    # -- the clock thread -----------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-lifecycle", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    now = self._monotonic()
                    if self._heap and self._heap[0].due <= now:
                        break
                    timeout = self._heap[0].due - now if self._heap else None
                    self._cond.wait(timeout)
                if self._stopping:
                    return
                due: list[Step] = []
                now = self._monotonic()
                while self._heap and self._heap[0].due <= now:
                    due.append(heapq.heappop(self._heap))
            for step in due:  # outside the lock: applying a step may queue callbacks
                self.apply(step)

    def _push(self, step: Step) -> None:
        with self._cond:
            heapq.heappush(self._heap, step)
            self._cond.notify()

    def apply(self, step: Step) -> None:
        jobs: list[CallbackJob] = []
        pricing = self._pricing()
        if step.status == PRICED:
            now = self._wall()
            self._store.update(step.sid, step.generation, lambda m: _price(m, pricing, now))
            return

        def change(m: Message) -> None:
            now = self._wall()
            m.status = step.status
            m.date_updated = now
            m.history.append((step.status, now))
            if step.status == "sent":
                m.date_sent = now
            if step.status in PRICED_STATUSES and pricing.delay_seconds <= 0:
                _price(m, pricing, now)
            if step.error_code is not None:
                m.error_code = step.error_code
                m.error_message = DELIVERY_ERRORS.get(step.error_code)
            if m.status_callback and step.status in CALLBACK_STATUSES:
                job = make_job(
                    m.generation, "status", m.status_callback, status_params(m, now), m.sid
                )
                if m.reorder_callbacks and step.status not in FINAL_STATUSES:
                    m.held_callbacks.append(job.params)  # sent after the final one
                    return
                jobs.append(job)
                if step.status in FINAL_STATUSES:
                    jobs.extend(
                        make_job(m.generation, "status", m.status_callback, held, m.sid)
                        for held in m.held_callbacks
                    )
                    m.held_callbacks.clear()

        if not self._store.update(step.sid, step.generation, change):
            return
        if step.status in PRICED_STATUSES and pricing.delay_seconds > 0:
            due = self._monotonic() + pricing.delay_seconds
            self._push(Step(due, next(self._seq), step.sid, step.generation, PRICED))
        rate = self._faults.settings.callback_duplicate_rate
        for job in jobs:
            self._callbacks.submit(job)
            if self._faults.chance(rate):
                # Same token as the original: that is how a receiver can tell a redelivery.
                self._callbacks.submit(
                    CallbackJob(
                        job.generation,
                        job.kind,
                        job.url,
                        job.params,
                        job.sid,
                        job.idempotency_token,
                        duplicate=True,
                    )
                )


PRICED = "priced"  # not a status: the step that sets the price of a final message


def _price(m: Message, pricing: Pricing, now: datetime) -> None:
    m.price = pricing.per_segment * m.segments.segments
    m.price_unit = pricing.unit
    m.date_updated = now


def status_params(m: Message, now: datetime) -> dict[str, str]:
    """The form fields of a Twilio message status callback."""
    params = {
        "AccountSid": m.account_sid,
        "ApiVersion": API_VERSION,
        "From": m.sender or "",
        "MessageSid": m.sid,
        "MessageStatus": m.status,
        "SmsSid": m.sid,
        "SmsStatus": m.status,
        "To": m.to,
    }
    if m.messaging_service_sid:
        params["MessagingServiceSid"] = m.messaging_service_sid
    if m.status in ("undelivered", "failed") and m.error_code is not None:
        params["ErrorCode"] = str(m.error_code)
    if m.status in ("delivered", "undelivered"):
        params["RawDlrDoneDate"] = now.strftime("%y%m%d%H%M")  # carrier's done date, YYMMDDhhmm
    return params
