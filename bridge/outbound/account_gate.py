"""Which senders a worker may send for, by their Twilio account (issue 14, accounts per unit).

Two reasons keep a sender's messages QUEUED, unclaimed, while the other senders go on:

- its account is not in the settings (``sms_senders.twilio_account`` names a
  ``[twilio.accounts.NAME]`` the worker lacks: a typo, a removed table): *held*, until the
  account is configured and the worker restarted, or the sender moved;
- Twilio refused its account's credentials at a create (20003): *refused*, until the runner's
  minute re-check (``bridge.runner``) finds the account accepted again.

Each is logged and alerted once, naming the settings table to fix. Nothing is ever sent through
another account than the sender's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bridge.config import TwilioSettings
from bridge.domain.models import Sender
from bridge.mail.notify import Notifier

log = logging.getLogger("bridge.outbound.worker")


def account_settings(account: str | None) -> str:
    """The settings table of a Twilio account: [twilio], or [twilio.accounts.NAME]."""
    return "[twilio]" if account is None else f"[twilio.accounts.{account}]"


class AccountGate:
    def __init__(
        self,
        settings: TwilioSettings,
        notifier: Notifier,
        sender_of: Callable[[str], Sender],
    ) -> None:
        self.settings = settings
        self.notifier = notifier
        self.sender_of = sender_of
        # Senders whose Twilio account is not in the settings -> that account.
        self.held: dict[str, str] = {}
        # Accounts whose credentials Twilio refused (None: [twilio]) -> what it answered.
        self.refused: dict[str | None, str] = {}
        # What the credentials alert promises: the service re-checks every minute; a run
        # --once stops and leaves it to the next run (the runner sets this).
        self.rechecks = True

    def blocked(self, code: str) -> bool:
        """True when sender ``code`` may not be claimed now: held or refused."""
        return self.held_back(code) or self.is_refused(code)

    @property
    def anything_blocked(self) -> bool:
        return bool(self.held or self.refused)

    def held_back(self, code: str) -> bool:
        """True when sender ``code`` names a Twilio account the settings lack (the sender
        cache behind ``sender_of`` is refreshed every minute, so a moved sender resumes)."""
        account = self.sender_of(code).twilio_account
        if account is None or account in self.settings.accounts:
            self.held.pop(code, None)
            return False
        if self.held.get(code) != account:
            self.held[code] = account
            text = (
                f"sender {code} sends through Twilio account {account!r}, which is not in the"
                f" settings ([twilio.accounts.{account}]): its messages stay queued"
            )
            log.error("%s", text)
            self.notifier.alert(
                "twilio-account",
                f"Sender {code}: Twilio account {account!r} is not configured",
                f"{text}. Add [twilio.accounts.{account}] (account_sid, auth_token) and restart"
                f" the worker, or move the sender: sms-bridge sender {code} --account NAME"
                " (--account '' for [twilio]).",
            )
        return True

    def is_refused(self, code: str) -> bool:
        """True when Twilio refused the credentials of sender ``code``'s account."""
        return bool(self.refused) and self.sender_of(code).twilio_account in self.refused

    def refuse(self, account: str | None, answer: str) -> None:
        """Twilio refused ``account``'s credentials: its senders stop; alerted once."""
        first = account not in self.refused
        self.refused[account] = answer
        if not first:
            return  # the creates already in flight when it was refused
        self.notifier.alert(
            "twilio-credentials",
            "Twilio rejected the bridge's credentials: sending stopped"
            + ("" if account is None else f" for account {account}"),
            f"{answer} ({account_settings(account)} account_sid / auth_token). "
            + ("" if account is None else "Senders on other accounts go on. ")
            + (
                "The worker stopped sending and re-checks the credentials every minute."
                if self.rechecks
                else "This `sms-bridge run --once` stopped sending and exited; its messages"
                " stay queued for the next run, which tries the credentials again."
            ),
        )

    def answer(self) -> str:
        """What Twilio answered, per refused account: one line."""
        return "; ".join(f"{account_settings(a)}: {text}" for a, text in self.refused.items())
