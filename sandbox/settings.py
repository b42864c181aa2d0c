"""Everything a sandbox run is configured with; built by the CLI (or a test) and never from env."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.accounts import SubAccount, check_accounts
from sandbox.lookup import DEFAULT_LINE_TYPES
from sandbox.pricing import Pricing

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"
DEFAULT_NUMBER = "+15005550006"  # Twilio's own "valid From" test number

# To-number -> outcome. "reject:CODE" answers the create with that 400 error (no Message exists);
# "undelivered:CODE" / "failed:CODE" end the Message so after it went out (or instead of sending,
# for failed). The +1500555000x numbers reuse the meaning Twilio gives them with test credentials.
DEFAULT_MAGIC_NUMBERS: dict[str, str] = {
    "+15005550001": "reject:21211",  # invalid number
    "+15005550002": "reject:21612",  # cannot route to this number
    "+15005550003": "reject:21408",  # no international permission
    "+15005550004": "reject:21610",  # blocked / opted out
    "+15005550009": "reject:21614",  # not a mobile number (landline)
    "+15005550010": "undelivered:30003",  # unreachable handset
    "+15005550011": "undelivered:30005",  # unknown handset
    "+15005550012": "undelivered:30007",  # carrier filtered
    "+15005550013": "failed:30008",  # fails before it is sent
}


@dataclass(frozen=True)
class Timings:
    """Seconds between lifecycle steps (a clock thread moves messages on)."""

    accepted: float = 0.2  # accepted -> queued (Messaging Service sends only)
    queued: float = 0.5  # queued -> sending
    sending: float = 0.5  # sending -> sent (date_sent set here; the price once final)
    delivery: float = 1.0  # sent -> delivered / undelivered


@dataclass(frozen=True)
class SandboxSettings:
    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    numbers: tuple[str, ...] = (DEFAULT_NUMBER,)
    # Messaging Service SID -> the owned numbers in its sender pool.
    messaging_services: dict[str, tuple[str, ...]] = field(default_factory=dict)
    inbound_url: str | None = None
    # Further accounts (sandbox/accounts.py), each with its own SID, token and numbers.
    subaccounts: tuple[SubAccount, ...] = ()
    timings: Timings = field(default_factory=Timings)
    mps: float = 0.0  # segments per second per sender number; 0 = unlimited (no queueing)
    magic_numbers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MAGIC_NUMBERS))
    # Lookup v2 (sandbox/lookup.py): number -> line type or "error:CODE"; others are mobile.
    line_types: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LINE_TYPES))
    # What a delivered/undelivered message costs and when the price shows (sandbox/pricing.py).
    pricing: Pricing = field(default_factory=Pricing)
    seed: int | None = None
    callback_workers: int = 8
    callback_timeout: float = 5.0
    host: str = "127.0.0.1"
    port: int = 0
    threads: int = 256  # connections served at once (one thread each)
    graceful_timeout: float = 3.0
    keepalive: float = 75.0  # longer than any client's idle time, so pooled connections stay valid

    def __post_init__(self) -> None:
        if self.subaccounts:
            check_accounts(self.account_sid, self.numbers, self.subaccounts)

    # -- accounts -------------------------------------------------------------------------
    def accounts(self) -> tuple[tuple[str, str], ...]:
        """Every account as (SID, auth token), the main account first."""
        return ((self.account_sid, self.auth_token), *((a.sid, a.token) for a in self.subaccounts))

    def token_of(self, account_sid: str) -> str | None:
        """The auth token of a known account SID, else None."""
        for sid, token in self.accounts():
            if sid == account_sid:
                return token
        return None

    def numbers_of(self, account_sid: str) -> tuple[str, ...]:
        """The numbers an account owns (none for an unknown SID)."""
        if account_sid == self.account_sid:
            return self.numbers
        for sub in self.subaccounts:
            if sub.sid == account_sid:
                return sub.numbers
        return ()

    def owner_of(self, number: str) -> str | None:
        """The SID of the account that owns ``number``, else None."""
        if number in self.numbers:
            return self.account_sid
        for sub in self.subaccounts:
            if number in sub.numbers:
                return sub.sid
        return None

    def all_numbers(self) -> tuple[str, ...]:
        """Every owned number, the main account's first."""
        return self.numbers + tuple(n for sub in self.subaccounts for n in sub.numbers)

    def service_of(self, number: str) -> str | None:
        for sid, pool in self.messaging_services.items():
            if number in pool:
                return sid
        return None
