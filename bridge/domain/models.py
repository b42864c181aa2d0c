"""Plain data passed between the store and the rest of the bridge (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge.domain.statuses import Status


@dataclass(frozen=True)
class EnqueueRequest:
    sender_code: str
    body: str
    recipient_type: str | None = None
    recipient_id: str | None = None
    to_number: str | None = None  # trusted callers only (PL/SQL, raw-numbers API scope)
    priority: int = 2
    send_after: datetime | None = None
    expires_at: datetime | None = None
    reference: str | None = None
    reply_code: str | None = None
    source_system: str | None = None
    correlation_key: str | None = None
    created_by: str | None = None
    batch_id: int | None = None  # sms_batches.id (Store.create_batch, sms_api.begin_batch)


@dataclass(frozen=True)
class Sender:
    code: str
    from_number: str | None = None
    messaging_service_sid: str | None = None
    mps: float = 1.0
    quiet_start: str | None = None  # "HH:MM" local to the recipient
    quiet_end: str | None = None
    default_time_zone: str = "UTC"
    help_text: str | None = None
    active: bool = True
    description: str | None = None
    # Twilio's ValidityPeriod for this sender's messages without an expiry of their own (and
    # the upper bound for those with one): seconds, 1-36,000; None is Twilio's 36,000.
    validity_seconds: int | None = None
    # Ask Twilio Lookup v2 whether a +1 number is a landline before the first send to it
    # (cached, bridge.domain.line_types): a landline is INVALID without spending a send.
    line_type_lookup: bool = False
    # The Twilio account ([twilio.accounts.NAME]) this sender sends through; None: [twilio].
    twilio_account: str | None = None
    # The same text to the same number from this sender within this many seconds is not sent
    # again (SUPPRESSED, duplicate_of the earlier one); None: no dedupe.
    dedupe_window_seconds: int | None = None

    @property
    def optout_scope(self) -> str:
        """The sms_optouts scope a STOP to this sender lands in: its Messaging Service when it
        has one (the bridge sends through it then, and Twilio applies an opt-out to the whole
        service, every number of its pool), else its number."""
        return self.messaging_service_sid or self.from_number or "*"


@dataclass(frozen=True)
class Recipient:
    recipient_type: str
    recipient_id: str
    display_name: str | None
    mobile_number: str | None
    time_zone: str | None
    manager_email: str | None


@dataclass(frozen=True)
class Message:
    id: int
    sender_code: str
    body: str
    status: Status
    priority: int
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    recipient_type: str | None = None
    recipient_id: str | None = None
    to_number: str | None = None
    status_reason: str | None = None
    reference: str | None = None
    reply_code: str | None = None
    source_system: str | None = None
    correlation_key: str | None = None
    send_after: datetime | None = None
    expires_at: datetime | None = None
    attempts: int = 0
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    lease_until: datetime | None = None
    provider_sid: str | None = None
    provider_status: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    num_segments: int | None = None
    encoding: str | None = None
    created_by: str | None = None
    submitted_at: datetime | None = None
    final_at: datetime | None = None
    batch_id: int | None = None
    duplicate_of: int | None = None
    price: float | None = None
    price_unit: str | None = None
    purged_at: datetime | None = None


@dataclass(frozen=True)
class Event:
    id: int
    outbound_id: int
    event_at: datetime
    status: str
    source: str
    applied: bool
    provider_status: str | None = None
    error_code: int | None = None
    detail: str | None = None


@dataclass(frozen=True)
class SubmitResult:
    """What the worker learned from one successful create at Twilio."""

    outbound_id: int
    provider_sid: str
    provider_status: str
    to_number: str
    num_segments: int | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class InboundRecord:
    message_sid: str
    from_number: str
    to_number: str
    body: str | None
    account_sid: str | None = None
    num_media: int = 0
    keyword: str | None = None
    outbound_id: int | None = None
    match_method: str | None = None
    recipient_type: str | None = None
    recipient_id: str | None = None
    status: str = "NEW"
    raw_payload: str | None = None


@dataclass(frozen=True)
class MessageFilter:
    recipient_type: str | None = None
    recipient_id: str | None = None
    status: str | None = None
    sender_code: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    reference: str | None = None
    # Ownership: only rows this created_by queued (the REST API's "api:<name>" for a key
    # without the admin scope); None is every row.
    created_by: str | None = None
    source_system: str | None = None
    correlation_key: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[Any]
    limit: int
    offset: int
    has_more: bool


@dataclass(frozen=True)
class StatusCount:
    sender_code: str
    status: str
    count: int


@dataclass(frozen=True)
class DailyCount:
    sender_code: str
    day: str  # YYYY-MM-DD, UTC
    status: str
    count: int


@dataclass
class InstallReport:
    statements: int = 0
    already_present: int = 0
    schema_version: int = 0
    notes: list[str] = field(default_factory=list)
