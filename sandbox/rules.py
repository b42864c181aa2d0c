"""Twilio's rules, as pure functions: create validation, magic numbers, handset keywords."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sandbox.errors import DELIVERY_ERRORS, TwilioError
from sandbox.settings import SandboxSettings

E164 = re.compile(r"\+[1-9]\d{6,14}")  # used with fullmatch: "$" admits a final newline
MAX_BODY_CHARS = 1600

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

Final = Literal["delivered", "undelivered", "failed"]


@dataclass(frozen=True)
class CreateRequest:
    to: str
    sender: str  # the owned number that will send it
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    validity_period: int | None
    final: Final
    error_code: int | None


@dataclass(frozen=True)
class MagicOutcome:
    kind: Literal["reject", "undelivered", "failed"]
    code: int


def parse_magic(spec: str) -> MagicOutcome:
    """``reject:21614``, ``undelivered:30003`` or ``failed:30008``."""
    kind, _, code_text = spec.partition(":")
    if not code_text.isdigit():
        raise ValueError(f"magic outcome must be reject|undelivered|failed:CODE, not {spec!r}")
    code = int(code_text)
    if kind == "reject":
        if code not in _REJECTABLE:
            raise ValueError(f"reject code must be one of {sorted(_REJECTABLE)}")
        return MagicOutcome("reject", code)
    if code not in DELIVERY_ERRORS:
        raise ValueError(f"delivery error code must be one of {sorted(DELIVERY_ERRORS)}")
    if kind == "undelivered":
        return MagicOutcome("undelivered", code)
    if kind == "failed":
        return MagicOutcome("failed", code)
    raise ValueError(f"magic outcome must be reject|undelivered|failed:CODE, not {spec!r}")


_REJECTABLE = frozenset({21211, 21408, 21610, 21612, 21614})


def pick_sender(pool: tuple[str, ...], to: str) -> str:
    # Sticky sender: the same recipient always gets the same number from a service's pool.
    return pool[sum(to.encode()) % len(pool)]


def validate_create(
    params: dict[str, str],
    settings: SandboxSettings,
    is_opted_out: Callable[[str, str], bool],
    account_sid: str | None = None,
) -> CreateRequest:
    """Validate a Messages.json create in Twilio's order; raise TwilioError on the first fault.

    ``account_sid``: the account it is created in (default the main one): ``From`` must be one
    of its numbers, and Messaging Services are the main account's only (21705 elsewhere)."""
    main = account_sid is None or account_sid == settings.account_sid
    owned = settings.numbers if account_sid is None else settings.numbers_of(account_sid)
    to = params.get("To", "")
    from_ = params.get("From") or None
    service = params.get("MessagingServiceSid") or None
    body = params.get("Body")
    if not to:
        raise TwilioError(21604)
    if from_ is None and service is None:
        raise TwilioError(21603)
    if not body and not params.get("MediaUrl"):
        raise TwilioError(21602)
    if body is not None and len(body) > MAX_BODY_CHARS:
        raise TwilioError(21617)
    if not E164.fullmatch(to):
        raise TwilioError(21211, to=to)
    if from_ is not None and from_ not in owned:
        raise TwilioError(21606, from_=from_)
    if service is not None and (not main or service not in settings.messaging_services):
        raise TwilioError(21705, service=service)
    validity = _validity(params.get("ValidityPeriod"))
    sender = from_ or pick_sender(settings.messaging_services[service or ""], to)
    scope = service or settings.service_of(sender) or sender
    magic = parse_magic(settings.magic_numbers[to]) if to in settings.magic_numbers else None
    if magic is not None and magic.kind == "reject":
        raise TwilioError(magic.code, to=to, from_=sender)
    if is_opted_out(to, scope):
        raise TwilioError(21610)
    final: Final = "delivered"
    if magic is not None and magic.kind != "reject":
        final = magic.kind
    return CreateRequest(
        to=to,
        sender=sender,
        messaging_service_sid=service,
        body=body or "",
        status_callback=params.get("StatusCallback") or None,
        validity_period=validity,
        final=final,
        error_code=None if magic is None else magic.code,
    )


def _validity(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise TwilioError(90014, value=raw) from None
    if not 1 <= value <= 36000:
        raise TwilioError(90007, value=raw)
    return value


def keyword_of(body: str) -> str | None:
    """The opt-out/opt-in/help keyword a whole reply body is, if any (case and space ignored)."""
    word = body.strip().upper()
    if word in OPT_OUT_KEYWORDS or word in OPT_IN_KEYWORDS or word in HELP_KEYWORDS:
        return word
    return None
