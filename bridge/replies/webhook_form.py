"""What a Twilio webhook form must look like before anything trusts it (pure: no I/O).

Twilio's signature is an HMAC of the URL plus every field's name and value concatenated with no
separator, so a valid signature does not prove where one field ends and the next begins:
``MessageSid=<sid>NumMedia0`` without a ``NumMedia`` field signs exactly like the real form. The
signature says the bytes came from Twilio; these rules say the fields are the ones Twilio sent.
Checked for the inbound webhook and the status callback, live and on spool replay; a form that
fails is refused (400 ``bad_webhook`` live, ``rejected.jsonl`` on replay) and written nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

Form = Mapping[str, Sequence[str]]


class BadWebhook(ValueError):
    """The form is not one Twilio sends; answered 400, never spooled."""


SID_FIELDS = ("MessageSid", "SmsSid", "SmsMessageSid")
NUMBER_FIELDS = ("From", "To")
STATUS_FIELDS = ("MessageStatus", "SmsStatus")
# Twilio's numeric fields; blank (Twilio sends some fields blank) is taken as absent.
NUMERIC_FIELDS = ("NumMedia", "NumSegments", "ErrorCode", "ReferralNumMedia", "RawDlrDoneDate")
API_VERSION = "2010-04-01"
# Every MessageStatus/SmsStatus Twilio documents (inbound: receiving/received).
TWILIO_STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "canceled",
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "receiving",
        "received",
        "read",
        "partially_delivered",
    }
)

_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}")
_NUMBER = re.compile(r"(?:whatsapp:)?\+[0-9]{7,15}")
_SHORT_CODE = re.compile(r"[0-9]{3,8}")  # a sender may be a short code: replies go To it
_DIGITS = re.compile(r"[0-9]{1,18}")


def check_form(
    form: Form, *, account_sids: Collection[str] = (), required: Sequence[str] = ()
) -> None:
    """Raise :class:`BadWebhook`, naming the field, unless ``form`` is shaped as Twilio's.

    ``account_sids`` are the SIDs of every configured Twilio account ([twilio] and each
    [twilio.accounts.NAME]); empty (tests, development) skips that one check. ``required`` are
    fields Twilio always sends on this webhook, even blank (Body of an inbound message): absent,
    they were folded into another field's value (``BodyS=TOP`` for ``Body=STOP`` signs alike).
    Others required are left to the caller.
    """
    for name, values in form.items():
        if len(values) != 1:
            raise BadWebhook(f"{name} is repeated" if values else f"{name} has no value")
    for name in required:
        if name not in form:
            raise BadWebhook(f"{name} is missing (Twilio sends it on every such webhook)")
    value = {name: values[0] for name, values in form.items()}
    sids = {value[name] for name in SID_FIELDS if name in value}
    for name in SID_FIELDS:
        if name in value and not _SID.fullmatch(value[name]):
            raise BadWebhook(f"{name} is not a message SID (SM or MM and 32 hex digits)")
    if len(sids) > 1:
        raise BadWebhook("MessageSid, SmsSid and SmsMessageSid differ")
    # Twilio sends AccountSid on every webhook: a form without it had it moved into another
    # field's value, which the signature cannot tell.
    if account_sids and value.get("AccountSid") not in account_sids:
        raise BadWebhook(
            "AccountSid is missing"
            if "AccountSid" not in value
            else "AccountSid is none of this bridge's Twilio accounts"
        )
    if "ApiVersion" in value and value["ApiVersion"] != API_VERSION:
        raise BadWebhook(f"ApiVersion is not {API_VERSION}")
    for name in NUMBER_FIELDS:
        if (
            value.get(name)
            and not _NUMBER.fullmatch(value[name])
            and not (name == "To" and _SHORT_CODE.fullmatch(value[name]))
        ):
            raise BadWebhook(f"{name} is not an E.164 number (+ and 7-15 digits, or whatsapp:+)")
    for name in NUMERIC_FIELDS:
        if value.get(name) and not _DIGITS.fullmatch(value[name]):
            raise BadWebhook(f"{name} is not a number")
    for name in STATUS_FIELDS:
        if value.get(name) and value[name] not in TWILIO_STATUSES:
            raise BadWebhook(f"{name} is not a Twilio message status")
