"""The administrators' error digest: counts, samples, and numbers masked one way."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from bridge.domain.models import Message
from bridge.domain.statuses import Status
from bridge.mail.digests import error_digest

T = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def invalid(message_id: int, to_number: str | None, reason: str) -> Message:
    return Message(
        id=message_id,
        sender_code="HR",
        body="Reply YES 4821 when renewed",
        status=Status.INVALID,
        priority=2,
        next_attempt_at=T,
        created_at=T,
        updated_at=T,
        to_number=to_number,
        status_reason=reason,
    )


def test_every_number_is_masked_the_same_way() -> None:
    digest = error_digest(
        [
            invalid(1, "+442071838750", "+4420******50 is a fixed line"),
            invalid(2, "12345", "not a valid number for its region"),  # raw, as on record
            invalid(3, None, "no mobile number on record"),
        ],
        T,
        T.replace(hour=10),
    )
    assert digest is not None
    shown = re.findall(r"to=(\S+):", digest.text)
    assert shown == ["+4420******50", "***45", "-"]
    # One shape: optional +CCAA prefix, stars, the last two characters.
    assert all(re.fullmatch(r"(\+\d{4})?\*+\w{2}|-", s) for s in shown), shown
    assert "12345" not in digest.text and "12345" not in digest.html
    assert digest.subject.startswith("[sms-bridge] 3 message error(s)")


def test_the_html_escapes_every_interpolated_value() -> None:
    # A number or reason as stored is whatever the ERP or Twilio put there: markup in it must
    # reach the administrator's mail client as text. mask() keeps the last two characters.
    evil = invalid(1, "+1<img src=x onerror=alert(1)>", "bad <b>reason</b>")
    evil = replace(evil, sender_code="<i>HR</i>")
    digest = error_digest([evil], T, T.replace(hour=10))
    assert digest is not None
    assert "to=+1&lt;im" in digest.html and ")&gt;: " in digest.html
    assert "<im" not in digest.html and ")>" not in digest.html
    assert "<b>" not in digest.html and "<i>" not in digest.html


def test_numbers_quoted_in_twilio_texts_are_masked_in_the_samples() -> None:
    quoted = "The 'To' phone number: +14155550174, is not currently reachable"
    undelivered = replace(
        invalid(4, "+14155550174", ""),
        status=Status.UNDELIVERED,
        status_reason=None,
        error_code=30003,
        error_message=quoted,
    )
    digest = error_digest([undelivered], T, T.replace(hour=10))
    assert digest is not None
    masked = "The 'To' phone number: +1415*****74, is not currently reachable"
    assert f"to=+1415*****74: {masked}" in digest.text
    assert "+1415*****74, is not currently reachable" in digest.html
    assert "4155550174" not in digest.text and "4155550174" not in digest.html
