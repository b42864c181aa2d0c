"""``make demo``: the certification-reminder story on the embedded default, with no network.

HR reminds employees that a certification is expiring; employees reply; the replies update HR;
administrators and managers get their digests. Everything real: an SQLite file, the local
Twilio sandbox and the inbound service (gunicorn) as processes, the worker and the dispatcher,
and mail written to a maildir you can open.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import requests

from bridge.cli.progress import ProgressLine
from bridge.config import Settings, load_settings
from bridge.demo import services as demo_services
from bridge.demo.data import DEMO_SENDERS, seed, seed_certifications, seed_keywords
from bridge.domain.models import EnqueueRequest, Message, MessageFilter
from bridge.domain.phone import mask
from bridge.domain.statuses import Status
from bridge.errors import BridgeError
from bridge.hr import certs as hr_certs
from bridge.report import render_counts
from bridge.runner import Runner
from bridge.store import Store, open_store

DEMO_DIR = Path("var/demo")
DEMO_ACCOUNT = "AC" + "de" * 16
DEMO_TOKEN = "demo-auth-token"
HR_NUMBER = DEMO_SENDERS[0].from_number or ""


def run(demo_dir: Path = DEMO_DIR) -> int:
    demo_dir = demo_dir.resolve()
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True)
    db_path = demo_dir / "sms-bridge.db"
    port = demo_services.free_port()
    env = {
        "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{db_path}",
        "SMS_BRIDGE_TWILIO_ACCOUNT_SID": DEMO_ACCOUNT,
        "SMS_BRIDGE_TWILIO_AUTH_TOKEN": DEMO_TOKEN,
        "SMS_BRIDGE_INBOUND_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SMS_BRIDGE_INBOUND_SPOOL_DIR": str(demo_dir / "spool"),
        "SMS_BRIDGE_MAIL_MAILDIR": str(demo_dir / "mail"),
        "SMS_BRIDGE_MAIL_ADMINS": "erp-ops@example.com",
        "SMS_BRIDGE_MAIL_SENDER": "sms-bridge@example.com",
        "SMS_BRIDGE_BRIDGE_SYNC_AFTER_MINUTES": "0",
    }
    started = datetime.now(UTC)
    store = open_store(load_settings(None, env).database)
    try:
        step("1/7 installing the schema and demo HR data")
        report = store.install(started)
        seed(store, started)
        seed_certifications(store, started.date())
        seed_keywords(store)
        print(f"   schema version {report.schema_version} in {db_path}")
        step("2/7 HR queues reminders for certifications expiring within 14 days")
        queued = hr_certs.queue_expiring(store, 14, started.date(), started)
        again = hr_certs.queue_expiring(store, 14, started.date(), started)
        print(
            f"   {queued.queued} reminders queued; a second run queued {again.queued} "
            f"(idempotent per certification and expiry)"
        )
        store.enqueue(
            EnqueueRequest(
                sender_code="IT",
                to_number="+14155550102",
                priority=1,
                body="P1 incident: VPN down. Bridge line open.",
            ),
            started,
        )
        print(
            f"   and IT queues 1 urgent notice (priority 1) to the on-call phone:"
            f" {queued.queued + 1} messages to send"
        )
        with (
            demo_services.inbound_service(env, port, demo_dir / "inbound.log") as inbound_url,
            demo_services.sandbox(
                DEMO_ACCOUNT,
                DEMO_TOKEN,
                [s.from_number or "" for s in DEMO_SENDERS],
                inbound_url + "/twilio/inbound",
                demo_dir / "sandbox.log",
            ) as twilio_url,
        ):
            env["SMS_BRIDGE_TWILIO_BASE_URL"] = twilio_url
            settings = load_settings(None, {**os.environ, **env})
            print(f"   Twilio sandbox {twilio_url}, inbound service {inbound_url}")
            step("3/7 the worker sends (quiet hours are evaluated in each employee's zone)")
            runner = Runner(settings, store, progress=ProgressLine(sys.stdout, prefix="   "))
            runner.drain()
            wait_for_outcomes(store, runner)
            show_outbound(store)
            step("4/7 employees reply from their phones")
            replies(store, twilio_url)
            step("5/7 replies are processed (dispatcher -> hr_cert_sms.on_reply)")
            runner.dispatch_replies()  # each reply was stored before the sandbox answered
            show_certifications(store)
            step("6/7 a later reminder to the employee who sent STOP")
            stop_honoured(store, runner, started)
            step("7/7 digests: errors to administrators, replies to managers")
            runner.sync()
            mails = send_digests(runner, settings, started)
            print(f"   {mails} mail(s) written to {demo_dir / 'mail'}")
        print()
        print(render_counts(store.counts()))
        print(f"\nDatabase: {db_path}\nMail:     {demo_dir / 'mail'} (open the files in new/)")
        print(f"Try:      SMS_BRIDGE_DATABASE_URL=sqlite:///{db_path} .venv/bin/sms-bridge report")
    finally:
        store.close()
    return 0


REPLY_SCRIPT: list[tuple[str, Callable[[Message], str]]] = [
    ("YES with the code", lambda m: f"YES {m.reply_code}"),
    ("YES without the code", lambda m: "yes"),
    ("a question", lambda m: "Is the renewal course available online?"),
    ("STOP", lambda m: "STOP"),
    ("HELP", lambda m: "HELP"),
]


def replies(store: Store, twilio_url: str) -> None:
    """Employees whose reminder went out reply, one of each kind."""
    sent = [
        m
        for m in store.list_messages(MessageFilter(sender_code="HR"), limit=50).items
        if m.status in (Status.SUBMITTED, Status.SENT, Status.DELIVERED) and m.to_number
    ]
    sent.sort(key=lambda m: m.id)
    for (label, make), message in zip(REPLY_SCRIPT, sent, strict=False):
        body = make(message)
        answer = requests.post(
            f"{twilio_url}/_sandbox/reply",
            timeout=10,
            json={"from": message.to_number, "to": HR_NUMBER, "body": body},
        ).json()
        twiml = str(answer.get("response_body") or answer.get("body") or "")
        extra = (
            " -> " + twiml.split("<Message>")[1].split("</Message>")[0]
            if "<Message>" in twiml
            else ""
        )
        print(f"   {mask(message.to_number)} ({label}): {body!r}{extra}")
    if len(sent) < len(REPLY_SCRIPT):
        print(f"   (only {len(sent)} reminders went out now; the rest wait for the morning)")
    # The employee whose reminder is still waiting for the morning texts anyway: a reply to
    # nothing, which the manager's digest must flag instead of guessing.
    waiting = [
        m
        for m in store.list_messages(
            MessageFilter(sender_code="HR", status="QUEUED"), limit=10
        ).items
        if m.recipient_id
    ]
    for message in waiting[:1]:
        recipient = store.get_recipient("EMPLOYEE", str(message.recipient_id))
        if recipient is None or not recipient.mobile_number:
            continue
        body = "Got a message from HR? Please call me."
        requests.post(
            f"{twilio_url}/_sandbox/reply",
            timeout=10,
            json={"from": recipient.mobile_number, "to": HR_NUMBER, "body": body},
        )
        print(f"   {mask(recipient.mobile_number)} (a reply to nothing yet sent): {body!r}")


def stop_honoured(store: Store, runner: Runner, now: datetime) -> None:
    stopped = [r for r in store.list_inbound(limit=100).items if r.get("keyword") == "STOP"]
    if not stopped:
        print("   nobody sent STOP")
        return
    number = str(stopped[0]["from_number"])
    recipient = store.find_recipients_by_number(number)[0]
    new_id = store.enqueue(
        EnqueueRequest(
            sender_code="HR",
            recipient_type=recipient.recipient_type,
            recipient_id=recipient.recipient_id,
            priority=1,
            body="Reminder: your certification expires soon.",
        ),
        now,
    )
    runner.drain()
    message = store.get(new_id)
    assert message is not None
    print(f"   #{new_id} to {mask(number)}: {message.status} ({message.status_reason})")


def send_digests(runner: Runner, settings: Settings, since: datetime) -> int:
    now = datetime.now(UTC)
    sent = int(runner.notifier.error_digest(runner.store, since, now))
    sent += runner.notifier.manager_digests(runner.store, since, now)
    return sent


def wait_for_outcomes(store: Store, runner: Runner, timeout: float = 30.0) -> None:
    """Until no message waits for its carrier outcome: the sandbox's callbacks arrive within
    about a second; on a slow machine the sync job (asked each round) fetches what is late."""
    deadline = time.monotonic() + timeout
    waiting = {Status.SUBMITTED.value, Status.SENT.value}
    while time.monotonic() < deadline:
        if not any(c.status in waiting for c in store.counts()):
            return
        time.sleep(0.3)
        runner.sync()


def show_outbound(store: Store) -> None:
    page = store.list_messages(MessageFilter(), limit=50)
    for m in sorted(page.items, key=lambda m: m.id):
        who = f"{m.recipient_type}:{m.recipient_id}" if m.recipient_type else mask(m.to_number)
        detail = m.status_reason or (f"Twilio {m.provider_sid[:12]}..." if m.provider_sid else "")
        print(f"   #{m.id:<3} {m.status:<10} {m.sender_code:<3} {who:<14} {detail[:62]}")


def show_certifications(store: Store) -> None:
    with store.dialect.transaction("demo", write=False) as tx:
        rows = tx.rows(
            "SELECT c.cert_id, e.full_name, c.cert_name, c.status, c.flagged_reason"
            " FROM hr_demo_certifications c JOIN hr_demo_employees e"
            " ON e.employee_id = c.employee_id ORDER BY c.cert_id"
        )
    for r in rows:
        note = f"  {r['flagged_reason']!r}" if r["flagged_reason"] else ""
        print(f"   {r['cert_id']} {r['full_name']:<22} {r['cert_name']:<20} {r['status']}{note}")


def step(text: str) -> None:
    print(f"== {text}", flush=True)


def main() -> int:
    try:
        return run()
    except BridgeError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # one clear line, not a traceback
        print(f"demo: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
