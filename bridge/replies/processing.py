"""What a Twilio webhook does to the database, shared by the Falcon app and the spool replay.

The inbound app calls these with the verified form of a live request; ``sms-bridge spool
replay`` and the scheduler call them with the form of a spooled one (and its original receive
time), so a webhook has the same effect whether the database was up when it arrived or not.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from bridge.config import InboundSettings
from bridge.domain.column_sizes import column, fit
from bridge.domain.keywords import Action, Classification, classify, normalise
from bridge.domain.models import InboundRecord, Message
from bridge.domain.phone import mask as mask_number  # one masking rule for every log
from bridge.domain.statuses import from_provider
from bridge.domain.threading_match import (
    ThreadMatch,
    match,
    reference_codes,
    reference_start,
    window_start,
)
from bridge.replies.spool import ReplayReport, Spool, SpoolEntry
from bridge.replies.webhook_form import BadWebhook, Form, check_form
from bridge.store import Store
from bridge.store.inbound_store import OptoutChange

log = logging.getLogger(__name__)

# Fields of every inbound-message webhook, Body even when blank (media only): one missing was
# folded into a neighbour's value, which the signature does not reveal.
INBOUND_REQUIRED = ("Body", "From", "To")

__all__ = ["BadWebhook", "Form"]  # re-exported: inbound.webhooks and others import them here

DEFAULT_HELP = "Reply STOP to unsubscribe."
# Twilio's header naming one webhook delivery: its retries carry the same token.
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
CALLBACK_KEY_SIZE = column("sms_events", "callback_key").size  # from the DDL
# Twilio's Advanced Opt-Out names the class of keyword it recognised; it has the last word on
# compliance keywords (its list may be longer than ours, e.g. in other languages).
_OPT_OUT_TYPES = {"STOP": Action.OPT_OUT, "START": Action.OPT_IN, "HELP": Action.HELP}
_RULE_ACTIONS = {"OPT_OUT": Action.OPT_OUT, "OPT_IN": Action.OPT_IN, "HELP": Action.HELP}


@dataclass(frozen=True)
class ReplyOutcome:
    inbound_id: int
    inserted: bool
    classification: Classification
    thread: ThreadMatch
    help_text: str | None = None  # set for HELP: the TwiML <Message>


@dataclass(frozen=True)
class StatusOutcome:
    message: Message | None
    applied: bool
    status: str | None
    duplicate: bool = False  # this callback was recorded before: nothing written


def first(form: Form, name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def required(form: Form, name: str, max_len: int = 64) -> str:
    value = (first(form, name) or "").strip()
    if not value:
        raise BadWebhook(f"webhook without {name}")
    if len(value) > max_len:
        raise BadWebhook(f"{name} is longer than {max_len} characters")
    return value


def check_reply(form: Form, *, account_sids: Collection[str] = ()) -> None:
    """Every check :func:`receive_reply` makes before the database: a webhook spooled without
    trying the database (inbound.outage) passes the same ones, so nothing forged is kept."""
    check_form(form, account_sids=account_sids, required=INBOUND_REQUIRED)
    _sid(form)
    required(form, "From", 32)
    required(form, "To", 32)


def check_status(form: Form, *, account_sids: Collection[str] = ()) -> None:
    """Every check :func:`receive_status` makes before the database (see check_reply)."""
    check_form(form, account_sids=account_sids)
    _sid(form)
    required(form, "MessageStatus" if first(form, "MessageStatus") else "SmsStatus", 32)


def receive_reply(
    store: Store,
    form: Form,
    now: datetime,
    *,
    thread_window_hours: float,
    account_sids: Collection[str] = (),
) -> ReplyOutcome:
    """Store an inbound SMS (once per MessageSid), apply STOP/START at once, find its thread.

    The form is checked (:func:`check_form`) before anything reads the database.
    """
    check_reply(form, account_sids=account_sids)
    sid = _sid(form)
    from_number = required(form, "From", 32)
    to_number = required(form, "To", 32)
    body = first(form, "Body") or ""
    service_sid = first(form, "MessagingServiceSid") or None
    sender = store.sender_by_number(to_number, service_sid)
    sender_code = sender.code if sender else None
    # Opt-outs are per number, or per Messaging Service for a number in one (as at Twilio):
    # the scope the sender's own sends are checked against.
    scope = sender.optout_scope if sender else (service_sid or to_number)
    classification = _classify(store, form, body, from_number, scope, sender_code)
    codes = reference_codes(body)
    by_reference, in_window = store.thread_candidates(
        from_number,
        to_number,
        codes,
        # A Messaging Service sender sends from any number of its pool: its messages are found
        # by sender code, not by the number the reply went to.
        sender_code=sender_code if sender and sender.messaging_service_sid else None,
        reference_since=reference_start(now),
        window_since=window_start(now, thread_window_hours),
    )
    thread = match(codes, by_reference, in_window)
    recipient_type, recipient_id = _recipient(store, thread, from_number)
    optout = None
    if classification.action in (Action.OPT_OUT, Action.OPT_IN):
        optout = OptoutChange(
            phone_number=from_number,
            scope=classification.optout_scope(scope),
            opted_out=classification.action is Action.OPT_OUT,
            keyword=classification.keyword,
        )
    record = InboundRecord(
        message_sid=sid,
        from_number=from_number,
        to_number=to_number,
        body=fit("sms_inbound", "body", body),  # NVARCHAR2: cut by UTF-16 units
        account_sid=first(form, "AccountSid"),
        num_media=_int(first(form, "NumMedia")),
        keyword=classification.keyword,
        outbound_id=thread.outbound_id,
        match_method=thread.method.value,
        recipient_type=recipient_type,
        recipient_id=recipient_id,
        # Compliance keywords are fully handled here; the rest waits for handlers or ERP.
        status="PROCESSED" if classification.action else "NEW",
        raw_payload=json.dumps({k: list(v) for k, v in form.items()}, ensure_ascii=False),
    )
    inbound_id, inserted = store.record_inbound(record, now, optout)
    help_text = None
    if classification.action is Action.HELP:
        help_text = _help_text(
            store, classification, sender_code, sender.help_text if sender else None
        )
    log.info(
        "inbound %s from %s to %s: keyword=%s action=%s thread=%s%s%s",
        sid,
        mask_number(from_number),
        mask_number(to_number),
        classification.keyword,
        classification.action,
        thread.method,
        f" #{thread.outbound_id}" if thread.outbound_id else "",
        "" if inserted else " (duplicate, ignored)",
    )
    return ReplyOutcome(inbound_id, inserted, classification, thread, help_text)


def callback_key(form: Form, sid: str, provider_status: str, token: str | None) -> str:
    """The identity of one status callback, unique in sms_events.callback_key.

    Twilio's ``I-Twilio-Idempotency-Token`` when the request had one (``t:<token>``); else the
    SID, the status and what tells two reports of one status apart: the carrier's
    ``RawDlrDoneDate``, else the ``ErrorCode`` (``s:<sid>:<status>:<date or code>``). A key
    longer than the column is replaced by its SHA-256, keeping its prefix.
    """
    token = (token or "").strip()
    if token:
        key = f"t:{token}"
    else:
        extra = first(form, "RawDlrDoneDate") or first(form, "ErrorCode") or ""
        key = f"s:{sid}:{provider_status.lower()}:{extra}"
    if len(key) > CALLBACK_KEY_SIZE or not key.isascii():
        key = key[:2] + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key


def receive_status(
    store: Store,
    form: Form,
    row_id: int | None,
    now: datetime,
    *,
    account_sids: Collection[str] = (),
    idempotency_token: str | None = None,
) -> StatusOutcome:
    """Append the callback to sms_events, once (:func:`callback_key`), and move the row
    forward only.

    ``row_id`` comes from the StatusCallback URL (``?id=123``): a row that never got its SID
    (the create timed out after Twilio accepted it) is found, and healed, by it. The form is
    checked (:func:`check_form`) before anything reads the database. A callback already
    recorded (Twilio retried it, or the spool replays it) writes nothing: ``duplicate``.
    """
    check_status(form, account_sids=account_sids)
    sid = _sid(form)
    status_field = "MessageStatus" if first(form, "MessageStatus") else "SmsStatus"
    provider_status = required(form, status_field, 32)
    error_code = _int(first(form, "ErrorCode")) or None
    status = from_provider(provider_status, error_code)
    if status is None:
        log.warning("status callback %s: unknown MessageStatus %r ignored", sid, provider_status)
        return StatusOutcome(None, False, None)
    message, applied, duplicate = store.record_status(
        now,
        status,
        source="callback",
        message_id=row_id,
        provider_sid=sid,
        provider_status=provider_status.lower(),
        error_code=error_code,
        error_message=first(form, "ErrorMessage"),
        callback_key=callback_key(form, sid, provider_status, idempotency_token),
    )
    if duplicate:
        log.info("status callback %s (%s) recorded before, ignored", sid, provider_status)
    elif message is None:
        log.warning("status callback %s (%s) for no known message, id=%s", sid, status, row_id)
    else:
        log.info(
            "status callback %s: #%s %s -> %s%s",
            sid,
            message.id,
            provider_status,
            message.status,
            "" if applied else " (recorded, not applied)",
        )
    return StatusOutcome(message, applied, status.value, duplicate)


def _sid(form: Form) -> str:
    # SmsSid is the older name Twilio still sends alongside MessageSid.
    return required(
        {"MessageSid": [first(form, "MessageSid") or first(form, "SmsSid") or ""]}, "MessageSid"
    )


def _classify(
    store: Store,
    form: Form,
    body: str,
    from_number: str,
    scope: str,
    sender_code: str | None,
) -> Classification:
    opt_out_type = (first(form, "OptOutType") or "").upper()
    # YES means START only for a number that is opted out (by the rule sending uses: the
    # latest change wins, so STOPALL then START is not opted out): read only for a YES.
    opted_out = normalise(body) == "YES" and store.is_opted_out(from_number, scope)
    # Twilio counts YES among its default opt-in words and sends OptOutType=START for every
    # "yes", opted out or not. To a subscribed number it is an answer ("Reply YES 4821"),
    # so it goes to the handlers like any other reply instead of being swallowed here.
    yes_answer = opt_out_type == "START" and normalise(body) == "YES" and not opted_out
    if opt_out_type in _OPT_OUT_TYPES and not yes_answer:
        return Classification(normalise(body)[:30] or opt_out_type, _OPT_OUT_TYPES[opt_out_type])
    found = classify(body, opted_out=opted_out)
    if found.action is None and found.keyword and normalise(body) == found.keyword:
        # A site's own one-word compliance keyword (sms_keywords OPT_OUT/OPT_IN/HELP rows).
        rule = store.keyword_rule(found.keyword, sender_code)
        if rule is not None and rule.action in _RULE_ACTIONS:
            return Classification(found.keyword, _RULE_ACTIONS[rule.action])
    return found


def _help_text(
    store: Store, classification: Classification, sender_code: str | None, default: str | None
) -> str:
    rule = store.keyword_rule(classification.keyword or "HELP", sender_code)
    if rule is not None and rule.action == "HELP" and rule.reply_text:
        return rule.reply_text
    return default or DEFAULT_HELP


def _recipient(store: Store, thread: ThreadMatch, number: str) -> tuple[str | None, str | None]:
    """The matched message's recipient; else the only person with this number, if only one."""
    if thread.outbound is not None and thread.outbound.recipient_type:
        return thread.outbound.recipient_type, thread.outbound.recipient_id
    found = store.find_recipients_by_number(number)
    if len(found) == 1:
        return found[0].recipient_type, found[0].recipient_id
    return None, None


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def apply_spooled(
    store: Store,
    entry: SpoolEntry,
    *,
    thread_window_hours: float,
    account_sids: Collection[str] = (),
) -> bool:
    """Replay one spooled webhook with its original receive time; False if it was already
    in the database (stored before the outage, or by an earlier replay).

    The form is checked again (a BadWebhook sends the entry to ``rejected.jsonl``).
    """
    if entry.kind == "inbound":
        return receive_reply(
            store,
            entry.form,
            entry.received_at,
            thread_window_hours=thread_window_hours,
            account_sids=account_sids,
        ).inserted
    if entry.kind == "status":
        return not receive_status(
            store,
            entry.form,
            parse_row_id(entry.query.get("id")),
            entry.received_at,
            account_sids=account_sids,
            idempotency_token=entry.headers.get(IDEMPOTENCY_HEADER),
        ).duplicate
    raise BadWebhook(f"spool entry {entry.id}: unknown kind {entry.kind!r}")


def replay_spool(
    store: Store, settings: InboundSettings, *, account_sids: Collection[str] = ()
) -> ReplayReport:
    """The replay job: ``sms-bridge spool replay`` and the scheduler call this.

    ``account_sids`` (every configured account's, :meth:`TwilioSettings.account_sids`) are
    checked against each entry's AccountSid when given; the live webhook checked it before
    spooling.
    """
    report = Spool(settings.spool_dir).replay(
        lambda entry: apply_spooled(
            store,
            entry,
            thread_window_hours=settings.thread_window_hours,
            account_sids=account_sids,
        ),
        store.is_unavailable,
    )
    if report.applied or report.rejected or report.remaining:
        log.info("%s", report)
    return report


def parse_row_id(text: str | None) -> int | None:
    """Our row id from the StatusCallback URL's ``?id=``; anything else is ignored."""
    if text is None or not text.isdigit() or len(text) > 18:
        return None
    return int(text)
