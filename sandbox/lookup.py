"""Twilio Lookup v2 (``GET https://lookups.twilio.com/v2/PhoneNumbers/{number}``), line types only.

The twilio library calls lookups.twilio.com; the bridge's RewritingHttpClient sends it to the
sandbox's base URL under ``/lookups``, so the route is ``/lookups/v2/PhoneNumbers/{number}``.
The line type comes from a table of magic numbers (``--line-type E164=TYPE``, defaults below);
every other valid number is ``mobile``. Authentication is HTTP Basic with the SID and auth token
of any of the sandbox's accounts (the main one or a ``--subaccount``); the faults are those of
the REST API (``Sandbox.handle_api``, kind ``lookup``: error faults only with scope ``all``);
every call is in ``/_sandbox/requests``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import falcon

from sandbox.errors import TwilioError

if TYPE_CHECKING:  # the resource only calls the Sandbox it is given
    from sandbox.service import Sandbox

LOOKUPS_PREFIX = "/lookups"
LOOKUPS_URL = "https://lookups.twilio.com"

# Twilio's line_type_intelligence.type values.
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
MOBILE_TYPES = frozenset({"mobile", "nonFixedVoip"})

# Number -> line type, or "error:CODE" (type null, line_type_intelligence.error_code CODE, as
# Twilio answers 60600 for an unprovisioned or out-of-coverage number), or "http:STATUS" (the
# lookup of that number fails: 429 / 20429, 500 / 20500 or 503 / 20503, a fault for one number
# where the fault options hit every request). 555-0100..0199 are the NANP's fictional numbers;
# +15005550009 is Twilio's 21614 landline test number.
DEFAULT_LINE_TYPES: dict[str, str] = {
    "+15005550009": "landline",
    "+12025550142": "landline",
    "+12025550143": "fixedVoip",
    "+12025550144": "nonFixedVoip",
    "+18005550145": "tollFree",
    "+12025550146": "pager",
    "+12025550147": "voicemail",
    "+12025550148": "unknown",
    "+12025550149": "error:60600",
}

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_ERROR = re.compile(r"error:(\d{5})")
_HTTP = re.compile(r"http:(429|500|503)")
_CALLING_CODES = {"1": "US", "44": "GB", "33": "FR", "49": "DE", "34": "ES", "39": "IT"}
_CARRIERS = {"mobile": "Sandbox Wireless", "nonFixedVoip": "Sandbox Voice"}


def parse_line_type(spec: str) -> str:
    """A ``--line-type`` value, checked: one of LINE_TYPES or ``error:CODE``."""
    if spec in LINE_TYPES or _ERROR.fullmatch(spec) or _HTTP.fullmatch(spec):
        return spec
    raise ValueError(
        f"line type must be one of {', '.join(LINE_TYPES)}, error:CODE or http:429|500|503:"
        f" {spec!r}"
    )


def _country(number: str) -> tuple[str | None, str | None]:
    digits = number[1:]
    for length in (1, 2, 3):
        if digits[:length] in _CALLING_CODES:
            return digits[:length], _CALLING_CODES[digits[:length]]
    return None, None


def _national(number: str, calling_code: str | None) -> str | None:
    if calling_code is None:
        return None
    rest = number[1 + len(calling_code) :]
    if calling_code == "1" and len(rest) == 10:
        return f"({rest[:3]}) {rest[3:6]}-{rest[6:]}"
    return rest


def line_type_intelligence(number: str, table: Mapping[str, str]) -> dict[str, Any]:
    spec = table.get(number, "mobile")
    error = _ERROR.fullmatch(spec)
    if error:
        kind, code = None, int(error.group(1))
    else:
        kind, code = spec, None
    mobile = kind in MOBILE_TYPES
    return {
        "carrier_name": None if kind is None else _CARRIERS.get(kind, "Sandbox Telephone Co."),
        "error_code": code,
        "mobile_country_code": "310" if mobile else None,
        "mobile_network_code": "260" if mobile else None,
        "type": kind,
    }


def lookup_json(number: str, fields: str, table: Mapping[str, str]) -> dict[str, Any]:
    """The v2 PhoneNumber resource: the basic fields always, line_type_intelligence when asked
    for in ``Fields`` (comma-separated) and the number is valid; the other packages null."""
    valid = bool(_E164.fullmatch(number))
    calling_code, country = _country(number) if valid else (None, None)
    asked = {f.strip() for f in fields.split(",") if f.strip()}
    body: dict[str, Any] = {
        "calling_country_code": calling_code,
        "country_code": country,
        "phone_number": number,
        "national_format": _national(number, calling_code) if valid else None,
        "valid": valid,
        "validation_errors": [] if valid else ["NOT_A_NUMBER"],
        "caller_name": None,
        "sim_swap": None,
        "call_forwarding": None,
        "line_status": None,
        "line_type_intelligence": (
            line_type_intelligence(number, table)
            if valid and "line_type_intelligence" in asked
            else None
        ),
        "identity_match": None,
        "reassigned_number": None,
        "sms_pumping_risk": None,
        "phone_number_quality_score": None,
        "pre_fill": None,
        "url": f"{LOOKUPS_URL}/v2/PhoneNumbers/{number}",
    }
    return body


class LookupResource:
    """``GET /lookups/v2/PhoneNumbers/{number}`` in Twilio's shape, through the fault wrapper."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox

    def on_get(self, req: falcon.Request, resp: falcon.Response, number: str) -> None:
        from sandbox.app import _query, _render  # app imports this module

        query = _query(req)
        # Lookup has no account in its path: any known account's credentials will do.
        authorized = self.sb.authorized(req.get_header("Authorization"), None)
        table = self.sb.settings.line_types

        def work() -> tuple[int, dict[str, Any]]:
            failing = _HTTP.fullmatch(table.get(number, ""))
            if failing:
                raise TwilioError(20000 + int(failing.group(1)))
            return 200, lookup_json(number, query.get("Fields", ""), table)

        answer = self.sb.handle_api("lookup", "GET", req.path, query, authorized, work)
        _render(req, resp, answer)
