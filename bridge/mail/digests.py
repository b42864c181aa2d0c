"""Error digest for administrators (pure: messages in, subject/text/HTML out)."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.domain.models import Message
from bridge.domain.phone import mask, mask_numbers_in

SAMPLES = 10


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str


def error_digest(messages: Sequence[Message], since: datetime, until: datetime) -> Digest | None:
    """Counts by error code and sender, plus samples; None when there is nothing to report."""
    if not messages:
        return None
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
        f"<h3>Samples</h3><ul>{sample_items}</ul>"
    )
    return Digest(subject, "\n".join(lines) + "\n", f"<html><body>{body}</body></html>")


def _reason(message: Message) -> str:
    """The sample's reason, with the numbers Twilio quotes in it masked like the recipient's."""
    return mask_numbers_in(message.status_reason or message.error_message or "") or ""


def _e(value: object) -> str:
    return html.escape(str(value))
