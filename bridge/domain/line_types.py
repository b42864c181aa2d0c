"""Mobile or landline in North America: the rules over Twilio Lookup v2's line type (pure).

phonenumbers cannot tell a US or Canadian landline from a mobile: NANP numbers share their area
codes between both, so it reports ``FIXED_LINE_OR_MOBILE`` and the bridge accepts them. Twilio
then refuses the create of a landline with 21614, which costs a request and leaves the message
INVALID only after a send was attempted. A sender with ``line_type_lookup`` asks Twilio Lookup v2
(``Fields=line_type_intelligence``) first, once per number and TTL, and a landline becomes
INVALID without a create. Only +1 numbers are looked up: everywhere else mobile ranges are
distinct and phonenumbers already rejects fixed lines (``bridge.domain.phone``).

Only ``landline`` is refused. Twilio documents 21614 ("'To' number is not a valid mobile
number") for landlines; toll-free numbers can be text-enabled and receive SMS, and every other
type (VoIP, pager, voicemail, unknown, ...) is left for Twilio to decide, as before the option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Twilio's line_type_intelligence.type values (Lookup v2).
LINE_TYPES = (
    "landline",
    "mobile",
    "fixedVoip",
    "nonFixedVoip",
    "personal",
    "tollFree",
    "premium",
    "sharedCost",
    "uan",
    "voicemail",
    "pager",
    "unknown",
)
REFUSED = frozenset({"landline"})
# How long an answer is used without asking again: numbers are ported between fixed and mobile
# rarely, and each lookup is billed.
DEFAULT_TTL = timedelta(days=30)
NANP_PREFIX = "+1"


@dataclass(frozen=True)
class LineType:
    """One Lookup answer as cached in sms_number_lookups."""

    phone_number: str
    line_type: str
    looked_up_at: datetime
    carrier: str | None = None
    error_code: int | None = None


def wants_lookup(e164: str) -> bool:
    """A number whose line type phonenumbers cannot know: the North American Numbering Plan
    (+1: the US, Canada and the other +1 countries)."""
    return e164.startswith(NANP_PREFIX)


def is_fresh(answer: LineType, now: datetime, ttl: timedelta = DEFAULT_TTL) -> bool:
    """Younger than the TTL by the store's clock (an answer from the future counts as fresh)."""
    return now - answer.looked_up_at < ttl


def refuses(answer: LineType) -> bool:
    return answer.line_type in REFUSED


def reason(answer: LineType) -> str:
    """The INVALID row's status_reason."""
    return f"{answer.line_type} (Twilio Lookup, {answer.looked_up_at:%Y-%m-%d})"


def from_lookup(phone_number: str, payload: Mapping[str, Any] | None, now: datetime) -> LineType:
    """The answer in a Lookup v2 resource's ``line_type_intelligence`` object.

    A missing or null type (Twilio sets ``error_code``, e.g. 60600 unprovisioned) and a type
    this module does not know are ``unknown``: sent, as without the option.
    """
    data = payload or {}
    kind = data.get("type")
    code = data.get("error_code")
    carrier = data.get("carrier_name")
    return LineType(
        phone_number=phone_number,
        line_type=kind if isinstance(kind, str) and kind in LINE_TYPES else "unknown",
        looked_up_at=now,
        carrier=str(carrier) if carrier else None,
        error_code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
    )
