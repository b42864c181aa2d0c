"""Twilio's request signature (X-Twilio-Signature), computed independently of the twilio library.

Twilio signs a webhook as base64(HMAC-SHA1(auth_token, url + every POST parameter name and value,
sorted by name)). The sandbox implements this itself on purpose: if it shared the library's code a
mistake there could never be caught by verifying with the library's RequestValidator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping


def signature_payload(url: str, params: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    # Sorted by name, then value; an exact duplicate pair counts once (as Twilio's validators do).
    return url + "".join(name + value for name, value in sorted(set(pairs)))


def compute_signature(
    auth_token: str, url: str, params: Mapping[str, str] | Iterable[tuple[str, str]]
) -> str:
    digest = hmac.new(
        auth_token.encode("utf-8"),
        signature_payload(url, params).encode("utf-8"),
        hashlib.sha1,
    ).digest()
    return base64.b64encode(digest).decode("ascii")
