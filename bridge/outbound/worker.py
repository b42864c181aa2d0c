"""The outbound worker: claim, prepare, send, record (design §4).

One coordinating thread talks to the database; the creates run on one event loop (``[bridge]
io = "async"``, bridge.outbound.async_http) or on a pool of threads (``"threads"``). In-flight
creates are bounded by ``[bridge] concurrency``; accepted creates are recorded in batches.
Every claimed message is, before the loop moves on, either started, waiting in ``ready`` for a
slot (claimed ahead, past the send gate), finalised, or deferred, so a shutdown only has to
wait for the creates and give back what never started.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bridge.config import Settings
from bridge.domain import segments
from bridge.domain.models import Message, Sender, SubmitResult
from bridge.domain.phone import mask
from bridge.domain.policy import Action, Outcome, backoff, validity_period
from bridge.domain.statuses import Status
from bridge.errors import SendGateBusy
from bridge.mail.notify import Notifier
from bridge.outbound.account_gate import AccountGate
from bridge.outbound.async_http import EventLoopThread
from bridge.outbound.gateway import TwilioGateway
from bridge.outbound.line_type_screen import LineTypeScreen
from bridge.outbound.metrics import WORKER as METRICS
from bridge.outbound.prepare import Defer, Finish, Send
from bridge.outbound.recipient_numbers import decide
from bridge.store import Store

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.25
Clock = Callable[[], datetime]


@dataclass
class Flight:
    message: Message
    sender: Sender
    to: str
    segments: int
    encoding: str


@dataclass
class Stats:
    claimed: int = 0
    submitted: int = 0
    retried: int = 0
    unknown: int = 0
    finalized: dict[str, int] = field(default_factory=dict)

    def final(self, status: Status) -> None:
        self.finalized[status.value] = self.finalized.get(status.value, 0) + 1


class Worker:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        gateway: TwilioGateway,
        notifier: Notifier,
        *,
        clock: Clock,
        name: str,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.cfg = settings.bridge
        self.store = store
        self.gateway = gateway
        self.notifier = notifier
        self.clock = clock
        self.name = name
        self.rand = rand
        self.pool = ThreadPoolExecutor(
            max_workers=self.cfg.concurrency, thread_name_prefix="twilio-send"
        )
        # [bridge] io = "async": creates run on one event loop (its thread starts with the
        # first); the pool then only serves the line-type look-ups. Either way a create is a
        # concurrent.futures.Future in in_flight, recorded by collect() on this thread.
        self.loop = EventLoopThread() if self.cfg.io == "async" else None
        self.in_flight: dict[Future[Outcome], Flight] = {}
        # Claimed, past the send gate, waiting for a free slot (at most a quarter of them).
        self.ready: deque[Flight] = deque()
        self.pending: list[SubmitResult] = []
        self.pending_since = 0.0
        self.stop_event = threading.Event()
        self.stats = Stats()
        self._senders: dict[str, Sender] = {}
        self._rounds = 0
        self.line_types = LineTypeScreen(store, gateway)
        # Senders held (account not configured) or refused (credentials): not claimed.
        self.accounts = AccountGate(settings.twilio, notifier, self.sender)
        self.broken = self.accounts.refused  # the runner re-checks and clears these

    # -- one step of the loop ------------------------------------------------------------

    def step(self) -> int:
        """Record what finished, claim what fits; returns how many messages were claimed."""
        self.collect(block=False)
        claimed = 0
        # Claim in batches, not a row or two per freed slot: every claim round costs a probe, a
        # claim transaction and a prepared-rows write (measured: 2.8 rows per claim at
        # concurrency 32 cost half the worker's CPU). A quarter of the slots at a time, claimed
        # ahead: up to that many rows wait past the send gate (``ready``) for a slot, so a
        # finished create's slot is refilled at once rather than after the next claim round
        # (measured: waiting for a quarter of the slots to be free left 13 of 64 idle).
        threshold = max(1, min(self.cfg.batch_size, self.cfg.concurrency // 4))
        ahead = threshold if self.in_flight else 0
        capacity = self.cfg.concurrency + ahead - len(self.in_flight) - len(self.ready)
        if self.in_flight and capacity < threshold:
            capacity = 0
        if capacity > 0 and not self.stop_event.is_set():
            now = self.clock()
            # Start each round at the next sender: with the capacity short, the first sender
            # in a fixed order would take it every round and starve the others.
            ready = self.store.ready_senders(now)
            if ready:
                start = self._rounds % len(ready)
                ready = ready[start:] + ready[:start]
                self._rounds += 1
            for code in ready:
                if capacity <= 0:
                    break
                if self.accounts.blocked(code):
                    continue
                batch = self.store.claim_batch(
                    code,
                    min(capacity, self.cfg.batch_size),
                    now,
                    lease_seconds=self.cfg.lease_seconds,
                    worker=self.name,
                    segments_of=lambda body: segments.count(body).segments,
                )
                METRICS.claimed(code, len(batch))
                capacity -= len(batch)
                claimed += len(batch)
                self.launch(batch, now)
        self.stats.claimed += claimed
        return claimed

    def launch(self, batch: list[Message], now: datetime) -> None:
        flights: list[Flight] = []
        decided = []
        region = self.cfg.default_region
        for message in batch:
            sender = self.sender(message.sender_code)
            decision = decide(self.store, message, sender, now, default_region=region)
            decided.append((message, sender, decision))
        # Which of a recipient's numbers was used and why the others were skipped (several
        # numbers only), recorded before what follows, in one write for the batch.
        self.store.record_number_choices(
            [(m.id, d.number_choice) for m, _, d in decided if d.number_choice], now
        )
        for message, sender, decision in decided:
            if isinstance(decision, Send):
                flights.append(
                    Flight(message, sender, decision.to, decision.segments, decision.encoding)
                )
            elif isinstance(decision, Finish):
                self.store.finalize(
                    message.id,
                    decision.status,
                    now,
                    reason=decision.reason,
                    to_number=decision.to,
                    num_segments=decision.segments,
                    encoding=decision.encoding,
                )
                self.stats.final(decision.status)
                log.info("#%s %s: %s", message.id, decision.status, decision.reason)
            elif isinstance(decision, Defer):
                self.store.requeue(
                    message.id, decision.until, now, reason=decision.reason, count_attempt=False
                )
                log.info("#%s deferred: %s", message.id, decision.reason)
        # A landline is final before the send gate sees it: no create, and no twin entry.
        flights = self.screen_line_types(flights, now)
        # The number actually used is on the row before Twilio sees the request; a message
        # whose identical twin (same number and text) is still unresolved waits for it.
        try:
            gate = self.store.record_prepared(
                [(f.message.id, f.to, f.segments, f.encoding) for f in flights],
                now,
                worker=self.name,
                dedupe={
                    f.message.id: (f.sender.code, f.sender.dedupe_window_seconds)
                    for f in flights
                    if f.sender.dedupe_window_seconds
                },
            )
        except SendGateBusy as exc:  # nothing was written: give the claims back, unspent
            self.store.release(
                [f.message.id for f in flights],
                self.clock(),
                worker=self.name,
                reason="claim given back: the identical-twin gate was busy",
            )
            log.warning("%s: %d claim(s) given back, claimed again later", exc, len(flights))
            return
        for hold in gate.holds:
            log.info("#%s waits for #%s: the same text to the same number", hold.id, hold.blocker)
        for duplicate, earlier in gate.duplicates:
            self.stats.final(Status.SUPPRESSED)
            log.info("#%s SUPPRESSED: duplicate of #%s (dedupe window)", duplicate, earlier)
        for gone in gate.gone:
            log.warning("#%s is no longer this worker's claim (recovery took it): not sent", gone)
        withheld = gate.withheld
        for flight in flights:
            if flight.message.id not in withheld:
                self.ready.append(flight)
        self.start_ready()

    def start_ready(self) -> None:
        """Start the creates of ready flights while slots are free. Once the worker stops, or
        Twilio refused the credentials of a flight's account, they are given back instead
        (never started: the attempt does not count)."""
        stopping = self.stop_event.is_set()
        if self.ready and (stopping or self.broken):
            unsent = {
                f.message.id
                for f in self.ready
                if stopping or f.sender.twilio_account in self.broken
            }
            if unsent:
                kept = [f for f in self.ready if f.message.id not in unsent]
                self.ready.clear()
                self.ready.extend(kept)
                self.store.release(
                    sorted(unsent),
                    self.clock(),
                    worker=self.name,
                    reason="claim released before its create",
                )
            if stopping:
                return
        while self.ready and len(self.in_flight) < self.cfg.concurrency:
            flight = self.ready.popleft()
            self.in_flight[self.dispatch(flight)] = flight

    def dispatch(self, flight: Flight) -> Future[Outcome]:
        """Start the create of ``flight``: on the event loop, or on a send thread."""
        if self.loop is not None:
            return self.loop.submit(METRICS.timed_async(self.send_async(flight)))
        return self.pool.submit(METRICS.timed, self.send, flight)

    def screen_line_types(self, flights: list[Flight], now: datetime) -> list[Flight]:
        """The flights left once landlines are INVALID (senders with ``line_type_lookup``;
        bridge.outbound.line_type_screen), before the send gate: no create, no twin hold."""
        refused = self.line_types.refused(flights, now, self.pool)
        kept: list[Flight] = []
        for flight in flights:
            reason = refused.get(flight.to) if flight.sender.line_type_lookup else None
            if reason is None:
                kept.append(flight)
                continue
            self.store.finalize(
                flight.message.id,
                Status.INVALID,
                now,
                reason=reason,
                to_number=flight.to,
                num_segments=flight.segments,
                encoding=flight.encoding,
            )
            self.stats.final(Status.INVALID)
            log.info("#%s %s: %s", flight.message.id, Status.INVALID, reason)
        return kept

    def send(self, flight: Flight) -> Outcome:
        return self.gateway.send(**self.create_args(flight))

    async def send_async(self, flight: Flight) -> Outcome:
        return await self.gateway.send_async(**self.create_args(flight))

    def create_args(self, flight: Flight) -> dict[str, Any]:
        """The gateway's arguments for the create of ``flight`` (either I/O path)."""
        callback = (
            f"{self.settings.inbound.public_url.rstrip('/')}/twilio/status?id={flight.message.id}"
        )
        return {
            "to": flight.to,
            "body": flight.message.body,
            "from_number": flight.sender.from_number,
            "messaging_service_sid": flight.sender.messaging_service_sid,
            "status_callback": callback,
            # Counted from now, on the store's clock: Twilio counts it from the create it
            # receives, after the line-type look-ups and the send gate.
            "validity_period": validity_period(
                self.clock(), flight.message.expires_at, flight.sender.validity_seconds
            ),
            "account": flight.sender.twilio_account,  # None: [twilio]
        }

    @property
    def credentials_broken(self) -> bool:
        """Whether Twilio refused the credentials of any account (the metrics' flag)."""
        return bool(self.broken)

    @property
    def credentials_answer(self) -> str:
        return self.accounts.answer()

    def claimable(self, now: datetime) -> bool:
        """Whether a sender with messages ready now is one this worker sends for: a held-back
        sender's messages are ready but never claimed, and must not keep a run --once going
        (or the service polling at its fastest) forever."""
        if not self.accounts.anything_blocked:  # the cheap probe, while every sender sends
            return self.store.any_ready(now)
        return any(not self.accounts.blocked(c) for c in self.store.ready_senders(now))

    # -- recording -----------------------------------------------------------------------

    def collect(self, *, block: bool, timeout: float = 0.05) -> None:
        if self.in_flight and block:
            wait(list(self.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        done = [f for f in self.in_flight if f.done()]
        now = self.clock()
        for future in done:
            flight = self.in_flight.pop(future)
            if future.cancelled():
                self.store.release([flight.message.id], now, worker=self.name)
                continue
            exc = future.exception()
            outcome = (
                Outcome(Action.UNKNOWN, message=f"{type(exc).__name__}: {exc}")
                if exc is not None
                else future.result()
            )
            self.record(flight, outcome, now)
        if done:
            self.start_ready()
        # SUBMITTED is written in batches: when a batch is full, when nothing else is in flight,
        # or when the oldest accepted create has waited FLUSH_SECONDS (one write transaction per
        # completion would cost the coordinating thread more than the sends themselves).
        if self.pending and (
            len(self.pending) >= self.cfg.batch_size
            or not self.in_flight
            or time.monotonic() - self.pending_since >= FLUSH_SECONDS
        ):
            self.flush(now)

    def flush(self, now: datetime) -> None:
        if self.pending:
            self.stats.submitted += self.store.mark_submitted(self.pending, now)
            self.pending = []

    def record(self, flight: Flight, outcome: Outcome, now: datetime) -> None:
        message = flight.message
        METRICS.outcome(outcome)
        match outcome.action:
            case Action.SUBMITTED:
                assert outcome.sid is not None
                if not self.pending:
                    self.pending_since = time.monotonic()
                self.pending.append(
                    SubmitResult(
                        message.id,
                        outcome.sid,
                        outcome.provider_status or "queued",
                        flight.to,
                        flight.segments,
                        flight.encoding,
                    )
                )
            case Action.RETRY:
                self.retry(message, outcome, now)
            case Action.UNKNOWN:
                self.stats.unknown += 1
                log.warning(
                    "#%s to %s: outcome unknown (%s); reconciling before any retry",
                    message.id,
                    mask(flight.to),
                    outcome.message,
                )
                grace = timedelta(seconds=self.cfg.reconcile_after_seconds)
                self.store.mark_unknown(
                    message.id, now, outcome.message or "unknown", reconcile_at=now + grace
                )
            case Action.SUPPRESS:
                self.store.set_optout(
                    flight.to,
                    flight.sender.optout_scope,
                    True,
                    now,
                    keyword="21610",
                    source="twilio",
                )
                self.finish(message, Status.SUPPRESSED, now, outcome)
            case Action.INVALID:
                self.finish(message, Status.INVALID, now, outcome)
            case Action.FAIL:
                self.finish(message, Status.FAILED, now, outcome)
            case Action.STOP:
                self.store.requeue(
                    message.id,
                    now,
                    now,
                    reason="Twilio rejected our credentials",
                    error_code=outcome.code,
                    count_attempt=False,
                )
                self.accounts.refuse(
                    flight.sender.twilio_account,
                    f"Twilio answered {outcome.code}: {outcome.message}",
                )

    def retry(self, message: Message, outcome: Outcome, now: datetime) -> None:
        if message.attempts >= self.cfg.max_attempts:
            self.finish(
                message,
                Status.FAILED,
                now,
                outcome,
                reason=f"retries exhausted after {message.attempts} attempts",
            )
            return
        delay = backoff(
            message.attempts, self.cfg.retry_base_seconds, self.cfg.retry_max_seconds, self.rand()
        )
        self.stats.retried += 1
        self.store.requeue(
            message.id,
            now + delay,
            now,
            reason=f"retry: {outcome.message or outcome.code}",
            error_code=outcome.code,
        )

    def finish(
        self,
        message: Message,
        status: Status,
        now: datetime,
        outcome: Outcome,
        reason: str | None = None,
    ) -> None:
        self.store.finalize(
            message.id,
            status,
            now,
            reason=reason or outcome.message,
            error_code=outcome.code,
            error_message=outcome.message,
        )
        self.stats.final(status)

    # -- lifecycle -----------------------------------------------------------------------

    def sender(self, code: str) -> Sender:
        if code not in self._senders:
            found = self.store.get_sender(code)
            if found is None:  # enqueue checks it; a deleted sender is an operator error
                raise LookupError(f"sender {code} vanished from sms_senders")
            self._senders[code] = found
        return self._senders[code]

    def refresh_senders(self) -> None:
        self._senders.clear()

    def shutdown(self) -> None:
        """Let in-flight creates finish and record them; give back what never started."""
        self.stop_event.set()
        self.start_ready()  # gives back what waited for a slot
        if self.loop is None:  # a send thread's future cancels only if it never started
            for future in list(self.in_flight):
                future.cancel()
        # (An event loop's future is never cancelled: its create started when it was made.)
        deadline = time.monotonic() + self.settings.twilio.timeout + 5
        while self.in_flight and time.monotonic() < deadline:
            self.collect(block=True, timeout=0.5)
        self.flush(self.clock())
        self.pool.shutdown(wait=True)
        if self.loop is not None:
            closers = [self.gateway.close_async] if hasattr(self.gateway, "close_async") else []
            self.loop.close(*closers, timeout=self.settings.twilio.timeout + 5)
