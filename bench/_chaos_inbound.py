"""The chaos suite's inbound scenarios: a database lock while Twilio's webhooks arrive, and
forged webhooks. Webhooks are signed as Twilio signs them (twilio's RequestValidator) and
POSTed to ``sms-bridge serve`` (gunicorn, 2 workers)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import random
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from bench._chaos_check import Result
from bench._chaos_env import ACCOUNT, FROM, NUMBERS, SENDER, TOKEN, Lab, say
from bench._chaos_outbound import Size

Form = list[tuple[str, str]]
TABLES = ("sms_inbound", "sms_events", "sms_optouts")
FAILURES: Counter[str] = Counter()  # why POSTs got no answer, for the notes


def new_sid() -> str:
    return "SM" + secrets.token_hex(16)


def sign(url: str, form: Sequence[tuple[str, str]], token: str = TOKEN) -> str:
    """Twilio's signature: HMAC-SHA1 over the URL and every name and value, sorted by name,
    concatenated with no separator (what twilio's RequestValidator computes)."""
    data = url + "".join(k + v for k, v in sorted(form, key=lambda kv: kv[0]))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def reply_form(sid: str, frm: str, body: str) -> Form:
    return [
        ("AccountSid", ACCOUNT), ("ApiVersion", "2010-04-01"), ("Body", body),
        ("From", frm), ("FromCity", ""), ("FromCountry", "US"), ("MessageSid", sid),
        ("NumMedia", "0"), ("NumSegments", "1"), ("SmsMessageSid", sid), ("SmsSid", sid),
        ("SmsStatus", "received"), ("To", FROM),
    ]  # fmt: skip


def status_form(sid: str, to: str, status: str) -> Form:
    return [
        ("AccountSid", ACCOUNT), ("ApiVersion", "2010-04-01"), ("From", FROM),
        ("MessageSid", sid), ("MessageStatus", status), ("To", to),
    ]  # fmt: skip


def post(
    base: str, path: str, form: Form, signature: str | None, headers: dict[str, str] | None = None
) -> tuple[int, float]:
    """POST a form; (HTTP status, or 0 when there was no answer, and ms taken)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if signature is not None:
        sent["X-Twilio-Signature"] = signature
    started = time.perf_counter()
    try:
        conn.request("POST", path, urlencode(form).encode(), sent)
        answer = conn.getresponse()
        answer.read()
        status = answer.status
    except (OSError, http.client.HTTPException) as exc:
        status = 0
        FAILURES[type(exc).__name__ + (f" {exc}" if str(exc) else "")] += 1
    finally:
        conn.close()
    return status, (time.perf_counter() - started) * 1000


def submitted_rows(lab: Lab, n: int) -> list[tuple[int, str, str]]:
    """``n`` rows queued, claimed and accepted by "Twilio" (SIDs of our own): (id, sid, to)."""
    from bridge.config import DatabaseSettings
    from bridge.domain.models import SubmitResult
    from bridge.store import open_store

    rows = [(NUMBERS[i % len(NUMBERS)], f"chaos webhook message {i}") for i in range(n)]
    lab.enqueue(rows)
    store = open_store(DatabaseSettings(url=f"sqlite:///{lab.db}"))
    try:
        now = datetime.now(UTC)
        claimed = store.claim_batch(SENDER, n, now, lease_seconds=600, worker="chaos")
        results = [SubmitResult(m.id, new_sid(), "queued", m.to_number or "") for m in claimed]
        store.mark_submitted(results, now)
        return [(r.outbound_id, r.provider_sid, r.to_number) for r in results]
    finally:
        store.close()


def db_lock_webhooks(size: Size, seed: int) -> Result:
    result = Result("db_lock_webhooks")
    with Lab("dblock", seed=seed) as lab:
        lab.start_serve()
        sent = submitted_rows(lab, size.webhooks // 2)
        replies = [(new_sid(), NUMBERS[i % len(NUMBERS)]) for i in range(size.webhooks - len(sent))]
        jobs: list[tuple[str, Form, dict[str, str]]] = []
        for i, (sid, frm) in enumerate(replies):
            jobs.append(("/twilio/inbound", reply_form(sid, frm, f"chaos reply {i}"), {}))
        for row_id, sid, to in sent:
            token = {"I-Twilio-Idempotency-Token": secrets.token_hex(16)}
            jobs.append((f"/twilio/status?id={row_id}", status_form(sid, to, "delivered"), token))
        random.Random(seed).shuffle(jobs)
        answers: list[tuple[int, float]] = []
        lock = threading.Lock()

        def send(path: str, form: Form, headers: dict[str, str], at: float) -> None:
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            answer = post(lab.serve_url, path, form, sign(lab.serve_url + path, form), headers)
            with lock:
                answers.append(answer)

        blocker = sqlite3.connect(lab.db, timeout=30, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            say(f"db_lock_webhooks: write lock held for {size.lock_seconds:g} s")
            start = time.monotonic() + 0.2
            spread = size.lock_seconds * 0.8
            with ThreadPoolExecutor(max_workers=min(320, len(jobs))) as pool:  # open loop
                for n, (path, form, headers) in enumerate(jobs):
                    pool.submit(send, path, form, headers, start + spread * n / len(jobs))
                wait = start + size.lock_seconds - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                blocker.execute("ROLLBACK")
                say("db_lock_webhooks: lock released")
        finally:
            if blocker.in_transaction:
                blocker.execute("ROLLBACK")
            blocker.close()
        replay = lab.cli("spool", "replay").stdout.strip().splitlines()
        result.notes.append(f"spool replay: {replay[-1] if replay else '-'}")
        result.answers_ms = [ms for _, ms in answers]
        result.non_2xx = sum(1 for status, _ in answers if not 200 <= status < 300)
        codes = Counter(status for status, _ in answers if not 200 <= status < 300)
        if codes:
            result.notes.append(f"answers {dict(codes)} (0 = no answer: {dict(FAILURES)})")
        result.rows = len(jobs)
        with lab.connect() as conn:
            stored = Counter(
                r[0] for r in conn.execute("SELECT message_sid FROM sms_inbound").fetchall()
            )
            events = Counter(
                r[0]
                for r in conn.execute(
                    "SELECT outbound_id FROM sms_events WHERE source = 'callback'"
                ).fetchall()
            )
            status = dict(conn.execute("SELECT id, status FROM sms_outbound").fetchall())
        for sid, _ in replies:
            result.lost += stored[sid] == 0
            result.duplicated += max(0, stored[sid] - 1)
        for row_id, _, _ in sent:
            result.lost += status[row_id] != "DELIVERED" or events[row_id] == 0
            result.duplicated += max(0, events[row_id] - 1)
        return result


def forgeries(base: str, row_id: int, target: tuple[str, str]) -> list[tuple[str, str, Form, str]]:
    """(name, path, form as posted, signature) of every forged or altered webhook: a reply
    saying STOP, and a status callback saying undelivered for a SUBMITTED row."""
    path = "/twilio/inbound"
    url = base + path
    sid, frm = new_sid(), NUMBERS[7]
    real = reply_form(sid, frm, "STOP")
    good = sign(url, real)

    def without(form: Form, *names: str) -> Form:
        return [(k, v) for k, v in form if k not in names]

    def replaced(form: Form, name: str, value: str) -> Form:
        return [(k, value if k == name else v) for k, v in form]

    cases = [
        ("unsigned", path, real, ""),
        ("wrong token", path, real, sign(url, real, "not-the-token")),
        ("body altered", path, replaced(real, "Body", "START"), good),
        ("other url", path, real, sign(f"{base}/twilio/status", real)),
        # Boundaries moved: the same concatenation, so the same (valid) signature.
        ("sid+NumMedia0", path, replaced(without(real, "NumMedia"), "MessageSid",
                                         f"{sid}NumMedia0"), good),
        ("from+FromCity", path, replaced(without(real, "FromCity"), "From", f"{frm}FromCity"),
         good),
        ("body+From", path, replaced(without(real, "From"), "Body", f"STOPFrom{frm}"), good),
        ("Body->BodyS", path, [("BodyS", "TOP") if k == "Body" else (k, v) for k, v in real],
         good),
        ("repeated Body", path, [*real, ("Body", "STOP")], good),
    ]  # fmt: skip
    spath = f"/twilio/status?id={row_id}"
    ssid, to = target
    sreal = status_form(ssid, to, "undelivered")
    sgood = sign(base + spath, sreal)
    shifted = without(sreal, "MessageStatus")
    return [
        *cases,
        ("status unsigned", spath, sreal, ""),
        ("status wrong token", spath, sreal, sign(base + spath, sreal, "not-the-token")),
        ("status altered", spath, replaced(sreal, "MessageStatus", "failed"), sgood),
        ("status other id", f"/twilio/status?id={row_id + 1}", sreal, sgood),
        ("status sid+Status", spath, replaced(shifted, "MessageSid",
                                              f"{ssid}MessageStatusundelivered"), sgood),
        ("status name shift", spath, [*shifted, ("MessageStatusu", "ndelivered")], sgood),
    ]  # fmt: skip


def forged_webhooks(size: Size, seed: int) -> Result:
    result = Result("forged_webhooks")
    with Lab("forged", seed=seed) as lab:
        lab.start_serve()
        (row_id, sid, to), _ = submitted_rows(lab, 2)
        cases = forgeries(lab.serve_url, row_id, (sid, to))
        accepted: list[str] = []
        for name, path, form, signature in cases:
            before = [lab.count(t) for t in TABLES]
            row_before = lab.outbound_rows()
            status, ms = post(lab.serve_url, path, form, signature or None)
            result.answers_ms.append(ms)
            wrote = [lab.count(t) for t in TABLES] != before or lab.outbound_rows() != row_before
            if not 400 <= status < 500 or wrote:
                accepted.append(f"{name} ({status}{', wrote' if wrote else ''})")
        spooled = lab.count_spooled()
        if spooled:
            accepted.append(f"{spooled} spooled")
        result.rows = len(cases)
        result.forged = len(accepted)
        if accepted:
            result.notes.append("not refused: " + "; ".join(accepted))
        return result
