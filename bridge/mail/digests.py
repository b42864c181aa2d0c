"""Error digest for administrators (pure: messages in, subject/text/HTML out)."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.domain.models import Message
from bridge.domain.optout_history import HistoryChange
from bridge.domain.phone import mask, mask_numbers_in

SAMPLES = 10


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str


def error_digest(
    messages: Sequence[Message],
    since: datetime,
    until: datetime,
    *,
    sync_moves: Sequence[Mapping[str, Any]] = (),
    history: Sequence[HistoryChange] = (),
) -> Digest | None:
    """Counts by error code and sender, plus samples, then what the sync jobs found (rows the
    status sync moved, opt-outs/ins read from Twilio's history); None when there is nothing to
    report."""
    if not messages:
        if not sync_moves and not history:
            return None
        window = f"{since:%Y-%m-%d %H:%M} - {until:%H:%M} UTC"
        text, body = found_by_sync(sync_moves, history)
        return Digest(
            f"[sms-bridge] found by the sync jobs, {window}",
            f"No message ended in an error state, {window}.\n\n{text}",
            f"<html><body><p>No message ended in an error state, {_e(window)}.</p>"
            f"{body}</body></html>",
        )
    extra_text, extra_html = found_by_sync(sync_moves, history)
    counts = Counter((m.sender_code, m.status.value, m.error_code) for m in messages)
    window = f"{since:%Y-%m-%d %H:%M} - {until:%H:%M} UTC"
    subject = f"[sms-bridge] {len(messages)} message error(s), {window}"
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0], str(kv[0][2])))
    lines = [
        f"{len(messages)} message(s) ended in an error state, {window}.",
        "",
        f"{'sender':<8} {'status':<12} {'code':>6} {'count':>6}",
    ]
    lines += [f"{s:<8} {st:<12} {code or '-':>6} {n:>6}" for (s, st, code), n in rows]
    lines += ["", "Samples:"]
    samples = list(messages)[:SAMPLES]
    lines += [
        f"  #{m.id} {m.sender_code} {m.status} code={m.error_code or '-'} "
        f"to={mask(m.to_number)}: {_reason(m)}"
        for m in samples
    ]
    lines += ["", "Details: sms-bridge status ID"]
    if extra_text:
        lines += ["", extra_text.rstrip("\n")]
    # Everything interpolated into the HTML is escaped: numbers, codes and reasons are stored
    # as the ERP or Twilio sent them.
    table = "".join(
        f"<tr><td>{_e(s)}</td><td>{_e(st)}</td><td>{_e(code or '-')}</td><td>{_e(n)}</td></tr>"
        for (s, st, code), n in rows
    )
    sample_items = "".join(
        f"<li>#{_e(m.id)} {_e(m.sender_code)} {_e(m.status)} code={_e(m.error_code or '-')} "
        f"to={_e(mask(m.to_number))}: {_e(_reason(m))}</li>"
        for m in samples
    )
    body = (
        f"<p>{_e(len(messages))} message(s) ended in an error state, {_e(window)}.</p>"
        "<table border='1' cellpadding='4'><tr><th>sender</th><th>status</th>"
        f"<th>code</th><th>count</th></tr>{table}</table>"
        f"<h3>Samples</h3><ul>{sample_items}</ul>{extra_html}"
    )
    return Digest(subject, "\n".join(lines) + "\n", f"<html><body>{body}</body></html>")


def found_by_sync(
    sync_moves: Sequence[Mapping[str, Any]], history: Sequence[HistoryChange]
) -> tuple[str, str]:
    """The digest's section on the sync jobs (text, HTML); empty when they found nothing."""
    if not sync_moves and not history:
        return "", ""
    lines = ["Found by the sync jobs:"]
    items: list[str] = []
    if sync_moves:
        by_status = Counter(str(r["status"]) for r in sync_moves)
        summary = ", ".join(f"{status} {n}" for status, n in sorted(by_status.items()))
        head = (
            f"status sync: {len(sync_moves)} message(s) moved forward without their callback"
            f" ({summary})"
        )
        moves = [
            f"#{r['outbound_id']} {r['sender_code']} to={mask(r['to_number'])} -> {r['status']}"
            + (f" code={r['error_code']}" if r.get("error_code") else "")
            for r in list(sync_moves)[:SAMPLES]
        ]
        lines += [f"  {head}", *(f"    {m}" for m in moves)]
        items.append(f"<li>{_e(head)}<ul>{''.join(f'<li>{_e(m)}</li>' for m in moves)}</ul></li>")
    if history:
        outs = sum(1 for c in history if c.opted_out)
        head = (
            f"opt-out history (Twilio's Messages list): {outs} opt-out(s),"
            f" {len(history) - outs} opt-in(s) applied"
        )
        changes = [
            f"{mask(c.phone_number)} {'opted out of' if c.opted_out else 'opted in to'}"
            f" {_scope(c.scope)} ({c.keyword}, {c.changed_at:%Y-%m-%d %H:%M:%S} UTC)"
            for c in list(history)[:SAMPLES]
        ]
        lines += [f"  {head}", *(f"    {c}" for c in changes)]
        items.append(f"<li>{_e(head)}<ul>{''.join(f'<li>{_e(c)}</li>' for c in changes)}</ul></li>")
    return "\n".join(lines) + "\n", f"<h3>Found by the sync jobs</h3><ul>{''.join(items)}</ul>"


def _scope(scope: str) -> str:
    """A sender number masked like any number; a Messaging Service SID or * as it is."""
    return mask(scope) if scope.startswith("+") else scope


def _reason(message: Message) -> str:
    """The sample's reason, with the numbers Twilio quotes in it masked like the recipient's."""
    return mask_numbers_in(message.status_reason or message.error_message or "") or ""


def _e(value: object) -> str:
    return html.escape(str(value))
