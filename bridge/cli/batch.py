"""``sms-bridge enqueue --csv FILE`` and ``sms-bridge report --batch ID``.

A CSV import opens a batch (or continues one, ``--batch ID``) and queues each line as
``sms-bridge enqueue`` queues one message, each with its own answer: ``line N: #id QUEUED`` (a
line whose correlation_key an earlier import queued: that row's id and status, e.g. DELIVERED)
or ``line N: refused <error>: <message>``; a key repeated within the file is refused
(duplicate_correlation_key), since it would lose the repeating line's message. One bad line
stops no other; a line with a ``correlation_key`` is idempotent (``--source-system`` names the
keys' system), so importing the same file again queues nothing twice. ``bridge.cli.main``
calls in here.

Columns (a header line names them, any order, case-insensitive): ``body`` (required), and
``to`` (E.164) or ``recipient`` (TYPE:ID) or ``recipient_type`` + ``recipient_id``; optional
``sender`` (else ``--sender``), ``priority``, ``send_after``, ``expires_at`` (ISO-8601 with a
zone), ``reference``, ``reply_code``, ``correlation_key``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge import errors
from bridge.cli.inbound import EXIT_OK, EXIT_RUNTIME
from bridge.cli.progress import ProgressLine
from bridge.config import Settings
from bridge.domain.batches import BatchSummary
from bridge.domain.enqueue_rules import CLI_CREATED_BY
from bridge.domain.models import EnqueueRequest
from bridge.domain.statuses import Status
from bridge.store import Store

COLUMNS = frozenset(
    {
        "body",
        "to",
        "recipient",
        "recipient_type",
        "recipient_id",
        "sender",
        "priority",
        "send_after",
        "expires_at",
        "reference",
        "reply_code",
        "correlation_key",
    }
)
SUMMARY_FIELDS = (
    "attempted",
    "submitted",
    "delivered",
    "invalid",
    "unsubscribed",
    "duplicate",
    "failed",
    "rejected",
    "pending",
    "expired",
    "canceled",
)


class LineError(ValueError):
    """A CSV line that cannot become a request: its column and why."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"{column}: {message}")
        self.column = column


def _instant(column: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise LineError(column, f"{text!r} is not an ISO-8601 date-time") from None
    if value.tzinfo is None:
        raise LineError(column, f"{text!r} has no time zone (add Z or an offset)")
    return value.astimezone(UTC)


def request_from_line(
    line: Mapping[str, str], *, sender: str | None, source_system: str | None
) -> EnqueueRequest:
    """One CSV line as an EnqueueRequest; the store makes the business checks."""
    values = {k: v.strip() for k, v in line.items() if v is not None and v.strip()}
    kind, ident = values.get("recipient_type"), values.get("recipient_id")
    if "recipient" in values:
        kind, sep, ident = values["recipient"].partition(":")
        if not sep or not kind or not ident:
            raise LineError("recipient", f"{values['recipient']!r}: expected TYPE:ID")
    code = values.get("sender") or sender
    if not code:
        raise LineError("sender", "no sender: give a sender column or --sender")
    priority = values.get("priority", "2")
    if not priority.isdigit():
        raise LineError("priority", f"{priority!r}: expected 1, 2 or 3")
    return EnqueueRequest(
        sender_code=code.upper(),
        # The body keeps its own spaces: only a blank one is empty (the store says so).
        body=line.get("body") or "",
        recipient_type=kind.upper() if kind else None,
        recipient_id=ident,
        to_number=values.get("to"),
        priority=int(priority),
        send_after=_instant("send_after", values["send_after"]) if "send_after" in values else None,
        expires_at=_instant("expires_at", values["expires_at"]) if "expires_at" in values else None,
        reference=values.get("reference"),
        reply_code=values.get("reply_code"),
        source_system=source_system if "correlation_key" in values else None,
        correlation_key=values.get("correlation_key"),
        created_by=CLI_CREATED_BY,
    )


def _read_lines(path: Path) -> tuple[list[int], list[dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise errors.ConfigError(f"--csv {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            reader = csv.DictReader(handle)
            header = [(name or "").strip().lower() for name in reader.fieldnames or []]
            unknown = [name for name in header if name not in COLUMNS]
            if unknown:
                raise errors.ConfigError(
                    f"--csv {path}: unknown column {unknown[0]!r}"
                    f" (known: {', '.join(sorted(COLUMNS))})"
                )
            if "body" not in header:
                raise errors.ConfigError(f"--csv {path}: no 'body' column in the header line")
            reader.fieldnames = header
            numbers: list[int] = []
            lines: list[dict[str, str]] = []
            for row in reader:
                if None in row:  # more fields than the header names
                    row = {k: v for k, v in row.items() if k is not None}
                    row["__extra__"] = "1"
                numbers.append(reader.line_num)
                lines.append(row)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise errors.ConfigError(f"--csv {path}: not a UTF-8 CSV file ({exc})") from None
    return numbers, lines


def cmd_enqueue_csv(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    path = Path(args.csv)
    for flag, value in (("--body", args.body), ("--recipient", args.recipient), ("--to", args.to)):
        if value is not None:
            raise errors.ConfigError(f"{flag} cannot be combined with --csv (the file has them)")
    numbers, lines = _read_lines(path)
    if not lines:
        raise errors.ConfigError(f"--csv {path}: no lines after the header")
    now = store.now()
    if args.batch is not None and store.batch_summary(args.batch) is None:
        raise errors.UnknownBatchError(args.batch)
    results: list[dict[str, Any] | None] = [None] * len(lines)
    to_queue: list[tuple[int, EnqueueRequest]] = []
    for index, line in enumerate(lines):
        try:
            if line.pop("__extra__", None):
                raise LineError("line", "more fields than the header names")
            request = request_from_line(line, sender=args.sender, source_system=args.source_system)
            to_queue.append((index, request))
        except LineError as exc:
            results[index] = {"line": numbers[index], "error": "invalid_line", "message": str(exc)}
    refused_early = sum(1 for r in results if r is not None)
    requests = [r for _, r in to_queue]
    batch_id = args.batch
    if batch_id is None:
        batch_id = store.batch_for(
            requests,
            now,
            source="CSV",
            rejected_before=refused_early,
            label=args.label or path.name[:200],
            created_by=CLI_CREATED_BY,
        )
    progress = ProgressLine(sys.stderr, prefix=f"batch {batch_id}: ", interval=2.0)
    answers = store.enqueue_many(
        requests,
        now,
        batch_id=batch_id,
        rejected_before=refused_early,
        progress=lambda done: progress(f"{done}/{len(to_queue)} lines queued"),
    )
    statuses = store.found_statuses(requests, answers)  # a re-import: where each row stands
    for (index, _), answer in zip(to_queue, answers, strict=True):
        if isinstance(answer, int):
            status = statuses.get(answer, Status.QUEUED)
            results[index] = {"line": numbers[index], "id": answer, "status": status.value}
        elif isinstance(answer, errors.RepeatedKeyError):
            first = numbers[to_queue[answer.first][0]]
            results[index] = {
                "line": numbers[index],
                "error": answer.name,
                "message": f"correlation_key repeats line {first}'s: one message per key",
            }
        else:
            name = answer.name if isinstance(answer, errors.SmsError) else "error"
            results[index] = {"line": numbers[index], "error": name, "message": str(answer)}
    done = [r for r in results if r is not None]
    queued = sum(1 for r in done if "id" in r)
    if args.json:
        print(json.dumps({"batchId": batch_id, "items": done}, indent=2))
    else:
        for r in done:
            if "id" in r:
                if not args.quiet:
                    print(f"line {r['line']}: #{r['id']} {r['status']}")
            else:
                print(f"line {r['line']}: refused {r['error']}: {r['message']}")
        print(
            f"batch {batch_id}: {queued} queued, {len(done) - queued} refused"
            f" (sms-bridge report --batch {batch_id})"
        )
    return EXIT_OK if queued == len(done) else EXIT_RUNTIME


def render_summary(summary: BatchSummary) -> str:
    title = f"batch {summary.id} ({summary.source}"
    title += f", {summary.label})" if summary.label else ")"
    title += f" opened {summary.created_at:%Y-%m-%d %H:%M}Z by {summary.created_by or '-'}"
    width = max(len(f) for f in SUMMARY_FIELDS)
    rows = [f"  {name:<{width}}  {getattr(summary, name):>7}" for name in SUMMARY_FIELDS]
    return "\n".join([title, *rows])


def cmd_report_batch(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    summary = store.batch_summary(args.batch)
    if summary is None:
        raise errors.UnknownBatchError(args.batch)
    if args.json:
        data = summary.as_dict()
        data["created_at"] = summary.created_at.isoformat()
        print(json.dumps(data, indent=2))
    else:
        print(render_summary(summary))
    return EXIT_OK
