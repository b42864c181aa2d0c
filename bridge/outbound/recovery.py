"""Reconciling creates of unknown outcome, and the status sync (design §4 guarantees).

A row in SENDING whose lease has ended (a crash, a timeout or a 5xx after the request left) is
looked up at Twilio before anything else: found, it becomes SUBMITTED with its SID; provably
absent, it is queued again. A lost callback is made good by the sync job, which polls Twilio for
rows still SUBMITTED/SENT after a while. Statuses only move forward either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.domain.models import Message, SubmitResult
from bridge.domain.phone import mask
from bridge.domain.statuses import Status, from_provider, moves_forward
from bridge.outbound.gateway import TwilioGateway
from bridge.store import Store

log = logging.getLogger(__name__)


@dataclass
class RecoveryResult:
    found: int = 0
    requeued: int = 0
    failed: int = 0
    deferred: int = 0


class SenderAccounts:
    """The Twilio account each message was sent through: its sender's (read once a run per
    sender). A message is fetched through that account, the only one that has it; a sender
    since deleted falls back to [twilio]."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.known: dict[str, str | None] = {}

    def of(self, message: Message) -> str | None:
        code = message.sender_code
        if code not in self.known:
            sender = self.store.get_sender(code)
            self.known[code] = sender.twilio_account if sender else None
        return self.known[code]


def reconcile(
    store: Store,
    gateway: TwilioGateway,
    now: datetime,
    *,
    worker: str,
    lease_seconds: int,
    max_attempts: int,
) -> RecoveryResult:
    result = RecoveryResult()
    for message in store.expired_leases(now):
        if not store.claim_for_recovery(message.id, now, lease_seconds, worker):
            continue  # another worker is on it
        try:
            _reconcile_one(store, gateway, message, now, max_attempts, result)
        except Exception as exc:
            if store.is_unavailable(exc):
                raise  # the database is down: the caller alerts and pauses
            # One row's surprise must not stop the others; its renewed lease brings it back.
            log.exception("#%s reconcile failed: %s: %s", message.id, type(exc).__name__, exc)
            result.deferred += 1
    return result


def _reconcile_one(
    store: Store,
    gateway: TwilioGateway,
    message: Message,
    now: datetime,
    max_attempts: int,
    result: RecoveryResult,
) -> None:
    sender = store.get_sender(message.sender_code)
    if message.to_number is None or message.claimed_at is None or sender is None:
        # Never prepared, so never sent: safe to queue again.
        store.requeue(
            message.id,
            now,
            now,
            reason="claim lapsed before sending",
            source="recovery",
            count_attempt=False,
        )
        result.requeued += 1
        return
    try:
        remote = gateway.find_created(
            to=message.to_number,
            body=message.body,
            from_number=sender.from_number,
            messaging_service_sid=sender.messaging_service_sid,
            created_after=message.claimed_at,
            clock=store.now,
            taken=lambda sid: store.get_by_sid(sid) is not None,
            account=sender.twilio_account,  # listed where it was created: the sender's account
        )
    except Exception as exc:  # Twilio unreachable: the renewed lease brings it back later
        log.warning("#%s reconcile deferred: %s", message.id, exc)
        result.deferred += 1
        return
    if remote is not None:
        store.mark_submitted(
            [
                SubmitResult(
                    message.id,
                    remote.sid,
                    remote.status,
                    message.to_number,
                    message.num_segments,
                    message.encoding,
                )
            ],
            now,
        )
        store.record_price(message.id, remote.price, remote.price_unit)  # if already final
        status = from_provider(remote.status, remote.error_code)
        if status is not None and moves_forward(Status.SUBMITTED, status):
            store.record_status(
                now,
                status,
                source="recovery",
                provider_sid=remote.sid,
                provider_status=remote.status,
                error_code=remote.error_code,
                error_message=remote.error_message,
            )
        log.info("#%s reconciled: Twilio has it as %s", message.id, remote.sid)
        result.found += 1
    elif message.attempts >= max_attempts:
        store.finalize(
            message.id,
            Status.FAILED,
            now,
            source="recovery",
            reason=f"not at Twilio after {message.attempts} attempts",
        )
        result.failed += 1
    else:
        store.requeue(
            message.id,
            now,
            now,
            source="recovery",
            reason=f"not at Twilio (to {mask(message.to_number)}): sending again",
        )
        result.requeued += 1


def sync(
    store: Store, gateway: TwilioGateway, now: datetime, *, older_than: timedelta, limit: int = 500
) -> int:
    """Poll Twilio for messages stuck in SUBMITTED/SENT; returns how many moved."""
    moved = 0
    unchanged: list[int] = []  # asked (or unaskable) without news: to the back of the line
    accounts = SenderAccounts(store)
    for message in store.stale_submissions(now - older_than, limit=limit):
        if not message.provider_sid:
            unchanged.append(message.id)
            continue
        try:
            remote = gateway.fetch(message.provider_sid, account=accounts.of(message))
        except Exception as exc:
            log.warning("#%s sync failed: %s", message.id, exc)
            unchanged.append(message.id)  # e.g. a 404: must not take every run's first slot
            continue
        store.record_price(message.id, remote.price, remote.price_unit)  # None: nothing written
        status = from_provider(remote.status, remote.error_code)
        if status is None or not moves_forward(message.status, status):
            unchanged.append(message.id)
            continue
        applied = store.record_status(
            now,
            status,
            source="sync",
            provider_sid=message.provider_sid,
            provider_status=remote.status,
            error_code=remote.error_code,
            error_message=remote.error_message,
        ).applied
        moved += int(applied)
    store.mark_synced(unchanged, now)  # asked again only after older_than, after the others
    sync_prices(store, gateway, now, settle=older_than)
    return moved


# Twilio prices a message once it is final, often minutes after its final status (and no
# callback says so): the sync job goes back for the price of messages final within the last
# PRICE_WINDOW, once they have been final for ``settle`` (its older_than), newest first, at most
# PRICE_LIMIT a run. A message Twilio never prices is asked once a run until it leaves the window.
PRICE_WINDOW = timedelta(hours=24)
PRICE_LIMIT = 100


def sync_prices(
    store: Store,
    gateway: TwilioGateway,
    now: datetime,
    *,
    settle: timedelta,
    window: timedelta = PRICE_WINDOW,
    limit: int = PRICE_LIMIT,
) -> int:
    """Ask Twilio for the price of delivered/undelivered messages without one; returns how
    many were priced. A failed look-up is logged and left for the next run."""
    priced = 0
    accounts = SenderAccounts(store)
    for message in store.unpriced_final(now - window, now - settle, limit=limit):
        if not message.provider_sid:
            continue
        try:
            remote = gateway.fetch(message.provider_sid, account=accounts.of(message))
        except Exception as exc:
            log.warning("#%s price look-up failed: %s", message.id, exc)
            continue
        priced += int(store.record_price(message.id, remote.price, remote.price_unit))
    if priced:
        log.info("sync: %d price(s) recorded", priced)
    return priced
