"""`make demo`'s program runs end to end from an empty directory and tells a consistent story."""

from __future__ import annotations

import mailbox
import subprocess
import sys
from pathlib import Path

from bridge.config import DatabaseSettings
from bridge.store import open_store


def test_demo_runs_and_ends_with_the_expected_outcome(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bridge.demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "== sending through the local Twilio sandbox" in proc.stdout
    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'var/demo/sms-bridge.db'}"))
    counts = {c.status: c.count for c in store.counts() if c.sender_code == "HR"}
    store.close()
    # Landline, unparsable number and no number are INVALID; the rest is delivered, or deferred
    # by quiet hours depending on the time of day the test runs.
    assert counts.pop("INVALID") == 3
    assert set(counts) <= {"DELIVERED", "QUEUED"} and sum(counts.values()) == 7
    digest = list(mailbox.Maildir(tmp_path / "var/demo/mail", create=False))
    assert len(digest) == 1 and "3 message error(s)" in digest[0]["Subject"]
