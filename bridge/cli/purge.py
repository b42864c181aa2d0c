"""``sms-bridge purge [--dry-run]``: the retention purge now (bridge/store/retention_store.py).

Replaces the bodies, numbers and raw payloads of messages final for ``[retention]
outbound_days`` and of replies processed for ``inbound_days`` (bridge/domain/retention.py says
what stays), in chunks of ``batch_rows`` rows, each committed; ``--dry-run`` counts the same rows
and changes nothing. One line per table. Runs whatever ``[retention] enabled`` says (that is the
worker's daily job), and safely beside it: a purged row is never selected again. Opt-outs are
never touched. ``bridge.cli.main`` registers it with :func:`add_parsers`.
"""

from __future__ import annotations

import argparse

from bridge.cli.inbound import EXIT_OK
from bridge.config import Settings
from bridge.domain.retention import cutoff
from bridge.store import Store


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    purge = sub.add_parser(
        "purge",
        help="remove bodies, numbers and raw payloads of old final messages and replies",
        description="The retention purge ([retention] in the config): messages final for "
        "outbound_days and replies processed for inbound_days keep their status, segments, "
        "price and timestamps; their text becomes [purged], their numbers are masked, raw "
        "webhook payloads are removed. Opt-outs are never touched.",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="count what would change; change nothing"
    )
    purge.set_defaults(handler=cmd_purge)


def cmd_purge(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    cfg = settings.retention
    now = store.now()
    result = store.purge(
        now,
        outbound_before=cutoff(now, cfg.outbound_days),
        inbound_before=cutoff(now, cfg.inbound_days),
        chunk=cfg.batch_rows,
        dry_run=args.dry_run,
    )
    for line in result.lines():
        print(line)
    return EXIT_OK
