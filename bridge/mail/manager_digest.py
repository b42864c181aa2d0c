"""Daily reply digests for managers (pure: reply rows in, one mail per manager out).

Each manager sees their employees' replies grouped by the reminder each one answers; replies
that could not be matched to a reminder (no reference code, no recent message, or ambiguous)
are listed apart and flagged, never silently attached to a guess.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.domain.phone import mask
from bridge.mail.digests import Digest

UNMATCHED_LABEL = {
    "AMBIGUOUS": "could match more than one message",
    "NONE": "no recent message to this employee",
    None: "not matched",
}


@dataclass(frozen=True)
class Reply:
    inbound_id: int
    received_at: datetime
    body: str
    from_number: str
    employee: str
    match_method: str | None
    outbound_id: int | None
    reminder: str | None  # the outbound message's body
    reference: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Reply:
        return cls(
            inbound_id=int(row["id"]),
            received_at=row["received_at"],
            body=str(row["body"] or ""),
            from_number=str(row["from_number"]),
            employee=str(row["display_name"] or mask(row["from_number"])),
            match_method=row["match_method"],
            outbound_id=None if row["outbound_id"] is None else int(row["outbound_id"]),
            reminder=row["outbound_body"],
            reference=row["reference"],
        )


def manager_digests(
    rows: Sequence[Mapping[str, Any]], since: datetime, until: datetime
) -> dict[str, Digest]:
    """One digest per manager e-mail address that has replies in the window."""
    by_manager: dict[str, list[Reply]] = defaultdict(list)
    for row in rows:
        if row.get("manager_email"):
            by_manager[str(row["manager_email"])].append(Reply.from_row(row))
    return {manager: _digest(replies, since, until) for manager, replies in by_manager.items()}


def unaddressed_digest(
    rows: Sequence[Mapping[str, Any]], since: datetime, until: datetime
) -> Digest | None:
    """The replies no manager's digest carries (an unknown number, or no manager_email on
    record), for the administrators: otherwise nobody would ever read them."""
    replies = [Reply.from_row(row) for row in rows if not row.get("manager_email")]
    if not replies:
        return None
    digest = _digest(replies, since, until)
    subject = (
        f"[sms-bridge] {len(replies)} SMS repl{'y' if len(replies) == 1 else 'ies'} "
        f"that no manager receives ({until:%Y-%m-%d})"
    )
    intro = "Replies from unknown numbers or people with no manager_email, "
    return Digest(
        subject,
        digest.text.replace("Replies from your team, ", intro, 1),
        digest.html.replace("Replies from your team, ", intro, 1),
    )


def _digest(replies: list[Reply], since: datetime, until: datetime) -> Digest:
    threads: dict[int, list[Reply]] = defaultdict(list)
    unmatched: list[Reply] = []
    for reply in sorted(replies, key=lambda r: (r.received_at, r.inbound_id)):
        if reply.outbound_id is None:
            unmatched.append(reply)
        else:
            threads[reply.outbound_id].append(reply)
    window = f"{since:%Y-%m-%d %H:%M} - {until:%Y-%m-%d %H:%M} UTC"
    subject = (
        f"[sms-bridge] {len(replies)} SMS repl{'y' if len(replies) == 1 else 'ies'} "
        f"from your team ({until:%Y-%m-%d})"
    )
    text = [f"Replies from your team, {window}.", ""]
    parts = [f"<p>Replies from your team, {html.escape(window)}.</p>"]
    for outbound_id, thread in sorted(threads.items()):
        first = thread[0]
        head = f"Reminder #{outbound_id}" + (f" ({first.reference})" if first.reference else "")
        text.append(f"{head}: {first.reminder or ''}")
        parts.append(
            f"<h3>{html.escape(head)}</h3><p><i>{html.escape(first.reminder or '')}</i></p><ul>"
        )
        for reply in thread:
            text.append(f"  {reply.received_at:%m-%d %H:%M}  {reply.employee}: {reply.body}")
            parts.append(
                f"<li>{reply.received_at:%m-%d %H:%M} <b>{html.escape(reply.employee)}"
                f"</b>: {html.escape(reply.body)}</li>"
            )
        text.append("")
        parts.append("</ul>")
    if unmatched:
        text.append(f"UNMATCHED ({len(unmatched)}): not linked to a reminder; please review")
        parts.append(f"<h3 style='color:#b00'>Unmatched ({len(unmatched)}): please review</h3><ul>")
        for reply in unmatched:
            why = UNMATCHED_LABEL.get(reply.match_method, "not matched")
            text.append(
                f"  [!] {reply.received_at:%m-%d %H:%M}  {reply.employee}: {reply.body}  ({why})"
            )
            parts.append(
                f"<li>{reply.received_at:%m-%d %H:%M} <b>{html.escape(reply.employee)}"
                f"</b>: {html.escape(reply.body)} <i>({why})</i></li>"
            )
        parts.append("</ul>")
    return Digest(
        subject, "\n".join(text).rstrip() + "\n", "<html><body>" + "".join(parts) + "</body></html>"
    )
