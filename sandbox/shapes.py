"""Twilio's JSON shapes (API 2010-04-01): Message, list pages, IncomingPhoneNumber, Account."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from sandbox.rules import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS
from sandbox.state import Message

API_VERSION = "2010-04-01"
API_ROOT = f"/{API_VERSION}/Accounts"
COUNTRIES = {"+1": "US", "+44": "GB", "+33": "FR", "+49": "DE", "+34": "ES", "+39": "IT"}


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's date format, e.g. ``Thu, 24 Nov 2026 02:10:41 +0000`` (seconds precision)."""
    return None if moment is None else format_datetime(moment.replace(microsecond=0))


def price_text(price: Decimal | None) -> str | None:
    # Twilio reports charges as negative amounts with five decimals, e.g. "-0.00790".
    return None if price is None else f"{-price:.5f}"


def message_json(m: Message) -> dict[str, Any]:
    base = f"{API_ROOT}/{m.account_sid}/Messages/{m.sid}"
    accepted = m.status == "accepted"  # no sender picked yet: Twilio shows from null, 0 segments
    return {
        "account_sid": m.account_sid,
        "api_version": API_VERSION,
        "body": m.body,
        "date_created": rfc2822(m.date_created),
        "date_sent": rfc2822(m.date_sent),
        "date_updated": rfc2822(m.date_updated),
        "direction": m.direction,
        "error_code": m.error_code,
        "error_message": m.error_message,
        "from": None if accepted else m.sender,
        "messaging_service_sid": m.messaging_service_sid,
        "num_media": "0",
        "num_segments": "0" if accepted else str(m.segments.segments),
        "price": price_text(m.price),
        "price_unit": None if m.price is None else m.price_unit,
        "sid": m.sid,
        "status": m.status,
        "subresource_uris": {
            "media": f"{base}/Media.json",
            "feedback": f"{base}/Feedback.json",
        },
        "to": m.to,
        "uri": f"{base}.json",
    }


def page_json(
    *,
    key: str,
    path: str,
    filters: list[tuple[str, str]],
    items: list[dict[str, Any]],
    page: int,
    page_size: int,
    token: str | None,
    next_token: str | None,
    previous_token: str | None,
) -> dict[str, Any]:
    """A Twilio list page. Filters are repeated in every paging URI, as Twilio does."""

    def uri(number: int, page_token: str | None) -> str:
        query = [*filters, ("PageSize", str(page_size)), ("Page", str(number))]
        if page_token:
            query.append(("PageToken", page_token))
        return f"{path}?{urlencode(query)}"

    start = page * page_size
    return {
        key: items,
        "end": start + max(len(items) - 1, 0),
        "first_page_uri": uri(0, None),
        "next_page_uri": uri(page + 1, next_token) if next_token else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": uri(page - 1, previous_token) if previous_token else None,
        "start": start,
        "uri": uri(page, token),
    }


def number_sid(account_sid: str, number: str) -> str:
    return "PN" + hashlib.sha256(f"{account_sid}{number}".encode()).hexdigest()[:32]


def incoming_number_json(
    account_sid: str, number: str, created: datetime, sms_url: str | None, service: str | None
) -> dict[str, Any]:
    sid = number_sid(account_sid, number)
    return {
        "account_sid": account_sid,
        "address_requirements": "none",
        "api_version": API_VERSION,
        "beta": False,
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "date_created": rfc2822(created),
        "date_updated": rfc2822(created),
        "friendly_name": number,
        "origin": "twilio",
        "phone_number": number,
        "sid": sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": "POST",
        "sms_url": sms_url or "",
        "status": "in-use",
        "status_callback": "",
        "status_callback_method": "POST",
        "messaging_service_sid": service,
        "uri": f"{API_ROOT}/{account_sid}/IncomingPhoneNumbers/{sid}.json",
    }


def account_json(account_sid: str, created: datetime, owner: str | None = None) -> dict[str, Any]:
    """The Account resource; ``owner``: the main account, for a subaccount (Twilio's
    ``owner_account_sid`` is the parent's SID there, the account's own SID otherwise)."""
    return {
        "auth_token": None,
        "date_created": rfc2822(created),
        "date_updated": rfc2822(created),
        "friendly_name": "ERP SMS Bridge sandbox" + (" subaccount" if owner else ""),
        "owner_account_sid": owner or account_sid,
        "sid": account_sid,
        "status": "active",
        "type": "Full",
        "uri": f"{API_ROOT}/{account_sid}.json",
    }


def inbound_params(m: Message, keyword: str | None) -> dict[str, str]:
    """The form fields of Twilio's incoming-message webhook."""
    params = {
        "AccountSid": m.account_sid,
        "ApiVersion": API_VERSION,
        "Body": m.body,
        "From": m.sender or "",
        "FromCity": "",
        "FromCountry": _country(m.sender or ""),
        "FromState": "",
        "FromZip": "",
        "MessageSid": m.sid,
        "NumMedia": "0",
        "NumSegments": str(m.segments.segments),
        "ReferralNumMedia": "0",
        "SmsMessageSid": m.sid,
        "SmsSid": m.sid,
        "SmsStatus": "received",
        "To": m.to,
        "ToCity": "",
        "ToCountry": _country(m.to),
        "ToState": "",
        "ToZip": "",
    }
    if m.messaging_service_sid:
        params["MessagingServiceSid"] = m.messaging_service_sid
    if keyword in OPT_OUT_KEYWORDS:
        params["OptOutType"] = "STOP"
    elif keyword in OPT_IN_KEYWORDS:
        params["OptOutType"] = "START"
    elif keyword is not None:
        params["OptOutType"] = "HELP"
    return params


def _country(number: str) -> str:
    for prefix in sorted(COUNTRIES, key=len, reverse=True):
        if number.startswith(prefix):
            return COUNTRIES[prefix]
    return ""
