"""``sms-bridge status`` masks the numbers quoted in reasons and event details, unless
--raw-numbers, through the real console script on SQLite."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.support import sms_bridge

ENV = {"SMS_BRIDGE_DATABASE_URL": "sqlite:///bridge.db", "SMS_BRIDGE_BRIDGE_DEFAULT_REGION": "US"}


def test_status_masks_numbers_in_reasons_and_event_details(tmp_path: Path) -> None:
    def run(*args: str) -> str:
        proc = sms_bridge(*args, cwd=tmp_path, env=ENV)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    run("db", "install", "--no-demo")
    run("sender", "HR", "--from-number", "+15005550006", "--mps", "10")
    queued = run("enqueue", "--sender", "HR", "--to", "+14155550123", "--body", "hi",
                 "--send-after", "2030-01-01T09:00:00Z")  # fmt: skip
    match = re.match(r"#(\d+) ", queued)
    assert match, queued
    message_id = match.group(1)
    run("cancel", message_id, "--reason", "wrong person, use +1 (415) 555-0199 since 2030-01-01")
    masked = "wrong person, use +1415*****99 since 2030-01-01"
    shown = run("status", message_id)
    assert f"  reason: {masked}\n" in shown
    assert re.search(rf" CANCELED +cli +{re.escape(masked)}\n", shown), shown
    assert "555-0199" not in shown and "4155550123" not in shown
    raw = run("status", message_id, "--raw-numbers")
    assert "  reason: wrong person, use +1 (415) 555-0199 since 2030-01-01\n" in raw
    assert raw.count("+1 (415) 555-0199") == 2
