"""``python -m sandbox`` / ``sms-bridge sandbox``: parse options, serve until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from typing import Any

from sandbox.accounts import SubAccount, check_accounts, parse_subaccount
from sandbox.faults import FaultSettings, apply_patch
from sandbox.lookup import DEFAULT_LINE_TYPES, parse_line_type
from sandbox.pricing import (
    DEFAULT_PRICE_PER_SEGMENT,
    DEFAULT_PRICE_UNIT,
    Pricing,
    parse_delay,
    parse_price,
    parse_unit,
)
from sandbox.rules import E164, parse_magic
from sandbox.settings import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_MAGIC_NUMBERS,
    DEFAULT_NUMBER,
    SandboxSettings,
    Timings,
)

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show ``(default: X)`` only where X is a real value: no ``None``, ``[]`` or ``False``
    (those options say what happens without them in their own help text)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP literal (127.0.0.0/8, ::1); names are not resolved."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sms-bridge sandbox",
        description="A local stand-in for Twilio's Messages API (2010-04-01) with signed "
        "webhooks, a message lifecycle on a clock, handsets and injected faults. "
        "Prints 'sandbox ready at URL' when it serves; stops cleanly on SIGTERM/SIGINT.",
        formatter_class=_HelpFormatter,
    )
    g = p.add_argument_group("server")
    g.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on: a loopback address or localhost, unless --allow-non-loopback",
    )
    g.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow a --host that is not loopback: the control API (/_sandbox/*) has no "
        "auth, so anyone who can reach it can read every message and change the faults",
    )
    g.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    g.add_argument(
        "--threads",
        type=int,
        default=256,
        help="connections served at once, one thread each (injected latency holds one)",
    )
    g.add_argument(
        "--graceful-timeout",
        type=float,
        default=3.0,
        help="seconds in-flight requests get to finish at shutdown",
    )
    g = p.add_argument_group("account")
    g.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID, help="account SID (AC + 32 hex)")
    g.add_argument(
        "--auth-token",
        default=DEFAULT_AUTH_TOKEN,
        help="auth token for Basic auth and for signing webhooks",
    )
    g.add_argument(
        "--number",
        action="append",
        metavar="E164",
        help=f"a number the account owns (repeatable; default {DEFAULT_NUMBER})",
    )
    g.add_argument(
        "--messaging-service",
        action="append",
        default=[],
        metavar="MG...=E164,...",
        help="a Messaging Service and its sender pool (repeatable; default none); pool "
        "numbers become owned numbers",
    )
    g.add_argument(
        "--subaccount",
        action="append",
        default=[],
        metavar="SID:TOKEN:E164[,E164...]",
        help="a further account (e.g. a business unit's subaccount) with its own SID "
        "(AC + 32 hex), auth token and numbers (repeatable; default none); a number belongs "
        "to one account only",
    )
    g.add_argument(
        "--inbound-url",
        help="where simulated handset replies are POSTed (signed); without it a reply is "
        "posted only to the url it names",
    )
    g = p.add_argument_group("lifecycle (seconds)")
    g.add_argument(
        "--accepted-delay",
        type=float,
        default=0.2,
        help="accepted -> queued (Messaging Service sends)",
    )
    g.add_argument("--queued-delay", type=float, default=0.5, help="queued -> sending")
    g.add_argument("--sending-delay", type=float, default=0.5, help="sending -> sent")
    g.add_argument(
        "--delivery-delay", type=float, default=1.0, help="sent -> delivered/undelivered"
    )
    g.add_argument(
        "--mps",
        type=float,
        default=0.0,
        help="segments per second each sender releases (0 = no queueing); a "
        "message waiting longer than its ValidityPeriod fails with 30036",
    )
    g.add_argument(
        "--price-per-segment",
        default=str(DEFAULT_PRICE_PER_SEGMENT),
        help="charged per segment of a delivered or undelivered message (failed: nothing)",
    )
    g.add_argument(
        "--price-unit", default=DEFAULT_PRICE_UNIT, help="price_unit: the ISO 4217 currency"
    )
    g.add_argument(
        "--price-delay",
        type=float,
        default=0.0,
        help="seconds after the final status until the price shows (0: with it; Twilio: often"
        " minutes)",
    )
    g.add_argument(
        "--magic",
        action="append",
        default=[],
        metavar="E164=OUTCOME",
        help="add or override a magic recipient: reject:CODE, undelivered:CODE or "
        "failed:CODE (defaults: see docs/sandbox.md)",
    )
    g.add_argument(
        "--no-default-magic", action="store_true", help="start without the built-in magic numbers"
    )
    g.add_argument(
        "--line-type",
        action="append",
        default=[],
        metavar="E164=TYPE",
        help="Lookup v2's line_type_intelligence.type for a number (landline, mobile, "
        "fixedVoip, nonFixedVoip, tollFree, ..., or error:CODE); others are mobile "
        "(defaults: see docs/sandbox.md)",
    )
    g.add_argument(
        "--no-default-line-types",
        action="store_true",
        help="start without the built-in Lookup line types (every number mobile)",
    )
    g.add_argument(
        "--callback-workers", type=int, default=8, help="threads POSTing status callbacks"
    )
    g.add_argument(
        "--callback-timeout", type=float, default=5.0, help="seconds to wait for a webhook receiver"
    )
    g = p.add_argument_group("faults (also settable at run time: POST /_sandbox/faults)")
    g.add_argument(
        "--seed", type=int, help="seed for every random fault decision (default: random)"
    )
    g.add_argument(
        "--latency-ms",
        metavar="DIST",
        help="injected latency: fixed:MS, uniform:MIN:MAX or normal:MEAN:STDDEV (default: none)",
    )
    g.add_argument(
        "--fault-scope",
        choices=("create", "all"),
        default="create",
        help="which API requests the error faults may hit",
    )
    g.add_argument("--rate-429", type=float, default=0.0, help="share answered 429 / 20429")
    g.add_argument("--rate-500", type=float, default=0.0, help="share answered 500 / 20500")
    g.add_argument(
        "--fraction-500-after-create",
        type=float,
        default=0.0,
        help="of the 500s, the share where the message WAS created",
    )
    g.add_argument("--rate-503", type=float, default=0.0, help="share answered 503 / 20503")
    g.add_argument(
        "--slow-rate",
        type=float,
        default=0.0,
        help="share processed, then answered only after --slow-ms",
    )
    g.add_argument("--slow-ms", type=float, default=15000.0, help="delay of a slow answer")
    g.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="Twilio's clock minus the host's: date_created, callbacks and the Date header"
        " follow it (negative: Twilio behind)",
    )
    g.add_argument(
        "--reset-rate",
        type=float,
        default=0.0,
        help="share whose connection is reset (TCP RST) instead of answered",
    )
    g.add_argument(
        "--fraction-reset-after-create",
        type=float,
        default=0.0,
        help="of the resets, the share where the message WAS created",
    )
    g.add_argument(
        "--callback-duplicate-rate",
        type=float,
        default=0.0,
        help="share of status callbacks POSTed twice",
    )
    g.add_argument(
        "--callback-out-of-order-rate",
        type=float,
        default=0.0,
        help="share of messages whose callbacks arrive final status first",
    )
    return p


def _latency_spec(text: str) -> dict[str, Any]:
    dist, *values = text.split(":")
    numbers = [float(v) for v in values]
    names = {
        "fixed": ["value"],
        "uniform": ["min", "max"],
        "normal": ["mean", "stddev"],
        "none": [],
    }
    if dist not in names or len(numbers) != len(names[dist]):
        raise ValueError(
            f"--latency-ms must be fixed:MS, uniform:MIN:MAX or normal:MEAN:SD, not {text!r}"
        )
    return {"dist": dist, **dict(zip(names[dist], numbers, strict=True))}


def settings_from_args(args: argparse.Namespace) -> tuple[SandboxSettings, FaultSettings]:
    """Validated settings; raises ValueError with a one-line reason."""
    if not args.allow_non_loopback and not is_loopback(args.host):
        raise ValueError(
            f"--host {args.host} is not a loopback address; the sandbox has no auth on its "
            "control API, so it listens on loopback only (add --allow-non-loopback to override)"
        )
    if not ACCOUNT_SID.fullmatch(args.account_sid):
        raise ValueError(f"--account-sid must be AC followed by 32 hex digits: {args.account_sid}")
    numbers = list(args.number or [DEFAULT_NUMBER])
    services: dict[str, tuple[str, ...]] = {}
    for spec in args.messaging_service:
        sid, _, pool_text = spec.partition("=")
        pool = tuple(n for n in pool_text.split(",") if n)
        if not SERVICE_SID.fullmatch(sid) or not pool:
            raise ValueError(f"--messaging-service must be MG<32 hex>=E164[,E164...]: {spec}")
        services[sid] = pool
        numbers.extend(n for n in pool if n not in numbers)
    for number in numbers:
        if not E164.fullmatch(number):
            raise ValueError(f"--number must be E.164 (+ and digits): {number}")
    subaccounts: list[SubAccount] = [parse_subaccount(spec) for spec in args.subaccount]
    check_accounts(args.account_sid, numbers, subaccounts)
    magic = {} if args.no_default_magic else dict(DEFAULT_MAGIC_NUMBERS)
    for spec in args.magic:
        number, _, outcome = spec.partition("=")
        if not E164.fullmatch(number):
            raise ValueError(f"--magic number must be E.164: {spec}")
        parse_magic(outcome)
        magic[number] = outcome
    line_types = {} if args.no_default_line_types else dict(DEFAULT_LINE_TYPES)
    for spec in args.line_type:
        number, _, kind = spec.partition("=")
        if not E164.fullmatch(number):
            raise ValueError(f"--line-type number must be E.164: {spec}")
        line_types[number] = parse_line_type(kind)
    pricing = Pricing(
        per_segment=parse_price(args.price_per_segment, "--price-per-segment"),
        unit=parse_unit(args.price_unit),
        delay_seconds=parse_delay(args.price_delay),
    )
    if args.threads < 1 or args.port < 0:
        raise ValueError("--threads must be >= 1 and --port >= 0")
    settings = SandboxSettings(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        numbers=tuple(numbers),
        messaging_services=services,
        subaccounts=tuple(subaccounts),
        inbound_url=args.inbound_url,
        timings=Timings(
            accepted=args.accepted_delay,
            queued=args.queued_delay,
            sending=args.sending_delay,
            delivery=args.delivery_delay,
        ),
        mps=args.mps,
        magic_numbers=magic,
        line_types=line_types,
        pricing=pricing,
        seed=args.seed,
        callback_workers=args.callback_workers,
        callback_timeout=args.callback_timeout,
        host=args.host,
        port=args.port,
        threads=args.threads,
        graceful_timeout=args.graceful_timeout,
    )
    patch: dict[str, Any] = {
        "scope": args.fault_scope,
        "rate_429": args.rate_429,
        "rate_500": args.rate_500,
        "fraction_500_after_create": args.fraction_500_after_create,
        "rate_503": args.rate_503,
        "slow_rate": args.slow_rate,
        "slow_ms": args.slow_ms,
        "clock_offset_seconds": args.clock_offset,
        "reset_rate": args.reset_rate,
        "fraction_reset_after_create": args.fraction_reset_after_create,
        "callback_duplicate_rate": args.callback_duplicate_rate,
        "callback_out_of_order_rate": args.callback_out_of_order_rate,
    }
    if args.latency_ms:
        patch["latency_ms"] = _latency_spec(args.latency_ms)
    return settings, apply_patch(FaultSettings(), patch)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings, faults = settings_from_args(args)
    except ValueError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    from sandbox.server import serve  # gunicorn is imported only when actually serving

    return serve(settings, faults)
