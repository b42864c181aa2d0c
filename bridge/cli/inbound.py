"""``sms-bridge`` commands of the inbound side: ``serve``, ``apikey ...``, ``spool replay``.

Split from ``bridge.cli.main`` (which builds the parser and runs every command) to keep each module
to one job; the handlers have the same signature as the others there.
"""

from __future__ import annotations

import argparse
import errno
import os
import runpy
import socket
import sys
from pathlib import Path

from bridge import errors
from bridge.config import Settings
from bridge.store import Store

EXIT_OK, EXIT_RUNTIME, EXIT_INPUT = 0, 1, 2
LIST_HINT = "sms-bridge apikey list shows them"


class UsageError(errors.ConfigError):
    """Bad input to a command (a key name that is taken or unknown, an address to listen on
    that is taken). A ConfigError, so that ``main`` prints it as one line and exits 2 (bad
    input), as for a wrong setting."""


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
    # A taken address: one line and exit 2 now, not gunicorn's retry loop (11 lines, 5 s).
    bind = f"{args.host}:{args.port}" if args.port else runpy.run_path(str(conf))["bind"]
    for netloc in [bind] if isinstance(bind, str) else bind:
        probe_listen(netloc)
    argv = [sys.executable, "-m", "gunicorn", "-c", str(conf), "inbound.app:get_app()"]
    store.close()
    sys.stdout.flush()
    os.execve(sys.executable, argv, env)


def probe_listen(netloc: str) -> None:
    """Raise a UsageError (one line, exit 2) when gunicorn could not listen on `netloc`.

    Binds and listens as gunicorn does, with SO_REUSEADDR (a port whose earlier connections
    linger in TIME_WAIT is free to it, and so to this probe), then closes at once. Another
    process may still take the address before gunicorn binds it: the ``on_starting`` hook of
    deploy/gunicorn.conf.py then fails as fast, in gunicorn's log format. Unix sockets and
    fd:// binds are left to gunicorn.
    """
    address = _tcp_address(netloc)
    if address is None:
        return
    host, port = address
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen(1)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = (
                    "the address is already in use (another process listens there): pick"
                    " another --port, or stop that process"
                )
            elif isinstance(exc, socket.gaierror):
                reason = f"the host does not resolve ({exc.strerror})"
            else:
                reason = exc.strerror or str(exc)
            raise UsageError(f"cannot listen on {shown}: {reason}") from None


def _tcp_address(netloc: str) -> tuple[str, int] | None:
    """(host, port) of one gunicorn bind, as gunicorn itself reads it; None for ``unix:`` and
    ``fd://`` binds."""
    from gunicorn.util import parse_address  # type: ignore[import-untyped]

    try:
        address = parse_address(netloc)
    except RuntimeError as exc:  # gunicorn's words: "'x' is not a valid port number."
        raise UsageError(f"cannot listen on {netloc}: {exc}") from None
    return address if isinstance(address, tuple) else None


def cmd_apikey_create(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from bridge.apikeys import generate, parse_scopes

    existing = store.api_key_by_name(args.name)
    if existing is not None and existing.revoked_at is not None:
        raise UsageError(
            f"the name {args.name!r} is taken by a key revoked on {existing.revoked_at:%Y-%m-%d}"
            f" (names are never reused): pick another name ({LIST_HINT})"
        )
    if existing is not None:
        raise UsageError(
            f"the name {args.name!r} is taken by an active API key: pick another name, or"
            f" retire that key with `sms-bridge apikey revoke {args.name}`"
            " (`sms-bridge apikey list` shows every key)"
        )
    scopes = parse_scopes(args.scopes)
    key = generate()
    store.create_api_key(args.name, key.prefix, key.hash, sorted(scopes), store.now())
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
    if not store.revoke_api_key(args.name, store.now()):
        existing = store.api_key_by_name(args.name)
        if existing is None:
            raise UsageError(f"no API key named {args.name!r} ({LIST_HINT})")
        since = f" on {existing.revoked_at:%Y-%m-%d}" if existing.revoked_at else ""
        raise UsageError(f"the API key {args.name!r} was already revoked{since}")
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
    report = replay_spool(store, settings.inbound, account_sids=settings.twilio.account_sids())
    print(f"{report} ({directory})")
    return EXIT_RUNTIME if report.remaining or report.busy else EXIT_OK
