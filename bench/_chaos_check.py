"""The chaos suite's accounting: what the database says against what the sandbox (Twilio) has.

lost        a row whose final state disagrees with Twilio: at Twilio by its status (SUBMITTED
            and later) but its SID is not there, or not at Twilio by its status (FAILED "not at
            Twilio", requeued, ...) while Twilio holds a message for it
duplicated  messages at Twilio beyond one per row (per (To, Body) against the number of rows
            with that (To, Body) when rows are identical twins)
wrong_row   a SID on two rows, or a row whose SID's message has another To/Body
stuck       a row neither final nor SUBMITTED/SENT with a SID Twilio has, after the deadline
non_2xx     webhook answers (the sandbox's status callbacks, our own POSTs) that were not 2xx
forged      forged or altered webhooks answered 2xx that wrote something
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench._util import percentile

AT_TWILIO = frozenset({"SUBMITTED", "SENT", "DELIVERED", "UNDELIVERED"})
FINAL = frozenset(
    {"DELIVERED", "UNDELIVERED", "FAILED", "SUPPRESSED", "INVALID", "EXPIRED", "CANCELED"}
)
COUNTS = ("lost", "duplicated", "wrong_row", "stuck", "non_2xx", "forged")
ANSWER_LIMIT_S = 5.0


@dataclass
class Result:
    scenario: str
    rows: int = 0
    lost: int = 0
    duplicated: int = 0
    wrong_row: int = 0
    stuck: int = 0
    non_2xx: int = 0
    forged: int = 0
    answers_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def max_answer_s(self) -> float:
        return max(self.answers_ms, default=0.0) / 1000

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and not any(getattr(self, name) for name in COUNTS)
            and self.max_answer_s <= ANSWER_LIMIT_S
        )

    def line(self) -> str:
        counts = "  ".join(f"{name} {getattr(self, name)}" for name in COUNTS)
        ordered = sorted(self.answers_ms)
        answers = (
            f"webhooks {len(ordered)} p50 {percentile(ordered, 50):.0f} ms"
            f" p99 {percentile(ordered, 99):.0f} ms max {percentile(ordered, 100):.0f} ms"
            if ordered
            else "webhooks -"
        )
        verdict = "ok" if self.ok else "FAIL"
        text = (
            f"{self.scenario:<18} rows {self.rows:>5}  {counts}  {answers}"
            f"  {self.seconds:5.1f} s  {verdict}"
        )
        if self.error:
            text += f"  error: {self.error}"
        return text


def merge(results: Sequence[Result], name: str) -> Result:
    total = Result(name)
    for r in results:
        total.rows += r.rows
        for c in COUNTS:
            setattr(total, c, getattr(total, c) + getattr(r, c))
        total.answers_ms.extend(r.answers_ms)
        total.seconds += r.seconds
        total.notes.extend(r.notes)
        if r.error and not total.error:
            total.error = f"{r.scenario}: {r.error}"
    return total


def account_outbound(
    result: Result, rows: Sequence[sqlite3.Row], messages: Iterable[dict[str, Any]]
) -> None:
    """Fill lost / duplicated / wrong_row / stuck, with bodies unique per row or in twin pairs
    (same To and Body): messages are counted per (To, Body) against rows per (To, Body)."""
    by_sid: dict[str, dict[str, Any]] = {}
    at_twilio: Counter[tuple[str, str]] = Counter()
    for m in messages:
        by_sid[m["sid"]] = m
        at_twilio[(m["to"], m["body"])] += 1
    wanted: Counter[tuple[str, str]] = Counter((r["to_number"], r["body"]) for r in rows)
    result.rows = len(rows)
    result.duplicated = sum(
        max(0, n - wanted[key]) for key, n in at_twilio.items() if key in wanted
    )
    stray = sum(n for key, n in at_twilio.items() if key not in wanted)
    if stray:
        result.notes.append(f"{stray} sandbox message(s) belong to no row")
        result.wrong_row += stray
    sid_rows = Counter(r["provider_sid"] for r in rows if r["provider_sid"])
    result.wrong_row += sum(n - 1 for n in sid_rows.values() if n > 1)
    # Per (To, Body): how many of its rows claim to be at Twilio, against how many it has.
    claimed: Counter[tuple[str, str]] = Counter()
    reasons: Counter[str] = Counter()
    for r in rows:
        key, status, sid = (r["to_number"], r["body"]), r["status"], r["provider_sid"]
        remote = by_sid.get(sid) if sid else None
        if sid and remote is not None and (remote["to"], remote["body"]) != key:
            result.wrong_row += 1
            continue
        if status in AT_TWILIO or (status == "FAILED" and sid):
            if remote is None:
                result.lost += 1
                reasons[f"{status} without its SID at Twilio"] += 1
            else:
                claimed[key] += 1
        elif status in FINAL:
            pass  # counted below: Twilio must not hold more of this (To, Body) than claimed
        elif status in {"QUEUED", "SENDING"}:
            result.stuck += 1
            reasons[f"stuck {status}"] += 1
    for r in rows:
        if r["status"] in FINAL - AT_TWILIO and not r["provider_sid"]:
            key = (r["to_number"], r["body"])
            if at_twilio[key] > claimed[key]:
                claimed[key] += 1  # one of Twilio's messages is this row's: it was sent
                result.lost += 1
                reasons[f"{r['status']} ({r['status_reason']}) but at Twilio"] += 1
    for reason, n in reasons.most_common(4):
        result.notes.append(f"{n} {reason}")


def account_callbacks(result: Result, callbacks: Iterable[dict[str, Any]]) -> None:
    """Status callbacks the sandbox POSTed that the inbound service did not answer 2xx."""
    bad: Counter[str] = Counter()
    for cb in callbacks:
        status = cb.get("response_status")
        if status is None or not 200 <= int(status) < 300:
            result.non_2xx += 1
            bad[str(status or cb.get("error") or "no answer")[:60]] += 1
    for what, n in bad.most_common(3):
        result.notes.append(f"{n} callback(s) answered {what}")
