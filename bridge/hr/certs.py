"""The certification-reminder use case in embedded mode (SQLite): Python twins of the PL/SQL
package ``hr_cert_sms`` (plsql/demo/hr/), with the same texts, codes and correlation keys.

On Oracle the package does this work inside the database (a DBMS_SCHEDULER job queues, the
dispatcher calls ``hr_cert_sms.on_reply``); here ``sms-bridge hr queue-expiring`` (run it daily
from cron or a systemd timer) queues, and the worker's reply dispatcher calls ``on_reply``.
They read the demo HR table ``hr_demo_certifications``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bridge import errors
from bridge.domain.models import EnqueueRequest
from bridge.domain.segments import fit_utf16
from bridge.store import Store
from bridge.store.dialect import Tx

SENDER = "HR"
SOURCE_SYSTEM = "HR_CERT"
HANDLER_NAME = "hr_cert_sms.on_reply"
ACKNOWLEDGING_WORDS = frozenset({"YES", "DONE", "RENEWED"})
MAX_CODES_TRIED = 5  # hr_cert_sms.c_max_codes_tried
# hr_cert_sms.c_code_pattern: ASCII digits only (str.isdigit would take "²" or "٤٨"), at most
# 10 of them (every cert_id fits NUMBER(10)).
CODE = re.compile(r"[0-9]{1,10}")

EXPIRING = """
SELECT c.cert_id, c.employee_id, c.cert_name, c.expires_on, c.reminder_outbound_id,
       e.full_name
  FROM hr_demo_certifications c
  JOIN hr_demo_employees e ON e.employee_id = c.employee_id
 WHERE c.status = 'ACTIVE' AND c.expires_on >= :first_day AND c.expires_on <= :last_day
 ORDER BY c.expires_on, c.cert_id
"""


@dataclass
class QueueResult:
    queued: int = 0
    already_queued: int = 0
    skipped: int = 0  # no recipient row (e.g. left the company)


def reminder_text(full_name: str, cert_name: str, expires_on: date, cert_id: int) -> str:
    first = full_name.split()[0] if full_name.strip() else "there"
    return (
        f"Hi {first}, your {cert_name} certification expires on {expires_on:%d %b %Y}. "
        f"Reply YES {cert_id:02d} when renewed. Reply HELP for help, STOP to opt out."
    )


def queue_expiring(store: Store, days_ahead: int, today: date, now: datetime) -> QueueResult:
    """One reminder per ACTIVE certification expiring within ``days_ahead`` days; idempotent
    per certification and expiry date through the correlation key."""
    if days_ahead < 0:
        raise ValueError("days_ahead must be 0 or more")  # hr_cert_sms raises VALUE_ERROR
    result = QueueResult()
    with store.dialect.transaction("hr-certs", write=False) as tx:
        rows = tx.rows(
            EXPIRING,
            {
                "first_day": today.isoformat(),
                "last_day": (today + timedelta(days=days_ahead)).isoformat(),
            },
        )
    for row in rows:
        expires_on = date.fromisoformat(str(row["expires_on"])[:10])
        cert_id = int(row["cert_id"])
        try:
            outbound_id = store.enqueue(
                EnqueueRequest(
                    sender_code=SENDER,
                    recipient_type="EMPLOYEE",
                    recipient_id=str(row["employee_id"]),
                    body=reminder_text(
                        str(row["full_name"]), str(row["cert_name"]), expires_on, cert_id
                    ),
                    priority=2,
                    reference=f"CERT-{cert_id}",
                    reply_code=f"{cert_id:02d}",  # a reply code has 2 to 16 characters
                    source_system=SOURCE_SYSTEM,
                    correlation_key=f"cert-{cert_id}-{expires_on.isoformat()}",
                    created_by="hr_cert_sms",
                ),
                now,
            )
        except errors.UnknownRecipientError:
            result.skipped += 1
            continue
        if outbound_id == row["reminder_outbound_id"]:
            result.already_queued += 1
            continue
        with store.dialect.transaction("hr-certs") as tx:
            tx.execute(
                "UPDATE hr_demo_certifications SET reminder_outbound_id = :o WHERE cert_id = :c",
                {"o": outbound_id, "c": cert_id},
            )
        result.queued += 1
    return result


def first_word(body: str) -> str:
    """The first run of letters, any script (PL/SQL: REGEXP_SUBSTR(body, '[[:alpha:]]+')):
    "Да, yes" starts with ДА, not YES, in both."""
    words = re.findall(r"[^\W\d_]+", body)
    return words[0].upper() if words else ""


def quoted_codes(body: str) -> list[int]:
    """Certification codes a reply may quote, as hr_cert_sms reads them: the first five runs of
    ASCII digits, each kept only if it has at most 10 digits (a longer run is no code)."""
    runs = re.findall(r"[0-9]+", body)[:MAX_CODES_TRIED]
    return [int(run) for run in runs if CODE.fullmatch(run)]


def on_reply(store: Store, inbound_id: int, now: datetime) -> str:
    """Acknowledge (YES/DONE/RENEWED) or flag the certification a reply answers.

    Returns what it did: "acknowledged", "flagged" or "unmatched" (left for the digest)."""
    with store.dialect.transaction("hr-reply") as tx:
        reply = tx.row("SELECT * FROM sms_inbound WHERE id = :id", {"id": inbound_id})
        if reply is None:
            raise LookupError(f"no reply with id {inbound_id}")
        cert_id = _certification_of(tx, reply)
        if cert_id is None:
            return "unmatched"
        body = str(reply["body"] or "")
        if first_word(body) in ACKNOWLEDGING_WORDS:
            # A confirmed certification keeps its first acknowledgement.
            tx.execute(
                "UPDATE hr_demo_certifications SET status = 'RENEWAL_CONFIRMED',"
                " acknowledged_at = :now, acknowledged_inbound_id = :i"
                " WHERE cert_id = :c AND status <> 'RENEWAL_CONFIRMED'",
                {"now": now, "i": inbound_id, "c": cert_id},
            )
            return "acknowledged"
        tx.execute(
            "UPDATE hr_demo_certifications SET status = 'FLAGGED', flagged_reason = :r"
            " WHERE cert_id = :c AND status <> 'RENEWAL_CONFIRMED'",
            {"r": fit_utf16(body, 2000) or "(reply without text)", "c": cert_id},
        )
        return "flagged"


def _certification_of(tx: Tx, reply: dict[str, object]) -> int | None:
    """Through the reminder it answers (an HR message), else a code quoted in the reply that
    is a certification of the same employee (the same rules as hr_cert_sms.on_reply)."""
    if reply.get("outbound_id") is not None:
        reminder = tx.row(
            "SELECT o.reference FROM sms_outbound o WHERE o.id = :id AND o.sender_code = :s",
            {"id": reply["outbound_id"], "s": SENDER},
        )
        reference = str(reminder["reference"] or "") if reminder else ""
        code = reference.removeprefix("CERT-")
        if reference.startswith("CERT-") and CODE.fullmatch(code) and _exists(tx, int(code), None):
            return int(code)
    employee = str(reply.get("recipient_id") or "")
    if reply.get("recipient_type") == "EMPLOYEE" and employee:
        for quoted in quoted_codes(str(reply.get("body") or "")):
            if _exists(tx, quoted, employee):
                return quoted
    return None


def _exists(tx: Tx, cert_id: int, employee_id: str | None) -> bool:
    # The employee compared as text, as sms_recipients_v exposes it and hr_cert_sms compares
    # it (to_char(employee_id) = p_recipient_id): "0042" is not employee 42.
    found = tx.scalar(
        "SELECT COUNT(*) AS n FROM hr_demo_certifications WHERE cert_id = :c"
        " AND (:e IS NULL OR CAST(employee_id AS TEXT) = :e)",
        {"c": cert_id, "e": employee_id},
    )
    return bool(found)


def handlers(store: Store, clock: Callable[[], datetime]) -> dict[str, Callable[[int], None]]:
    """The embedded-mode handler registry entry for the dispatcher."""

    def handle(inbound_id: int) -> None:
        on_reply(store, inbound_id, clock())

    return {HANDLER_NAME: handle}
