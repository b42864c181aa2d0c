"""``sms-bridge sender CODE [options]``: add a sender profile, or change some of its options.

A sender is a from-number or Messaging Service with its rate, quiet hours, help text and
options (validity, dedupe window, line-type look-ups), and the Twilio account it sends through
(``--account``: one of the settings' ``[twilio.accounts.NAME]``, '' for ``[twilio]``).
``bridge.cli.main`` registers the command with :func:`add_parsers`.
"""

from __future__ import annotations

import argparse
import dataclasses
import re

from bridge import errors
from bridge.cli.inbound import EXIT_OK
from bridge.config import ACCOUNT_NAME, Settings
from bridge.domain.models import Sender
from bridge.store import Store


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sender = sub.add_parser(
        "sender",
        help="add or update a sender profile",
        description="Add a sender, or change the options given on an existing one (the others "
        "keep their values; '' clears an optional text).",
    )
    sender.add_argument("code")
    sender.add_argument("--description")
    sender.add_argument("--from-number")
    sender.add_argument("--messaging-service-sid")
    sender.add_argument("--mps", type=float, help="segments per second (new sender: 1)")
    sender.add_argument("--quiet-start", help="HH:MM in the recipient's zone")
    sender.add_argument("--quiet-end", help="HH:MM in the recipient's zone")
    sender.add_argument("--time-zone", help="default zone (new sender: UTC)")
    sender.add_argument("--help-text")
    sender.add_argument(
        "--dedupe-window",
        type=int,
        metavar="SECONDS",
        help="do not send the same text to the same number twice within this many seconds"
        " (1-2592000; the later one is SUPPRESSED as a duplicate; 0 clears: no dedupe)",
    )
    sender.add_argument(
        "--validity",
        type=int,
        metavar="SECONDS",
        help="how long Twilio may hold a message in its queue before failing it (1-36000;"
        " a message's own expiry shortens it; 0 clears: Twilio's 36000)",
    )
    active = sender.add_mutually_exclusive_group()
    active.add_argument(
        "--inactive",
        dest="active",
        action="store_false",
        default=None,
        help="no new messages for this sender",
    )
    active.add_argument("--active", dest="active", action="store_true", default=None)
    lookup = sender.add_mutually_exclusive_group()
    lookup.add_argument(
        "--line-type-lookup",
        dest="line_type_lookup",
        action="store_true",
        default=None,
        help="ask Twilio Lookup (line type, cached 30 days) before the first send to a +1"
        " number; a landline is INVALID without a send (each new number costs a lookup)",
    )
    lookup.add_argument(
        "--no-line-type-lookup", dest="line_type_lookup", action="store_false", default=None
    )
    sender.add_argument(
        "--account",
        metavar="NAME",
        help="the Twilio account it sends through: a [twilio.accounts.NAME] of the settings"
        " ('' clears: [twilio]); its creates, look-ups, recovery and sync use that account",
    )
    sender.set_defaults(handler=cmd_sender)


def cmd_sender(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    code = args.code.upper()
    current = store.get_sender(code) or Sender(code=code)
    changes: dict[str, object] = {
        name: (value or None) if isinstance(value, str) else value
        for name, value in {
            "description": args.description,
            "from_number": args.from_number,
            "messaging_service_sid": args.messaging_service_sid,
            "mps": args.mps,
            "quiet_start": args.quiet_start,
            "quiet_end": args.quiet_end,
            "default_time_zone": args.time_zone,
            "help_text": args.help_text,
            "active": args.active,
            "validity_seconds": args.validity,
            "line_type_lookup": args.line_type_lookup,
            "dedupe_window_seconds": args.dedupe_window,
            "twilio_account": args.account,
        }.items()
        if value is not None
    }
    for name in ("validity_seconds", "dedupe_window_seconds"):
        if changes.get(name) == 0:
            changes[name] = None
    updated = dataclasses.replace(current, **changes)  # type: ignore[arg-type]
    if not updated.from_number and not updated.messaging_service_sid:
        raise errors.ConfigError(f"sender {code} needs --from-number or --messaging-service-sid")
    for name in ("quiet_start", "quiet_end"):
        value = getattr(updated, name)
        if value is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise errors.ConfigError(f"--{name.replace('_', '-')} {value!r}: expected HH:MM")
    if updated.mps <= 0:
        raise errors.ConfigError("--mps must be greater than 0")
    if updated.validity_seconds is not None and not 1 <= updated.validity_seconds <= 36_000:
        raise errors.ConfigError(
            f"--validity {updated.validity_seconds}: expected 1 to 36000 seconds (0 clears)"
        )
    window = updated.dedupe_window_seconds
    if window is not None and not 1 <= window <= 2_592_000:
        raise errors.ConfigError(
            f"--dedupe-window {window}: expected 1 to 2592000 seconds (30 days; 0 clears)"
        )
    if args.account:
        _check_account(args.account, settings)
    store.save_sender(updated, store.now())
    print(f"sender {code} saved")
    return EXIT_OK


def _check_account(name: str, settings: Settings) -> None:
    """A sender may name only an account this bridge can send through: a typo would hold its
    messages back (the worker does not send them through another account)."""
    if not ACCOUNT_NAME.fullmatch(name):
        raise errors.ConfigError(
            f"--account {name!r}: an account name is lowercase letters, digits and _,"
            " starting with a letter, at most 30 ('' for [twilio])"
        )
    if name not in settings.twilio.accounts:
        known = ", ".join(sorted(settings.twilio.accounts)) or "none"
        raise errors.ConfigError(
            f"--account {name}: no [twilio.accounts.{name}] in {settings.source}"
            f" (configured: {known})"
        )
