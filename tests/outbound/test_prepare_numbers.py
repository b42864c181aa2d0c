"""prepare() with a recipient's several numbers (issue 13 #3), pure: the candidates of
sms_recipient_phones_v win over sms_recipients_v.mobile_number, which is the fallback when the
view has no row for the recipient."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.domain.models import Message, Recipient, Sender
from bridge.domain.phone_choice import Candidate
from bridge.domain.statuses import Status
from bridge.outbound.prepare import Finish, Send, prepare

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SENDER = Sender(code="HR", from_number="+15005550006", default_time_zone="UTC")
MOBILE = "+447911123456"
OTHER_MOBILE = "+447911123457"
FIXED = "+442071838750"
RECIPIENT = Recipient("EMPLOYEE", "7", "Ann", MOBILE, None, None)


def message() -> Message:
    return Message(  # type: ignore[call-arg]
        id=1,
        sender_code="HR",
        body="hello",
        status=Status.SENDING,
        priority=1,
        next_attempt_at=T0,
        created_at=T0,
        updated_at=T0,
        recipient_type="EMPLOYEE",
        recipient_id="7",
        to_number=None,
    )


def never(number: str, scope: str | None) -> bool:
    return False


def test_without_phones_rows_the_recipients_mobile_number_is_used() -> None:
    decision = prepare(message(), SENDER, RECIPIENT, T0, default_region="GB", is_opted_out=never)
    assert decision == Send(to=MOBILE, segments=1, encoding="GSM-7")
    assert decision.number_choice is None


def test_the_phones_rows_win_and_the_choice_is_noted() -> None:
    candidates = [Candidate(FIXED, "H1", 1), Candidate(OTHER_MOBILE, "M", 2)]
    decision = prepare(
        message(), SENDER, RECIPIENT, T0, default_region="GB", is_opted_out=never,
        candidates=candidates,
    )  # fmt: skip
    assert isinstance(decision, Send) and decision.to == OTHER_MOBILE
    assert decision.number_choice == (
        "number +4479******57 (M) used, choice 2 of 2; skipped +4420******50 (H1): a fixed line"
    )


def test_none_usable_is_final_with_the_single_number_statuses() -> None:
    landline_only = [Candidate(FIXED, "H1", 1), Candidate("12345", "W1", 2)]
    invalid = prepare(
        message(), SENDER, RECIPIENT, T0, default_region="GB", is_opted_out=never,
        candidates=landline_only,
    )  # fmt: skip
    assert isinstance(invalid, Finish) and invalid.status is Status.INVALID
    assert invalid.reason.startswith("no usable number among 2: +4420******50 (H1)")
    assert invalid.to == FIXED and invalid.number_choice is not None

    opted = [Candidate(FIXED, "H1", 1), Candidate(OTHER_MOBILE, "M", 2)]
    suppressed = prepare(
        message(), SENDER, RECIPIENT, T0, default_region="GB",
        is_opted_out=lambda n, s: n == OTHER_MOBILE, candidates=opted,
    )  # fmt: skip
    assert isinstance(suppressed, Finish) and suppressed.status is Status.SUPPRESSED
    assert suppressed.reason == "recipient opted out" and suppressed.to == OTHER_MOBILE
    assert suppressed.segments == 1 and suppressed.encoding == "GSM-7"
