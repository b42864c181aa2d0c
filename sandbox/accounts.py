"""Subaccounts: extra Twilio accounts (one per business unit), each with its own SID, auth token
and numbers, next to the main account (``--account-sid``, ``--auth-token``, ``--number``).

Per account: Basic auth (the user is the account SID, the password its token, and the path's
AccountSid must be that user), the Messages a create makes and the reads that show them, the
IncomingPhoneNumbers, the Account resource, and the token that signs the webhooks of its
messages and numbers. Messaging Services belong to the main account only.

This module imports nothing else from the sandbox (settings imports it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")  # used with fullmatch
_E164 = re.compile(r"\+[1-9]\d{6,14}")
SUBACCOUNT_SYNTAX = "--subaccount must be SID:TOKEN:E164[,E164...] (SID is AC + 32 hex)"


@dataclass(frozen=True)
class SubAccount:
    sid: str  # AC + 32 hex
    token: str  # its auth token: Basic-auth password and webhook signing key
    numbers: tuple[str, ...]  # E.164 numbers this account owns (at least one)


def parse_subaccount(spec: str) -> SubAccount:
    """``SID:TOKEN:E164[,E164...]``; the token is everything between the first and the last
    colon (so it may contain colons). Raises ValueError with a one-line reason."""
    sid, _, rest = spec.partition(":")
    token, _, numbers_text = rest.rpartition(":")
    if not ACCOUNT_SID.fullmatch(sid) or not token or not numbers_text:
        raise ValueError(f"{SUBACCOUNT_SYNTAX}: {spec}")
    numbers = tuple(n.strip() for n in numbers_text.split(",") if n.strip())
    if not numbers:
        raise ValueError(f"{SUBACCOUNT_SYNTAX}: {spec}")
    for number in numbers:
        if not _E164.fullmatch(number):
            raise ValueError(f"--subaccount number must be E.164 (+ and digits): {number}")
    return SubAccount(sid, token, numbers)


def check_accounts(
    main_sid: str, main_numbers: Iterable[str], subaccounts: Iterable[SubAccount]
) -> None:
    """Every account SID distinct, every number owned by one account only; else ValueError."""
    sids = {main_sid.lower(): "the main account"}
    owner = dict.fromkeys(main_numbers, "the main account")
    for sub in subaccounts:
        if sub.sid.lower() in sids:
            raise ValueError(f"--subaccount {sub.sid}: the SID is already {sids[sub.sid.lower()]}")
        sids[sub.sid.lower()] = f"subaccount {sub.sid}"
        if not sub.token:
            raise ValueError(f"--subaccount {sub.sid}: the auth token is empty")
        if not sub.numbers:
            raise ValueError(f"--subaccount {sub.sid}: it needs at least one number")
        for number in sub.numbers:
            if number in owner:
                raise ValueError(
                    f"--subaccount {sub.sid}: {number} already belongs to {owner[number]}"
                )
            owner[number] = f"subaccount {sub.sid}"
