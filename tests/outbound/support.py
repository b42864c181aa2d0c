"""Helpers for the outbound suite: a real sandbox process, a database, the worker as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bridge.config import DatabaseSettings, Settings, load_settings
from bridge.domain.models import EnqueueRequest, Sender
from bridge.store import Store, open_store
from tests.sandbox.sandbox_support import Control, SandboxProcess, start_sandbox

REPO = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "AC" + "0badf00d" * 4
AUTH_TOKEN = "outbound-suite-token"
FROM = "+15005550006"
LANDLINE = "+14155550109"  # the sandbox answers 21614 for it (magic number)
UNREACHABLE = "+14155550110"  # accepted, then undelivered with 30003


def start(*extra: str) -> SandboxProcess:
    return start_sandbox(
        "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN, "--number", FROM,
        "--magic", f"{LANDLINE}=reject:21614", "--magic", f"{UNREACHABLE}=undelivered:30003",
        "--queued-delay", "0.05", "--sending-delay", "0.05", "--delivery-delay", "0.1",
        "--threads", "96", "--seed", "11", *extra,
    )  # fmt: skip


@dataclass
class Env:
    db_path: Path
    sandbox_url: str
    maildir: Path

    def environ(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
        env.update(
            {
                "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{self.db_path}",
                "SMS_BRIDGE_TWILIO_BASE_URL": self.sandbox_url,
                "SMS_BRIDGE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "SMS_BRIDGE_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "SMS_BRIDGE_TWILIO_TIMEOUT": "2",
                "SMS_BRIDGE_MAIL_MAILDIR": str(self.maildir),
                "SMS_BRIDGE_MAIL_ADMINS": "ops@example.com",
                "SMS_BRIDGE_BRIDGE_RETRY_BASE_SECONDS": "0.05",
                "SMS_BRIDGE_BRIDGE_RETRY_MAX_SECONDS": "0.2",
                "SMS_BRIDGE_BRIDGE_MAX_ATTEMPTS": "30",
                "SMS_BRIDGE_BRIDGE_LEASE_SECONDS": "5",
                "SMS_BRIDGE_BRIDGE_RECONCILE_AFTER_SECONDS": "0.3",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update({f"SMS_BRIDGE_{k.upper()}": v for k, v in overrides.items()})
        return env

    def store(self) -> Store:
        return open_store(DatabaseSettings(url=f"sqlite:///{self.db_path}"))

    def run_worker(
        self, *args: str, timeout: float = 120, expect_exit: int = 0, **overrides: str
    ) -> str:
        proc = run_once(self.environ(**overrides), *args, timeout=timeout)
        assert proc.returncode == expect_exit, proc.stderr[-2000:]
        return proc.stderr

    def popen_worker(self, *args: str, **overrides: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bridge.cli", "run", "--quiet", *args],
            cwd=REPO,
            env=self.environ(**overrides),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )


def prepare_db(path: Path, *, mps: float = 1000.0, **sender: object) -> Store:
    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    now = datetime.now(UTC)
    store.install(now)
    store.save_sender(Sender(code="HR", from_number=FROM, mps=mps, **sender), now)  # type: ignore[arg-type]
    return store


def enqueue_many(store: Store, count: int, to: str = "+14155550100", **kw: object) -> list[int]:
    now = datetime.now(UTC)
    return [
        store.enqueue(
            EnqueueRequest(
                sender_code="HR",
                body=f"message {i} {kw.get('tag', '')}",
                to_number=to,
                priority=int(kw.get("priority", 2)),
            ),  # type: ignore[call-overload]
            now,
        )
        for i in range(count)
    ]


def sandbox_bodies(control: Control) -> list[str]:
    return [m["body"] for m in control.messages()]


def iter_statuses(store: Store, ids: list[int]) -> Iterator[str]:
    for message_id in ids:
        message = store.get(message_id)
        assert message is not None
        yield message.status.value


def run_once(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``sms-bridge run --once --quiet`` as a process, with ``env`` as its whole environment."""
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", "run", "--once", "--quiet", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def local_settings(db: Path, maildir: Path, **overrides: str) -> Settings:
    """Settings for an in-process Runner on ``db``, mailing the admins into ``maildir``;
    ``overrides`` are further SMS_BRIDGE_* values (``bridge_poll_max_seconds="0.05"``)."""
    env = {
        "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{db}",
        "SMS_BRIDGE_MAIL_MAILDIR": str(maildir),
        "SMS_BRIDGE_MAIL_ADMINS": "ops@example.com",
    }
    env.update({f"SMS_BRIDGE_{k.upper()}": v for k, v in overrides.items()})
    return load_settings(None, env)


def reset_control(url: str) -> Control:
    """The sandbox's control API, the sandbox reset to no messages and no faults."""
    control = Control(url)
    assert control.post("/_sandbox/reset").status_code == 200
    control.post("/_sandbox/faults", {"replace": True})
    return control
