"""``sms-bridge`` commands of the inbound side: ``serve``, ``apikey ...``, ``spool replay``.

Split from ``bridge.cli.main`` (which builds the parser and runs every command) to keep each module
to one job; the handlers have the same signature as the others there.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from bridge import errors
from bridge.config import Settings
from bridge.store import Store

EXIT_OK, EXIT_RUNTIME, EXIT_INPUT = 0, 1, 2


def key_name(text: str) -> str:
    from bridge.apikeys import check_name

    try:
        return check_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def scopes_argument(text: str) -> str:
    from bridge.apikeys import parse_scopes

    try:
        parse_scopes([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def cmd_serve(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """Replace this process with gunicorn running inbound.app:get_app() (systemd-friendly)."""
    from inbound.app import check_settings

    check_settings(settings)  # fail here, in one line, rather than in every worker
    conf = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"
    env = dict(os.environ)
    if args.config:
        env["SMS_BRIDGE_CONFIG"] = args.config
    if args.port:
        env["SMS_BRIDGE_SERVE_BIND"] = f"{args.host}:{args.port}"
    if args.workers:
        env["SMS_BRIDGE_SERVE_WORKERS"] = str(args.workers)
    argv = [sys.executable, "-m", "gunicorn", "-c", str(conf), "inbound.app:get_app()"]
    store.close()
    sys.stdout.flush()
    os.execve(sys.executable, argv, env)


def cmd_apikey_create(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from bridge.apikeys import generate, parse_scopes

    if store.api_key_by_name(args.name) is not None:
        raise errors.ConfigError(
            f"an API key named {args.name!r} exists; revoke it or pick another"
        )
    scopes = parse_scopes(args.scopes)
    key = generate()
    store.create_api_key(args.name, key.prefix, key.hash, sorted(scopes), datetime.now(UTC))
    print(key.key)
    print(
        f"API key {args.name!r} ({' '.join(sorted(scopes))}) created. It is shown only now:"
        " store it in the client's secret store.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_apikey_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from bridge.apikeys import format_scopes

    for key in store.list_api_keys():
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        print(
            f"{key.name:<30} {key.key_prefix}...  {format_scopes(key.scopes):<28}"
            f" created {key.created_at:%Y-%m-%d}  last used {used}  {state}"
        )
    return EXIT_OK


def cmd_apikey_revoke(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    if not store.revoke_api_key(args.name, datetime.now(UTC)):
        print(f"sms-bridge: no active API key named {args.name!r}", file=sys.stderr)
        return EXIT_RUNTIME
    print(f"API key {args.name!r} revoked")
    return EXIT_OK


def cmd_spool_replay(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from bridge.replies.processing import replay_spool

    directory = Path(settings.inbound.spool_dir).resolve()
    if not directory.is_dir():
        # Nothing was ever spooled here, which is normal on a healthy host (the directory is
        # made by the first spooled webhook) but also what running from another directory
        # than the service looks like ([inbound] spool_dir may be relative): say where.
        print(
            f"spool: nothing to replay: no spool at {directory} ([inbound] spool_dir, relative"
            " to the working directory unless absolute)"
        )
        return EXIT_OK
    report = replay_spool(store, settings.inbound)
    print(f"{report} ({directory})")
    return EXIT_RUNTIME if report.remaining or report.busy else EXIT_OK
