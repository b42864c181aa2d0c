"""`make demo` tells the whole story from an empty directory, whatever the hour it runs."""

from __future__ import annotations

import mailbox
import subprocess
import sys
from email.message import Message
from pathlib import Path

from bridge.config import DatabaseSettings
from bridge.store import open_store


def _text(mail: Message) -> str:
    parts = [p for p in mail.walk() if p.get_content_type() == "text/plain"]
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_demo_tells_the_story(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bridge.demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    for step in range(1, 8):
        assert f"== {step}/7" in proc.stdout
    # Every message the worker claims has been introduced before it does.
    out = proc.stdout
    assert "10 reminders queued" in out and "11 messages to send" in out
    assert out.index("IT queues 1 urgent notice") < out.index("claimed 11 ")
    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'var/demo/sms-bridge.db'}"))
    try:
        counts = {(c.sender_code, c.status): c.count for c in store.counts()}
        # 10 reminders: 3 INVALID (landline, unparsable, none), 1 deferred (night), 6 delivered;
        # then a reminder to the employee who sent STOP, suppressed; and one IT alert.
        assert counts == {
            ("HR", "DELIVERED"): 6,
            ("HR", "INVALID"): 3,
            ("HR", "QUEUED"): 1,
            ("HR", "SUPPRESSED"): 1,
            ("IT", "DELIVERED"): 1,
        }
        # ...and the README tells the same story.
        readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
        assert "ten reminders" in readme and "sends all eleven" in readme
        assert "seven delivered (six reminders and the IT notice)" in readme
        assert "one reminder deferred" in readme and "three INVALID" in readme
        with store.dialect.transaction("check", write=False) as tx:
            certs = {r["cert_id"]: r for r in tx.rows("SELECT * FROM hr_demo_certifications")}
            optouts = tx.rows("SELECT * FROM sms_optouts WHERE state = 'OPTED_OUT'")
            replies = tx.rows("SELECT id, body, status FROM sms_inbound ORDER BY id")
    finally:
        store.close()
    confirmed = {c for c, r in certs.items() if r["status"] == "RENEWAL_CONFIRMED"}
    assert len(confirmed) == 3  # YES with the code, YES without it, and the pre-renewed one
    assert 4832 in confirmed and certs[4832]["acknowledged_inbound_id"] is None  # seeded so
    bodies = {r["id"]: r["body"] for r in replies}
    # Each confirmed by the reply that answered it: one quoting its own code, one a plain
    # "yes" to its reminder.
    acknowledged_by = {c: bodies[certs[c]["acknowledged_inbound_id"]] for c in confirmed - {4832}}
    assert all(body in ("yes", f"YES {c}") for c, body in acknowledged_by.items())
    assert sorted(body == "yes" for body in acknowledged_by.values()) == [False, True]
    assert [r["flagged_reason"] for r in certs.values() if r["status"] == "FLAGGED"] == [
        "Is the renewal course available online?"
    ]
    assert len(optouts) == 1 and optouts[0]["keyword"] == "STOP"
    assert {r["status"] for r in replies} == {"PROCESSED"}
    assert "HR reminders. Reply YES" in proc.stdout  # the HELP answer, from TwiML
    mails = list(mailbox.Maildir(tmp_path / "var/demo/mail", create=False))
    subjects = sorted(m["Subject"] for m in mails)
    assert any("message error(s)" in s for s in subjects)
    manager_mails = [m for m in mails if "from your team" in m["Subject"]]
    # Dana (the STOP) has no manager on record: her reply reaches the administrators.
    (unaddressed,) = [m for m in mails if "that no manager receives" in m["Subject"]]
    assert "STOP" in _text(unaddressed)
    assert any("Is the renewal course available online?" in _text(m) for m in manager_mails)
    flagged = [_text(m) for m in manager_mails if "UNMATCHED (1)" in _text(m)]
    assert len(flagged) == 1 and "Got a message from HR? Please call me." in flagged[0]
