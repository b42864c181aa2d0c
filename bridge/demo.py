"""``make demo``: the story on the embedded default (SQLite), with no network.

Installs the schema with demo HR data in a fresh ``var/demo/``, queues reminders through the
same Store the worker and the REST API use, starts the local Twilio sandbox as a process, sends
with the real worker (progress line), syncs delivery statuses, writes the administrators' error
digest to a maildir, and prints the outcome.
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from bridge.config import DatabaseSettings
from bridge.demo_data import DEMO_EMPLOYEES, seed
from bridge.errors import BridgeError
from bridge.models import EnqueueRequest, MessageFilter
from bridge.report import render_counts
from bridge.store import Store, open_store

DEMO_DIR = Path("var/demo")
DEMO_ACCOUNT = "AC" + "de" * 16
DEMO_TOKEN = "demo-auth-token"


def run(demo_dir: Path = DEMO_DIR) -> int:
    now = datetime.now(UTC)
    shutil.rmtree(demo_dir, ignore_errors=True)
    db_path = demo_dir / "sms-bridge.db"
    store = open_store(DatabaseSettings(url=f"sqlite:///{db_path}"))
    try:
        step("installing the schema")
        report = store.install(now)
        print(f"   schema version {report.schema_version} in {db_path}")
        step("seeding demo senders and employees")
        seed(store, now)
        step("queueing certification reminders")
        queue_reminders(store, now)
        step("the queue")
        print_queue(store)
        step("sending through the local Twilio sandbox")
        send_all(store, demo_dir)
        step("outcome")
        print_queue(store)
        print()
        print(render_counts(store.counts()))
        print(f"\nMail (error digest): {demo_dir / 'mail'}")
        print(
            f"\nDatabase: {db_path}  (try: SMS_BRIDGE_DATABASE_URL=sqlite:///{db_path} "
            ".venv/bin/sms-bridge status 1)"
        )
    finally:
        store.close()
    return 0


def queue_reminders(store: Store, now: datetime) -> None:
    for index, (emp_id, name, *_rest) in enumerate(DEMO_EMPLOYEES):
        code = f"{4821 + index}"
        first = name.split()[0]
        store.enqueue(
            EnqueueRequest(
                sender_code="HR",
                recipient_type="EMPLOYEE",
                recipient_id=str(emp_id),
                body=f"Hi {first}, your forklift certification expires in 14 days. "
                f"Reply YES {code} when renewed.",
                priority=2,
                reference=f"CERT-{emp_id}",
                reply_code=code,
                source_system="HR",
                correlation_key=f"cert-{emp_id}-2026-12-08",
            ),
            now,
        )
    store.enqueue(
        EnqueueRequest(
            sender_code="IT",
            to_number="+14155550102",
            priority=1,
            body="P1 incident: VPN down. Bridge line open.",
        ),
        now,
    )


def send_all(store: Store, demo_dir: Path) -> None:
    """Run the sandbox and the worker, then let the sync job pick up delivery outcomes."""
    import os
    import re
    import subprocess
    import time

    from bridge.config import load_settings
    from bridge.runner import Runner

    sandbox = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            "0",
            "--account-sid",
            DEMO_ACCOUNT,
            "--auth-token",
            DEMO_TOKEN,
            "--number",
            "+15005550006",
            "--number",
            "+15005550007",
            "--queued-delay",
            "0.1",
            "--sending-delay",
            "0.1",
            "--delivery-delay",
            "0.3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert sandbox.stdout is not None
        ready = re.search(r"(http://\S+)", sandbox.stdout.readline())
        if ready is None:
            raise RuntimeError("the sandbox did not start")
        env = {
            "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{demo_dir / 'sms-bridge.db'}",
            "SMS_BRIDGE_TWILIO_BASE_URL": ready.group(1),
            "SMS_BRIDGE_TWILIO_ACCOUNT_SID": DEMO_ACCOUNT,
            "SMS_BRIDGE_TWILIO_AUTH_TOKEN": DEMO_TOKEN,
            "SMS_BRIDGE_MAIL_MAILDIR": str(demo_dir / "mail"),
            "SMS_BRIDGE_MAIL_ADMINS": "erp-ops@example.com",
            "SMS_BRIDGE_BRIDGE_SYNC_AFTER_MINUTES": "0",
        }
        settings = load_settings(None, {**os.environ, **env})
        started = datetime.now(UTC)
        runner = Runner(
            settings, store, progress=lambda line: print(f"\r   {line}", end="", flush=True)
        )
        runner.drain()
        time.sleep(1.0)  # the sandbox moves messages to delivered / undelivered
        runner.sync()
        runner.last_digest = started
        runner.digest()
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        if sandbox.stdout is not None:
            sandbox.stdout.close()


def print_queue(store: Store) -> None:
    page = store.list_messages(MessageFilter(), limit=50)
    for m in sorted(page.items, key=lambda m: m.id):
        who = f"{m.recipient_type}:{m.recipient_id}" if m.recipient_type else m.to_number
        detail = m.status_reason or m.body
        print(
            f"   #{m.id:<3} {m.status:<10} {m.sender_code:<3} p{m.priority} {who or '-':<14} "
            f"{detail[:58]}"
        )


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
