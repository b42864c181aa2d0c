"""``sms-bridge optouts sync``: opt-outs from Twilio's own history (bridge/replies/optout_sync.py).

Reads the inbound messages every sender number received since ``--since`` (default 13 months)
through the Messages API and applies the STOP/START keywords among them to sms_optouts, an older
change never overwriting a newer one: opt-outs made while the webhook was down, or before the
bridge existed, are honoured. Idempotent. ``bridge.cli.main`` registers it with
:func:`add_parsers`.
"""

from __future__ import annotations

import argparse
import json

from bridge.cli.inbound import EXIT_OK
from bridge.config import Settings
from bridge.domain.optout_history import parse_since
from bridge.outbound.gateway import TwilioGateway, require_credentials
from bridge.replies.optout_sync import sync_optouts
from bridge.store import Store

DEFAULT_SINCE = "13months"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    optouts = sub.add_parser("optouts", help="opt-outs (sms_optouts) from Twilio's history")
    actions = optouts.add_subparsers(dest="optouts_command", required=True, metavar="ACTION")
    synced = actions.add_parser(
        "sync",
        help="apply the STOP/START replies Twilio's Messages list holds",
        description="Lists the inbound messages of every sender number at Twilio and applies "
        "their STOP/START keywords to sms_optouts (an older change never overwrites a newer "
        "one). Idempotent.",
    )
    synced.add_argument(
        "--since",
        default=DEFAULT_SINCE,
        help="how far back: a duration (13months, 30d, 12h) or an ISO date (2025-11-01);"
        f" default {DEFAULT_SINCE}",
    )
    synced.add_argument("--json", action="store_true", help="the summary as JSON")
    synced.set_defaults(handler=cmd_optouts_sync)


def cmd_optouts_sync(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    since = parse_since(args.since, store.now())  # a bad --since: one line, exit 2
    require_credentials(settings.twilio)
    gateway = TwilioGateway(settings.twilio)
    result = sync_optouts(
        store,
        gateway.inbound_since,
        lambda account: gateway.clock_offset(store.now, account),
        since,
        accounts=settings.twilio.accounts.keys(),
    )
    if args.json:
        print(json.dumps({"since": since.isoformat(), **result.to_json()}, indent=2))
    else:
        print(result.line())
    return EXIT_OK
