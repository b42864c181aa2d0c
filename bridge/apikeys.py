"""REST API keys: generation, hashing and scopes (pure apart from the system's random source).

A key is ``smsb_`` + 32 random bytes (URL-safe base64). Only its SHA-256 is stored: with that
much entropy a slow password hash adds nothing (nobody can guess the preimage), and a fast one
lets every request be checked with one indexed look-up. ``key_prefix`` (the first characters)
is stored in clear so administrators can tell keys apart in ``sms-bridge apikey list``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bridge.domain import column_sizes
from bridge.domain.enqueue_rules import API_NAMESPACE

KEY_MARK = "smsb_"
PREFIX_CHARS = 12  # "smsb_" + 7 characters of the random part; fits sms_api_keys.key_prefix

# What a key queues is created_by "api:<name>": that is who owns it (a key without the admin
# scope reads and cancels only its own messages). Its correlation keys live in the source system
# "api:<name>" too, a namespace of sms_outbound.source_system that ERP callers may not use
# (reserved_source_system), so a key named like an ERP system ("HR_CERT") never meets that
# system's rows. source_system is VARCHAR2(30): new names have at most 26 characters.
SOURCE_SYSTEM_CHARS = column_sizes.column("sms_outbound", "source_system").size
MAX_NAME_CHARS = SOURCE_SYSTEM_CHARS - len(API_NAMESPACE)
_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_NAME_CHARS - 1}}}$")


class Scope(StrEnum):
    SEND = "send"  # POST /sms, POST /sms/{id}/cancel
    READ = "read"  # GET /sms, /sms/{id}, /inbound, /stats
    RAW_NUMBERS = "raw-numbers"  # POST /sms with "to"; full numbers in responses
    # Sign in to the operator console at /console (inbound/console/); admin keys may too.
    CONSOLE = "console"
    ADMIN = "admin"  # everything


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once, never stored
    prefix: str
    hash: str


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    key_prefix: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def allows(self, scope: Scope) -> bool:
        return self.revoked_at is None and (scope in self.scopes or Scope.ADMIN in self.scopes)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate() -> NewKey:
    key = KEY_MARK + secrets.token_urlsafe(32)
    return NewKey(key=key, prefix=key[:PREFIX_CHARS], hash=hash_key(key))


def looks_like_key(text: str) -> bool:
    return text.startswith(KEY_MARK) and 20 <= len(text) <= 200


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def check_name(name: str) -> str:
    """The name of a new key. Keys created before names were limited to 26 characters (27 to
    30) keep working, except for correlationKey, whose namespace would not fit."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"API key name {name!r}: 1 to {MAX_NAME_CHARS} letters, digits, '_', '.' or '-'"
            f" ({API_NAMESPACE!r} + the name becomes the source_system of the messages the key"
            f" queues, at most {SOURCE_SYSTEM_CHARS} characters)"
        )
    return name


def owner_of(key: ApiKey) -> str | None:
    """The created_by a key reads and cancels: its own ("api:<name>"), or None (everything)
    with the admin scope. By name, and names are never reused (not even after revoke)."""
    return None if Scope.ADMIN in key.scopes else created_by(key.name)


def created_by(name: str) -> str:
    """sms_outbound.created_by of what the key ``name`` queues."""
    return API_NAMESPACE + name


def source_system(name: str) -> str | None:
    """The source_system of the key's correlation keys, None when the name is too long for it
    (a key named before the 26-character limit)."""
    value = API_NAMESPACE + name
    return value if len(value) <= SOURCE_SYSTEM_CHARS else None


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """``["send", "read"]`` or ``["send,read"]`` or ``"send read"`` pieces; unknown ones fail."""
    found: set[Scope] = set()
    for value in values:
        for piece in re.split(r"[\s,]+", value.strip()):
            if not piece:
                continue
            try:
                found.add(Scope(piece.lower()))
            except ValueError:
                allowed = ", ".join(s.value for s in Scope)
                raise ValueError(f"unknown scope {piece!r}; expected {allowed}") from None
    if not found:
        raise ValueError("at least one scope is required")
    return frozenset(found)


def format_scopes(scopes: Iterable[Scope]) -> str:
    """The sms_api_keys.scopes text: space-separated, in a stable order."""
    order = list(Scope)
    return " ".join(s.value for s in sorted(set(scopes), key=order.index))
