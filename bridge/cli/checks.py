"""``sms-bridge check``: one line per connection the bridge needs (the database, every Twilio
account, the mail server): OK, WARN or FAIL with exactly what is wrong; exit 0, 1 (a failure of
something reached, or not reachable) or 2 (a setting or the schema to fix)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bridge import errors
from bridge.cli.inbound import EXIT_INPUT, EXIT_OK, EXIT_RUNTIME
from bridge.config import Settings
from bridge.outbound.gateway import TwilioGateway
from bridge.store import Store


def cmd_check(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """One line per connection: OK, or exactly what is wrong."""
    from bridge.mail.transport import make_transport

    gateway = TwilioGateway(settings.twilio)
    checks: list[tuple[str, Callable[[], str]]] = [("database", lambda: _database_line(store))]
    # Every account the senders may use: [twilio], then each [twilio.accounts.NAME].
    checks += [("twilio", _account_probe(gateway, account)) for account in gateway.accounts()]
    checks.append(("mail", lambda: make_transport(settings.mail).check()))
    code = EXIT_OK
    for name, probe in checks:
        try:
            line = probe()
            status = "WARN" if line.startswith("WARN ") else "OK"
            print(f"{name:<9} {status:<5} {line.removeprefix('WARN ')}")
        except Exception as exc:
            # A missing setting or schema is the operator's to fix (2); the rest is a failure
            # of something we reached, or could not reach (1).
            setup = isinstance(exc, errors.ConfigError | errors.SchemaMissingError)
            code = max(code, EXIT_INPUT if setup else EXIT_RUNTIME)
            print(f"{name:<9} FAIL  {error_line(exc)}")
    return code


def _account_probe(gateway: TwilioGateway, account: str | None) -> Callable[[], str]:
    return lambda: gateway.check(account)


def _database_line(store: Store) -> str:
    """Where, which schema and, on Oracle, how far its clock is from ours: the bridge takes the
    database's (it stamps due times), so a large offset is a warning, not a failure."""
    from bridge.store.clock import WARN_OFFSET_SECONDS, describe

    line = f"{store.engine} {store.location}, schema version {store.require_schema()}"
    store.dialect.check_usable()
    if not store.clock.follows_database:
        return line
    offset = store.clock.offset()
    if abs(offset.total_seconds()) > WARN_OFFSET_SECONDS:
        return (
            f"WARN {line}; its clock is {describe(offset)} (the bridge uses the database's;"
            " check time sync on both)"
        )
    return f"{line}, clock offset {offset.total_seconds():+.3f} s"


def error_line(exc: BaseException) -> str:
    """One line for a user: a named SMS error keeps its name (the same as ORA-200xx's), the
    bridge's own errors are their text, anything else is a bug or a driver's error and says
    what it is."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, errors.SmsError):
        return f"{text} ({exc.name})"
    if isinstance(exc, errors.BridgeError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
