"""Recipient number normalisation with phonenumbers (pure: no I/O).

A fixed line cannot receive SMS and becomes INVALID; a number that may be either (the whole
NANP reports FIXED_LINE_OR_MOBILE) is accepted, as carriers deliver to it when it is mobile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType
from phonenumbers import timezone as number_timezone

_ACCEPTED_TYPES = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.PAGER,
}
_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "a fixed line",
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.VOIP: "a VoIP number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal number",
    PhoneNumberType.UAN: "a UAN number",
    PhoneNumberType.VOICEMAIL: "a voicemail number",
    PhoneNumberType.UNKNOWN: "of unknown type",
}


@dataclass(frozen=True)
class Normalized:
    e164: str
    kind: str  # "mobile" | "fixed_line_or_mobile" | "pager"
    time_zones: tuple[str, ...]


@dataclass(frozen=True)
class Rejected:
    reason: str
    # Set when the number is valid but of a type that cannot receive SMS (a fixed line, ...):
    # its E.164 form (bridge.domain.phone_choice masks it and tells it from an invalid one).
    e164: str | None = None


@lru_cache(maxsize=4096)
def normalize(raw: str | None, default_region: str) -> Normalized | Rejected:
    """E.164 for a number that can receive SMS, else the reason it cannot (pure, so cached:
    parsing costs about 0.5 ms and bulk sends repeat numbers)."""
    if raw is None or not raw.strip():
        return Rejected("no mobile number on record")
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except NumberParseException as exc:
        return Rejected(f"unparsable number: {exc._msg}")
    # number_type is UNKNOWN exactly when is_valid_number is false: one lookup, not two.
    number_type = phonenumbers.number_type(parsed)
    if number_type == PhoneNumberType.UNKNOWN or not phonenumbers.is_possible_number(parsed):
        return Rejected("not a valid number for its region")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if number_type not in _ACCEPTED_TYPES:
        return Rejected(f"{mask(e164)} is {_TYPE_NAMES.get(number_type, 'not a mobile')}", e164)
    zones = tuple(z for z in number_timezone.time_zones_for_number(parsed) if "/" in z)
    kind = {
        PhoneNumberType.MOBILE: "mobile",
        PhoneNumberType.PAGER: "pager",
    }.get(number_type, "fixed_line_or_mobile")
    return Normalized(e164=e164, kind=kind, time_zones=zones)


def mask(number: str | None) -> str:
    """For logs, mails and API answers, one shape for every number: its last two characters
    after stars, and for an E.164 number its first four digits too (the country and area a
    reader needs to tell numbers apart): +14155550171 -> +1415*****71, 12345 -> ***45."""
    if not number or not number.strip():
        return "-"
    text = number.strip()
    if len(text) <= 4:
        return "*" * len(text)
    keep = 5 if text.startswith("+") and len(text) >= 10 else 0
    return text[:keep] + "*" * (len(text) - keep - 2) + text[-2:]


# Numbers inside free text (Twilio's and carriers' error texts, reasons people type): an
# E.164 number, or 7-15 digits in groups split by one space or dash, or an area code in
# parentheses, optionally after "whatsapp:". A bare number (no "+") may not follow a word
# character, "#", "/", ".", ":" or "-", so SIDs, paths, ports, times and the parts of a date
# never start one; see _numbers_in for what ends one.
_GROUP = r"(?:\(\d{1,5}\)|\d+)"
_CANDIDATE = re.compile(
    r"(?:(?<![\w+])(?P<wa>whatsapp:)?(?P<plus>\+)|(?<![\w+#/.:\-]))"
    rf"(?P<body>{_GROUP}(?:(?: ?- ?| )?{_GROUP})*)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\(\d{1,5}\)|\d+")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{4}")
_CODE = re.compile(r"[1-9]\d{4}")  # a Twilio error code (30007): never part of a number
_AFTER_BARE = re.compile(r"[\w+]|[:./]\d|/")


def mask_numbers_in(text: str | None) -> str | None:
    """`text` with every phone number in it replaced by its `mask` (over its digits, so
    "+1 (415) 555-0174" and "+14155550174" both become +1415*****74); SIDs, 5-digit error
    codes, dates, times and ports stay as they are, and masked text is left unchanged."""
    if not text:
        return text
    return _CANDIDATE.sub(lambda m: _mask_candidate(m, text), text)


def _mask_candidate(match: re.Match[str], text: str) -> str:
    body = match.group("body")
    tokens = list(_TOKEN.finditer(body))
    seps = [body[: tokens[0].start()]] + [
        body[tokens[k - 1].end() : tokens[k].start()] for k in range(1, len(tokens))
    ]
    after = text[match.end() :]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        plus = i == 0 and match.group("plus") is not None
        # A bare number starts only after a plain space (never after "-": 2024-01-02).
        starts = i == 0 or seps[i] == " "
        best = None
        if starts and not (not plus and _CODE.fullmatch(tokens[i].group())):
            digits = 0
            for j in range(i, len(tokens)):
                token = tokens[j].group()
                if j > i and seps[j] == " " and _CODE.fullmatch(token) and digits >= 7:
                    break
                digits += sum(c.isdigit() for c in token)
                span = body[tokens[i].start() : tokens[j].end()]
                if digits > 15 or _DATE.search(span):
                    break
                last = j == len(tokens) - 1
                glued = last and (
                    _AFTER_BARE.match(after) if not plus else re.match(r"[\w+]", after)
                )
                if digits >= 7 and not glued:
                    best = j
        if best is None:
            out.append((match.group("plus") or "") * plus + seps[i] + tokens[i].group())
            i += 1
            continue
        span = body[tokens[i].start() : tokens[best].end()]
        number = ("+" if plus else "") + "".join(c for c in span if c.isdigit())
        out.append(seps[i] + mask(number))
        i = best + 1
    return (match.group("wa") or "") + "".join(out)
