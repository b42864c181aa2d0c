"""Pure outbound modules, table-driven: phone, segments, policy, prepare, token bucket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bridge.domain import phone, policy, segments
from bridge.domain.models import Message, Recipient, Sender
from bridge.domain.policy import Action
from bridge.domain.statuses import Status
from bridge.outbound.prepare import Defer, Finish, Send, prepare
from bridge.store.token_bucket import TokenBucket

T0 = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 23:30 in New York, 05:30 in Paris


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+14155550101", "US", "+14155550101"),
        ("(415) 555-0101", "US", "+14155550101"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+447911123456", "US", "+447911123456"),
    ],
)
def test_normalize_accepts_mobiles(raw: str, region: str, expected: str) -> None:
    result = phone.normalize(raw, region)
    assert isinstance(result, phone.Normalized) and result.e164 == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "no mobile number"),
        ("  ", "no mobile number"),
        ("12345", "not a valid number"),
        ("call me", "unparsable"),
        ("+33145678901", "fixed line"),
        ("+442071838750", "fixed line"),
    ],
)
def test_normalize_rejects_with_a_reason(raw: str | None, reason: str) -> None:
    result = phone.normalize(raw, "US")
    assert isinstance(result, phone.Rejected) and reason in result.reason


def test_mask() -> None:
    assert phone.mask("+14155550171") == "+1415*****71"
    assert phone.mask(None) == "-"


@pytest.mark.parametrize(
    ("body", "encoding", "count"),
    [
        ("hello", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("€" * 80, "GSM-7", 1),  # extension characters count double: 160 septets
        ("€" * 81, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("ü" * 70, "GSM-7", 1),
        ("ć" * 70, "UCS-2", 1),
        ("ć" * 71, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # surrogate pairs: two UTF-16 units each
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments(body: str, encoding: str, count: int) -> None:
    info = segments.count(body)
    assert (info.encoding, info.segments) == (encoding, count)


NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("now", "start", "end", "expected"),
    [
        (T0, "21:00", "08:00", datetime(2026, 11, 24, 13, 0, tzinfo=UTC)),  # 23:30 -> 08:00
        (
            datetime(2026, 11, 24, 11, 0, tzinfo=UTC),
            "21:00",
            "08:00",
            datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
        ),  # 06:00 -> 08:00 same day
        (datetime(2026, 11, 24, 15, 0, tzinfo=UTC), "21:00", "08:00", None),  # 10:00
        (
            datetime(2026, 11, 24, 17, 30, tzinfo=UTC),
            "12:00",
            "13:00",
            datetime(2026, 11, 24, 18, 0, tzinfo=UTC),
        ),  # non-wrapping window
        (T0, None, None, None),
        (T0, "08:00", "08:00", None),
    ],
)
def test_quiet_until(
    now: datetime, start: str | None, end: str | None, expected: datetime | None
) -> None:
    assert policy.quiet_until(now, NY, start, end) == expected


def test_zone_precedence() -> None:
    assert policy.zone_for("Asia/Tokyo", ("Europe/Paris",), "UTC").key == "Asia/Tokyo"
    assert policy.zone_for(None, ("Europe/Paris",), "UTC").key == "Europe/Paris"
    assert policy.zone_for(None, ("A/B", "C/D"), "America/Chicago").key == "America/Chicago"
    assert policy.zone_for("Not/AZone", (), "Europe/Berlin").key == "Europe/Berlin"


def test_backoff_grows_with_jitter_and_a_ceiling() -> None:
    assert policy.backoff(1, 30, 3600, 0.0) == timedelta(seconds=15)
    assert policy.backoff(1, 30, 3600, 0.999) < timedelta(seconds=30)
    assert policy.backoff(3, 30, 3600, 0.0) == timedelta(seconds=60)
    assert policy.backoff(20, 30, 3600, 0.0) == timedelta(seconds=1800)


@pytest.mark.parametrize(
    ("status", "code", "action"),
    [
        (429, 20429, Action.RETRY),
        (429, None, Action.RETRY),
        (401, 20003, Action.STOP),
        (400, 21610, Action.SUPPRESS),
        (400, 21211, Action.INVALID),
        (400, 21614, Action.INVALID),
        (400, 21408, Action.FAIL),
        (400, 21617, Action.FAIL),
        (500, None, Action.UNKNOWN),
        (503, None, Action.UNKNOWN),
    ],
)
def test_classification(status: int, code: int | None, action: Action) -> None:
    assert policy.classify_http(status, code) is action


def test_transport_errors() -> None:
    assert policy.classify_transport(sent=False) is Action.RETRY
    assert policy.classify_transport(sent=True) is Action.UNKNOWN


def message(**kw: object) -> Message:
    fields: dict[str, object] = dict(
        id=1,
        sender_code="HR",
        body="hi",
        status=Status.SENDING,
        priority=2,
        next_attempt_at=T0,
        created_at=T0,
        updated_at=T0,
        to_number="+12125550123",
    )
    fields.update(kw)
    return Message(**fields)  # type: ignore[arg-type]


SENDER = Sender(
    code="HR",
    from_number="+15005550006",
    quiet_start="21:00",
    quiet_end="08:00",
    default_time_zone="UTC",
)


def never(number: str, scope: str | None) -> bool:
    return False


@pytest.mark.parametrize(
    ("msg", "recipient", "opted_out", "expected"),
    [
        (message(), None, never, Defer),  # 23:30 in New York (from the number)
        (message(priority=1), None, never, Send),  # urgent ignores quiet hours
        (message(to_number="+33612345678"), None, never, Defer),  # 05:30 in Paris: quiet too
        (message(expires_at=T0), None, never, Finish),
        (message(to_number="+33145678901"), None, never, Finish),
        (message(), None, lambda n, s: True, Finish),
        (message(recipient_type="EMPLOYEE", recipient_id="7", to_number=None), None, never, Finish),
        (
            message(recipient_type="EMPLOYEE", recipient_id="7", to_number=None),
            Recipient("EMPLOYEE", "7", "X", "+12125550123", "Asia/Tokyo", None),
            never,
            Send,
        ),
    ],
)
def test_prepare(
    msg: Message, recipient: Recipient | None, opted_out: object, expected: type
) -> None:
    decision = prepare(msg, SENDER, recipient, T0, default_region="US", is_opted_out=opted_out)  # type: ignore[arg-type]
    assert isinstance(decision, expected)


def test_prepare_reasons() -> None:
    suppressed = prepare(
        message(), SENDER, None, T0, default_region="US", is_opted_out=lambda n, s: True
    )
    assert isinstance(suppressed, Finish) and suppressed.status is Status.SUPPRESSED
    deferred = prepare(message(), SENDER, None, T0, default_region="US", is_opted_out=never)
    assert isinstance(deferred, Defer)
    assert deferred.until == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert "America/New_York" in deferred.reason
    sent = prepare(
        message(priority=1, body="€uro"), SENDER, None, T0, default_region="US", is_opted_out=never
    )
    assert sent == Send(to="+12125550123", segments=1, encoding="GSM-7")


def test_token_bucket() -> None:
    # A full bucket holds 0.9 s of the rate (at least a token): the margin keeps what reaches
    # Twilio in any second within a second's burst plus a second of refill.
    fresh = TokenBucket.refill({"mps": 10.0, "tokens": 0, "tokens_at": None}, T0)
    assert fresh.whole_tokens() == 9
    assert TokenBucket.refill({"mps": 100.0, "tokens": 0, "tokens_at": None}, T0).capacity == 90
    assert TokenBucket.refill({"mps": 1.0, "tokens": 0, "tokens_at": None}, T0).capacity == 1
    later = TokenBucket.refill(
        {"mps": 10.0, "tokens": -5.0, "tokens_at": T0}, T0 + timedelta(seconds=1)
    )
    assert later.whole_tokens() == 5
    capped = TokenBucket.refill(
        {"mps": 2.0, "tokens": 0.0, "tokens_at": T0}, T0 + timedelta(hours=1)
    )
    assert capped.tokens == 1.8
    slow = TokenBucket.refill({"mps": 0.5, "tokens": 0.0, "tokens_at": T0}, T0)
    assert slow.whole_tokens() == 0 and slow.seconds_to_next_token() == 2.0


def test_utf16_units_and_fit() -> None:
    smile = "\N{GRINNING FACE}"
    assert segments.utf16_units("abc") == 3 and segments.utf16_units(smile * 3) == 6
    assert segments.fit_utf16("abc", 2000) == "abc"
    assert segments.fit_utf16(smile * 1600, 2000) == smile * 1000  # an NVARCHAR2(2000) holds
    assert segments.fit_utf16("a" + smile * 2, 4) == "a" + smile  # never half an emoji
    assert segments.fit_utf16("é" * 2100, 2000) == "é" * 2000
