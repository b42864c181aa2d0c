"""sms-bridge: queue, send and follow SMS between the ERP's database and Twilio.

The command-line composition root. Every command loads settings, opens the store, does one
thing and closes it. Expected failures (bad input, bad configuration, an unreachable database)
print one line on stderr and exit 2 (input/config) or 1 (runtime); nothing is written when the
input is rejected.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bridge import errors, logsetup
from bridge.cli import batch, cost, keywords, optouts, purge, recipients, senders
from bridge.cli.checks import cmd_check, error_line
from bridge.cli.inbound import (  # the exit codes are defined there, for both modules
    EXIT_INPUT,
    EXIT_OK,
    EXIT_RUNTIME,
    cmd_apikey_create,
    cmd_apikey_list,
    cmd_apikey_revoke,
    cmd_serve,
    cmd_spool_replay,
    key_name,
    scopes_argument,
)
from bridge.config import Settings, config_path, load_settings
from bridge.domain.enqueue_rules import CLI_CREATED_BY
from bridge.domain.models import EnqueueRequest, Message
from bridge.domain.statuses import Status
from bridge.store import Store, open_store


def _instant(text: str) -> datetime:
    """ISO-8601 with its zone, as the REST API takes it: a local time without one would be
    read in some zone nobody chose (the bridge stores UTC)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 date-time, e.g. 2030-01-01T09:00:00+01:00"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone: add Z (UTC) or an offset, e.g. {text}Z or {text}+01:00"
        )
    return value.astimezone(UTC)


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0: must be at least 1")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _recipient(text: str) -> tuple[str, str]:
    kind, sep, ident = text.partition(":")
    if not sep or not kind or not ident:
        raise argparse.ArgumentTypeError(f"{text!r}: expected TYPE:ID, e.g. EMPLOYEE:1001")
    return kind.upper(), ident


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sms-bridge",
        description="Queue, send and follow SMS between the ERP's database and Twilio.",
    )
    parser.add_argument(
        "--config", help="TOML file (default: $SMS_BRIDGE_CONFIG, ./sms-bridge.toml)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="install or check the schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    install = db_sub.add_parser("install", help="create or upgrade the schema (idempotent)")
    install.add_argument("--no-demo", action="store_true", help="skip demo HR tables and view")
    install.add_argument(
        "--plsql-dir",
        type=Path,
        help="Oracle scripts (default: plsql/ of the source checkout; required after a "
        "non-editable pip install)",
    )
    install.set_defaults(handler=cmd_db_install)
    check = db_sub.add_parser("check", help="connect and report the schema version")
    check.set_defaults(handler=cmd_db_check)

    enqueue = sub.add_parser("enqueue", help="queue one SMS, or every line of a CSV file")
    enqueue.add_argument("--sender", help="sender code, e.g. HR (with --csv: lines without one)")
    # Not an argparse exclusive group: both (or neither) is the named recipient_count error,
    # one line as from PL/SQL and the API, not a usage message.
    enqueue.add_argument("--recipient", type=_recipient, help="TYPE:ID from sms_recipients_v")
    enqueue.add_argument("--to", help="raw E.164 number (trusted operators only)")
    enqueue.add_argument("--body")
    enqueue.add_argument("--priority", type=int, default=2, help="1 urgent, 2 (default), 3 bulk")
    enqueue.add_argument(
        "--send-after", type=_instant, help="ISO-8601 with a zone, e.g. 2030-01-01T09:00:00Z"
    )
    enqueue.add_argument("--expires-at", type=_instant, help="ISO-8601 with a zone")
    enqueue.add_argument("--reference")
    enqueue.add_argument("--reply-code")
    enqueue.add_argument("--source-system")
    enqueue.add_argument("--correlation-key")
    enqueue.add_argument("--json", action="store_true", help="print the queued message as JSON")
    enqueue.add_argument(
        "--csv", metavar="FILE", help="queue every line of a CSV file as one batch"
    )
    enqueue.add_argument(
        "--batch", type=_positive, metavar="ID", help="--csv only: add to this batch, not a new one"
    )
    enqueue.add_argument("--label", help="--csv only: the new batch's label (default: file name)")
    enqueue.add_argument(
        "--quiet", action="store_true", help="--csv only: print only refused lines and the total"
    )
    enqueue.set_defaults(handler=cmd_enqueue)

    status = sub.add_parser("status", help="show one message and its events")
    status.add_argument("id", type=int)
    status.add_argument("--json", action="store_true")
    status.add_argument("--raw-numbers", action="store_true", help="show the number unmasked")
    status.set_defaults(handler=cmd_status)

    cancel = sub.add_parser("cancel", help="cancel a queued message")
    cancel.add_argument("id", type=int)
    cancel.add_argument("--reason")
    cancel.set_defaults(handler=cmd_cancel)

    report = sub.add_parser("report", help="counts per sender and day, by status")
    report.add_argument(
        "--days", type=_positive, default=7, help="UTC days, today included (default 7)"
    )
    report.add_argument("--json", action="store_true")
    report.add_argument(
        "--batch", type=_positive, metavar="ID", help="one batch: what became of its messages"
    )
    report.add_argument(
        "--cost", action="store_true", help="what Twilio charged, by sender, UTC month and currency"
    )
    report.add_argument(
        "--months", type=_positive, default=3, help="the months --cost shows, this one included"
    )
    report.set_defaults(handler=cmd_report)

    senders.add_parsers(sub)

    hr = sub.add_parser("hr", help="the certification-reminder use case (embedded mode)")
    hr_sub = hr.add_subparsers(dest="hr_command", required=True, metavar="ACTION")
    hr_queue = hr_sub.add_parser(
        "queue-expiring", help="queue reminders for certifications expiring soon (idempotent)"
    )
    hr_queue.add_argument("--days", type=_non_negative, default=14, help="days ahead (default 14)")
    hr_queue.set_defaults(handler=cmd_hr_queue_expiring)

    run = sub.add_parser("run", help="run the outbound worker")
    run.add_argument("--once", action="store_true", help="drain what is ready now, then exit")
    run.add_argument("--quiet", action="store_true", help="no progress line")
    run.set_defaults(handler=cmd_run)

    check_all = sub.add_parser("check", help="test the database, Twilio and mail connections")
    check_all.set_defaults(handler=cmd_check)

    recipients.add_parsers(sub)
    keywords.add_parsers(sub)
    optouts.add_parsers(sub)
    purge.add_parsers(sub)

    # -- inbound service (owned with inbound/) -------------------------------------------
    serve = sub.add_parser("serve", help="run the inbound service (gunicorn + Falcon)")
    serve.add_argument("--port", type=int, help="listen port (default: deploy/gunicorn.conf.py)")
    serve.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    serve.add_argument("--workers", type=int, help="gunicorn worker processes")
    serve.set_defaults(handler=cmd_serve)
    apikey = sub.add_parser("apikey", help="manage REST API keys")
    apikey_sub = apikey.add_subparsers(dest="apikey_command", required=True, metavar="ACTION")
    key_create = apikey_sub.add_parser("create", help="create a key and print it once")
    key_create.add_argument("name", type=key_name, help="the client application's name")
    key_create.add_argument(
        "--scopes",
        nargs="+",
        required=True,
        type=scopes_argument,
        help="send read raw-numbers admin",
    )
    key_create.set_defaults(handler=cmd_apikey_create)
    apikey_sub.add_parser("list", help="list keys (never the keys)").set_defaults(
        handler=cmd_apikey_list
    )
    key_revoke = apikey_sub.add_parser("revoke", help="revoke a key at once")
    key_revoke.add_argument("name")
    key_revoke.set_defaults(handler=cmd_apikey_revoke)
    spool = sub.add_parser("spool", help="webhooks spooled while the database was down")
    spool_sub = spool.add_subparsers(dest="spool_command", required=True, metavar="ACTION")
    spool_sub.add_parser("replay", help="move spooled webhooks into the database").set_defaults(
        handler=cmd_spool_replay
    )

    # Listed for --help only: main() hands `sandbox ...` to sandbox.cli before parsing.
    sub.add_parser("sandbox", help="run the local Twilio stand-in (sms-bridge sandbox --help)")
    return parser


Handler = Callable[[argparse.Namespace, Settings, Store], int]


def cmd_db_install(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    print(f"installing into {store.engine} {store.location}")
    report = store.install(store.now(), with_demo=not args.no_demo, plsql_dir=args.plsql_dir)
    print(
        f"{store.engine}: {report.statements} statements, "
        f"{report.already_present} objects already present, "
        f"schema version {report.schema_version}"
    )
    for note in report.notes:
        print(f"  {note}")
    return EXIT_OK


def cmd_db_check(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    store.dialect.check_usable()
    version = store.schema_version()
    senders = store.list_senders()
    print(
        f"database OK: {store.engine} {store.location}, schema version {version},"
        f" {len(senders)} sender(s)"
    )
    for warning in store.dialect.setup_warnings():
        print(f"sms-bridge: warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_enqueue(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    if args.csv is not None:
        return batch.cmd_enqueue_csv(args, settings, store)
    for flag, value in (("--sender", args.sender), ("--body", args.body)):
        if value is None:
            raise errors.ConfigError(f"enqueue needs {flag} (or --csv FILE)")
    kind, ident = args.recipient if args.recipient else (None, None)
    new_id = store.enqueue(
        EnqueueRequest(
            sender_code=args.sender,
            body=args.body,
            recipient_type=kind,
            recipient_id=ident,
            to_number=args.to,
            priority=args.priority,
            send_after=args.send_after,
            expires_at=args.expires_at,
            reference=args.reference,
            reply_code=args.reply_code,
            source_system=args.source_system,
            correlation_key=args.correlation_key,
            created_by=CLI_CREATED_BY,
        ),
        store.now(),
    )
    message = store.get(new_id)
    if message is None:  # only if someone deleted it in between
        raise errors.NotFoundError(new_id)
    if args.json:
        from bridge.report import message_json

        print(json.dumps(message_json(message), indent=2))
        return EXIT_OK
    # An existing id comes back for a repeated correlation key: say what the row is now.
    print(
        f"#{message.id} {message.status} sender={message.sender_code}"
        f" to={_recipient_of(message, raw=False)} (details: sms-bridge status {message.id})"
    )
    return EXIT_OK


def _recipient_of(message: Message, *, raw: bool) -> str:
    from bridge.domain.phone import mask

    number = (message.to_number or "-") if raw else mask(message.to_number)
    if message.recipient_type and message.recipient_id:
        who = f"{message.recipient_type}:{message.recipient_id}"
        return f"{who} ({number})" if message.to_number else f"{who} (number not resolved yet)"
    return number


def cmd_status(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    message = store.get(args.id)
    if message is None:
        raise errors.NotFoundError(args.id)
    events = store.events(args.id)
    if args.json:
        from bridge.report import message_json

        print(json.dumps(message_json(message, events), indent=2))
        return EXIT_OK
    print(
        f"#{message.id} {message.status} sender={message.sender_code} priority={message.priority}"
        f" attempts={message.attempts}"
    )
    print(f"  to: {_recipient_of(message, raw=args.raw_numbers)}")
    print(f"  body: {message.body}")
    if message.status is Status.QUEUED:
        print(f"  next attempt: {message.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC")
    if message.expires_at:
        print(f"  expires: {message.expires_at:%Y-%m-%d %H:%M:%S} UTC")
    if message.provider_sid:
        print(f"  twilio sid {message.provider_sid} ({message.provider_status})")
    from bridge.domain.phone import mask_numbers_in

    def shown(text: str | None) -> str:
        # Twilio's and people's texts quote numbers: masked like the recipient's.
        return (text if args.raw_numbers else mask_numbers_in(text)) or ""

    if message.error_code or message.status_reason:
        print(f"  reason: {shown(message.status_reason)} {message.error_code or ''}".rstrip())
    for event in events:
        flag = "" if event.applied else "  (recorded, not applied)"
        print(
            f"  {event.event_at:%Y-%m-%d %H:%M:%S} {event.status:<11} {event.source:<8}"
            f" {shown(event.detail)}{flag}".rstrip()
        )
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    message = store.cancel(args.id, store.now(), args.reason, source="cli")
    print(f"#{message.id} {message.status}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from datetime import timedelta

    from bridge.report import daily_rows, render_daily

    if args.batch is not None:
        return batch.cmd_report_batch(args, settings, store)
    if args.cost:
        return cost.cmd_report_cost(args, settings, store)
    today = store.now().replace(hour=0, minute=0, second=0, microsecond=0)
    counts = store.daily_counts(today - timedelta(days=max(0, args.days - 1)))
    if args.json:
        print(json.dumps(daily_rows(counts), indent=2))
    else:
        print(render_daily(counts))
    return EXIT_OK


def cmd_hr_queue_expiring(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from bridge.hr import certs as hr_certs

    if store.engine == "oracle":
        # The reminders are the database's job there (one code path with the ERP): the
        # hr_cert_sms package, run daily by the DBMS_SCHEDULER job of hr_cert_jobs.sql.
        raise errors.ConfigError(
            "on Oracle, run hr_cert_sms.queue_expiring in the database (the scheduler job in"
            " plsql/demo/hr/hr_cert_jobs.sql, or a PL/SQL block calling it); this command is"
            " its embedded (SQLite) twin"
        )
    now = store.now()
    result = hr_certs.queue_expiring(store, args.days, now.date(), now)
    print(
        f"{result.queued} queued, {result.already_queued} already queued, "
        f"{result.skipped} skipped (no recipient)"
    )
    return EXIT_OK


def cmd_run(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from bridge.cli.progress import ProgressLine
    from bridge.runner import Runner

    progress = None if args.quiet else ProgressLine(sys.stderr)
    runner = Runner(settings, store, progress=progress, announce=None if args.quiet else _say)
    return runner.drain() if args.once else runner.forever()


# -- inbound service commands (inbound/ is imported lazily: bridge never depends on it) ----


EXIT_PIPE = 128 + 13  # what a C tool killed by SIGPIPE reports: `sms-bridge ... | head`


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here for output still buffered
        return code
    except BrokenPipeError:
        # The reader (head, less) has what it wanted and closed the pipe: nothing is wrong,
        # so no message. stdout now points at /dev/null, or Python's own flush at exit would
        # print "Exception ignored ... BrokenPipeError".
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        # The sandbox is an independent program with its own options (and --help).
        from sandbox.cli import main as sandbox_main

        return int(sandbox_main(argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    logsetup.configure(os.environ)
    _settings_warnings_as_lines()
    try:
        settings = load_settings(config_path(args.config, _environ()), _environ())
        store = open_store(settings.database, client_identifier="sms-bridge-cli")
    except errors.BridgeError as exc:
        return _fail(exc, EXIT_INPUT)
    except Exception as exc:  # the driver's own errors, e.g. the database is unreachable
        return _fail(exc, EXIT_RUNTIME)
    try:
        if handler not in (cmd_db_install, cmd_check):  # check reports it as its first line
            store.require_schema()
        return handler(args, settings, store)
    except BrokenPipeError:
        raise  # main() ends quietly: the reader closed the pipe
    except (errors.SmsError, errors.ConfigError, errors.SchemaMissingError) as exc:
        return _fail(exc, EXIT_INPUT)
    except errors.BridgeError as exc:
        return _fail(exc, EXIT_RUNTIME)
    except Exception as exc:  # one clear line, not a traceback
        return _fail(exc, EXIT_RUNTIME)
    finally:
        store.close()


def _settings_warnings_as_lines() -> None:
    """What loading the settings warns about (a secret in plain TOML) is for the person at the
    terminal: one ``sms-bridge: warning: ...`` line each, whatever the log level."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("sms-bridge: warning: %(message)s"))
    config_log = logging.getLogger("bridge.config")
    config_log.handlers[:] = [handler]
    config_log.propagate = False


def _say(line: str) -> None:
    """An operator's status line on stderr (journald keeps it under systemd)."""
    print(line, file=sys.stderr, flush=True)


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def _fail(exc: BaseException, code: int) -> int:
    print(f"sms-bridge: error: {error_line(exc)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
