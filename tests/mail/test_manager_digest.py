from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.mail.manager_digest import manager_digests

T = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def row(
    i: int,
    body: str,
    manager: str | None,
    outbound: int | None,
    method: str | None = "REFERENCE",
    name: str = "Ravi Menon",
) -> dict[str, Any]:
    return {
        "id": i,
        "received_at": T.replace(minute=i),
        "body": body,
        "from_number": "+14155550102",
        "match_method": method,
        "outbound_id": outbound,
        "reference": f"CERT-{outbound}" if outbound else None,
        "outbound_body": f"Reminder {outbound}" if outbound else None,
        "display_name": name,
        "manager_email": manager,
    }


def test_grouped_by_reminder_with_unmatched_flagged_per_manager() -> None:
    rows = [
        row(1, "YES 4821", "dana@example.com", 7),
        row(2, "When is the next course?", "dana@example.com", 7, method="LATEST"),
        row(3, "yes", "dana@example.com", None, method="AMBIGUOUS", name="Lucie Martin"),
        row(4, "DONE", "kenji@example.com", 9, name="Hannah Becker"),
        row(5, "no manager", None, 9),
    ]
    digests = manager_digests(rows, T, T.replace(hour=10))
    assert set(digests) == {"dana@example.com", "kenji@example.com"}
    dana = digests["dana@example.com"]
    assert dana.subject.startswith("[sms-bridge] 3 SMS replies from your team")
    text = dana.text
    assert text.index("Reminder #7 (CERT-7): Reminder 7") < text.index("Ravi Menon: YES 4821")
    assert "Ravi Menon: When is the next course?" in text
    assert "UNMATCHED (1)" in text and "[!]" in text and "could match more than one" in text
    assert "Lucie Martin: yes" in text.split("UNMATCHED")[1]
    assert "<b>Ravi Menon</b>: YES 4821" in dana.html
    kenji = digests["kenji@example.com"]
    assert "Hannah Becker: DONE" in kenji.text and "UNMATCHED" not in kenji.text
    assert kenji.subject.startswith("[sms-bridge] 1 SMS reply from your team")


def test_html_is_escaped() -> None:
    digests = manager_digests([row(1, "<script>x</script>", "m@example.com", 3)], T, T)
    assert "<script>" not in digests["m@example.com"].html


def test_replies_no_manager_receives_go_to_the_administrators() -> None:
    from bridge.mail.manager_digest import unaddressed_digest

    rows = [
        row(1, "YES 4821", "dana@example.com", 7),
        row(2, "STOP", None, 7, name="Dana Whitfield"),  # Dana has no manager on record
        row(3, "who is this?", None, None, method="NONE", name=""),  # an unknown number
    ]
    digest = unaddressed_digest(rows, T, T.replace(hour=10))
    assert digest is not None
    assert digest.subject.startswith("[sms-bridge] 2 SMS replies that no manager receives")
    assert "Dana Whitfield: STOP" in digest.text and "who is this?" in digest.text
    assert "YES 4821" not in digest.text  # Dana's manager digest has it
    assert "+1415*****02" in digest.text  # the unknown number, masked
    assert unaddressed_digest(rows[:1], T, T) is None


def test_one_reply_no_manager_receives_reads_as_one() -> None:
    from bridge.mail.manager_digest import unaddressed_digest

    digest = unaddressed_digest([row(2, "STOP", None, 7, name="Dana")], T, T.replace(hour=10))
    assert digest is not None
    assert digest.subject == "[sms-bridge] 1 SMS reply that no manager receives (2026-11-24)"
