"""Chaos suite: kill -9 storms, fault storms, twins, clock skew, a locked database, forgeries.

    .venv/bin/python -m bench.chaos [--short] [--scenario NAME ...] [--seed N]     (make chaos)

Bounded scenarios against real processes on loopback: an SQLite file made by ``sms-bridge db
install``, the sandbox (the Twilio stand-in), ``sms-bridge serve`` (gunicorn) receiving the
sandbox's status callbacks, and ``sms-bridge run`` workers. Each scenario prints one line of
counts (lost, duplicated, wrong_row, stuck, non_2xx, forged; see bench/_chaos_check.py) and
webhook answer times; a totals line follows. Exit status 0 only when every count is 0 and no
webhook took more than 5 s to be answered; 1 otherwise; 2 when the laboratory itself failed.
``--short`` runs every scenario small (about a minute and a half on 2 cores; ``make test``
runs it through tests/bench/test_chaos_short.py); the full size takes several minutes.
Progress goes to stderr. ``SMS_CHAOS_KEEP=1`` keeps each scenario's directory (logs, DB).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable

from bench._chaos_check import ANSWER_LIMIT_S, Result, merge
from bench._chaos_env import ChaosError, say
from bench._chaos_inbound import db_lock_webhooks, forged_webhooks
from bench._chaos_outbound import (
    FULL,
    SHORT,
    Size,
    clock_skew,
    fault_storm,
    identical_twins,
    kill9_drain,
)

SCENARIOS: dict[str, Callable[[Size, int], Result]] = {
    "kill9_drain": kill9_drain,
    "fault_storm": lambda size, seed: fault_storm(size, seed, callbacks=True),
    "fault_storm_nocb": lambda size, seed: fault_storm(size, seed, callbacks=False),
    "identical_twins": identical_twins,
    "clock_skew": clock_skew,
    "db_lock_webhooks": db_lock_webhooks,
    "forged_webhooks": forged_webhooks,
}


def run_one(name: str, size: Size, seed: int) -> Result:
    say(f"{name}: starting")
    started = time.monotonic()
    try:
        result = SCENARIOS[name](size, seed)
    except ChaosError as exc:
        result = Result(name, error=str(exc))
    except Exception as exc:  # a scenario's own bug: one clear line, the others still run
        result = Result(name, error=f"{type(exc).__name__}: {exc}")
    result.seconds = time.monotonic() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="small sizes (the test suite's)")
    parser.add_argument(
        "--scenario", action="append", choices=sorted(SCENARIOS), help="run only these"
    )
    parser.add_argument("--seed", type=int, default=11, help="seed of faults and kills")
    args = parser.parse_args(argv)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM too: every scenario stops its processes on the way out

    signal.signal(signal.SIGTERM, interrupted)
    size = SHORT if args.short else FULL
    names = args.scenario or list(SCENARIOS)
    load = os.getloadavg()
    print(
        f"chaos suite ({'short' if args.short else 'full'}, seed {args.seed});"
        f" load average {load[0]:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    results = []
    try:
        for name in names:
            result = run_one(name, size, args.seed)
            results.append(result)
            print(result.line(), flush=True)
            for note in result.notes:
                print(f"    {note}", flush=True)
    except KeyboardInterrupt:
        print("chaos: interrupted (every process it started was stopped)", file=sys.stderr)
        return 130
    total = merge(results, "TOTAL")
    print(total.line().replace("  error:", "  first error:"), flush=True)
    print(
        f"goal: 0 lost, 0 duplicated, 0 wrong_row, 0 stuck, 0 non_2xx, 0 forged accepted,"
        f" every webhook answered within {ANSWER_LIMIT_S:g} s -> {'met' if total.ok else 'NOT met'}"
    )
    if any(r.error for r in results):
        return 2
    return 0 if total.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
