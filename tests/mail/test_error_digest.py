"""The administrators' error digest: counts, samples, and numbers masked one way."""

from __future__ import annotations

import re
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
