"""Twilio signature check for the webhook routes (middleware).

Twilio signs each webhook with HMAC over the URL it requested plus the sorted form fields
(every value of a repeated field, blank values included). We rebuild that URL from the
configured public URL, not from the Host header, because gunicorn usually sits behind a proxy
that changes scheme and host; X-Forwarded-Proto/Host are used only when the settings say the
proxy in front is trusted to set them (otherwise a client could choose the URL we validate).

Each Twilio account signs with its own auth token: the token is the one of the account whose
AccountSid the form carries ([twilio] or a [twilio.accounts.NAME]), and a form naming an account
this bridge does not have is refused as unsigned. A request that fails is answered 403 before
its resource runs: nothing is written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import falcon
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from inbound.http import ApiError, read_body

log = logging.getLogger(__name__)

FORM_TYPE = "application/x-www-form-urlencoded"


class FormParams(dict[str, list[str]]):
    """The parsed form, exposing ``getall`` so RequestValidator signs every repeated value."""

    def getall(self, name: str) -> list[str]:
        return list(self[name])


def parse_form(body: bytes) -> FormParams:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_form", "the form is not UTF-8") from None
    return FormParams(parse_qs(text, keep_blank_values=True))


def _last_value(header: str | None) -> str:
    """The value the trusted proxy in front of us added: the last one. A proxy that appends
    keeps whatever the client sent before its own value, so an earlier value (or an earlier
    header line, which the server joins with commas) is the client's choice, not the proxy's."""
    return (header or "").split(",")[-1].strip()


class TwilioSignature:
    """Parse the form of resources marked ``twilio_signed`` and verify its signature."""

    def __init__(
        self,
        public_url: str,
        auth_token: str,
        *,
        tokens_by_sid: Mapping[str, str] | None = None,
        verify: bool,
        trust_forwarded_headers: bool,
        max_body_bytes: int,
    ) -> None:
        parts = urlsplit(public_url)
        self.scheme = parts.scheme
        self.netloc = parts.netloc
        self.prefix = parts.path.rstrip("/")  # the app may be mounted below a path
        # Without any configured SID (development), every form is checked with [twilio]'s
        # token; with them, with the token of the AccountSid it names.
        self.default_validator = RequestValidator(auth_token)
        self.validators = {sid: RequestValidator(t) for sid, t in (tokens_by_sid or {}).items()}
        self.verify = verify
        self.trust_forwarded_headers = trust_forwarded_headers
        self.max_body_bytes = max_body_bytes

    def signed_url(self, req: falcon.Request) -> str:
        scheme, netloc = self.scheme, self.netloc
        if self.trust_forwarded_headers:
            proto = _last_value(req.get_header("X-Forwarded-Proto"))
            host = _last_value(req.get_header("X-Forwarded-Host"))
            scheme, netloc = proto or scheme, host or netloc
        query = f"?{req.query_string}" if req.query_string else ""
        return f"{scheme}://{netloc}{self.prefix}{req.path}{query}"

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        if not getattr(resource, "twilio_signed", False) or req.method != "POST":
            return  # Twilio only POSTs; another method gets the router's 405, not a 403
        body = read_body(req, self.max_body_bytes)
        content_type = (req.content_type or "").split(";")[0].strip().lower()
        form = parse_form(body) if content_type == FORM_TYPE else FormParams()
        req.context.form = form
        if not self.verify:
            return
        signature = req.get_header(SIGNATURE_HEADER) or ""
        algorithm = get_signature_algorithm(req.get_header(SIGNATURE_SETTINGS_HEADER))
        url = self.signed_url(req)
        validator = self.validator_for(form)
        if validator is None:
            log.warning(
                "rejected %s %s: AccountSid %s is none of this bridge's Twilio accounts",
                req.method,
                req.path,
                _account_sid_of(form)[:6] + "...",
            )
            raise ApiError(
                403, "unknown_account", "the AccountSid is none of this bridge's Twilio accounts"
            )
        if not signature or not validator.validate(url, form, signature, algorithm):
            log.warning(
                "rejected %s %s: %s Twilio signature (validated against %s)",
                req.method,
                req.path,
                "bad" if signature else "missing",
                url,
            )
            raise ApiError(403, "bad_signature", "the X-Twilio-Signature does not match")

    def validator_for(self, form: FormParams) -> RequestValidator | None:
        """The validator of the form's account; None for an AccountSid we do not have. A form
        without one AccountSid (none, or repeated) is checked with [twilio]'s token, and its
        shape check (bridge.replies.webhook_form) refuses it afterwards."""
        sid = _account_sid_of(form)
        if not self.validators or not sid:
            return self.default_validator
        return self.validators.get(sid)


def _account_sid_of(form: FormParams) -> str:
    values = form.get("AccountSid", [])
    return values[0] if len(values) == 1 else ""
