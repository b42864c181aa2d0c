"""Twilio's clock in the look-up of a create of unknown outcome (issue 11 #2), without network:
the matching rules on listed messages, and the offset read from the ``Date`` header."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.config import TwilioSettings
from bridge.outbound.gateway import TwilioGateway, twilio_clock_offset

CLAIMED = datetime(2026, 12, 2, 9, 30, 0, 250_000, tzinfo=UTC)
TO = "+14155550100"


@dataclass
class Listed:
    sid: str
    date_created: datetime
    body: str = "Reply YES 4821"
    status: str = "queued"
    error_code: int | None = None
    error_message: str | None = None
    messaging_service_sid: str | None = None


@dataclass
class FakeHttp:
    last_response_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeMessages:
    listed: list[Listed]
    pages_read: int = 0

    def stream(self, **filters: Any) -> Iterator[Listed]:
        for item in sorted(self.listed, key=lambda m: m.date_created, reverse=True):
            self.pages_read += 1
            yield item


@dataclass
class FakeClient:
    messages: FakeMessages
    http_client: FakeHttp


def gateway_listing(listed: list[Listed], date_header: str | None) -> TwilioGateway:
    gateway = TwilioGateway(TwilioSettings(account_sid="AC" + "0" * 32), environment={})
    headers = {} if date_header is None else {"Date": date_header}
    gateway.client = FakeClient(FakeMessages(listed), FakeHttp(headers))  # type: ignore[assignment]
    return gateway


def find(gateway: TwilioGateway, now: datetime, taken: frozenset[str] = frozenset()) -> str | None:
    found = gateway.find_created(
        to=TO, body="Reply YES 4821", from_number="+15005550006", messaging_service_sid=None,
        created_after=CLAIMED, clock=lambda: now, taken=lambda sid: sid in taken,
    )  # fmt: skip
    return None if found is None else found.sid


def http_date(at: datetime) -> str:
    return at.strftime("%a, %d %b %Y %H:%M:%S GMT")


def whole(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def test_the_offset_is_a_lower_bound_from_the_date_header() -> None:
    received = datetime(2026, 12, 2, 9, 30, 5, 900_000, tzinfo=UTC)
    # Twilio 2 s behind: its header says :03 while our clock reads :05.9 after the answer.
    offset = twilio_clock_offset("Wed, 02 Dec 2026 09:30:03 GMT", received)
    assert offset == timedelta(seconds=-2.9)
    assert twilio_clock_offset(None, received) is None
    assert twilio_clock_offset("not a date", received) is None


@pytest.mark.parametrize("skew", [-2, -90, -300, 300])
def test_our_create_is_found_with_twilios_clock_off_by(skew: int) -> None:
    twilio_now = CLAIMED + timedelta(seconds=skew)
    ours = Listed("SMours", whole(twilio_now + timedelta(milliseconds=400)))
    gateway = gateway_listing([ours], http_date(twilio_now + timedelta(seconds=3)))
    assert find(gateway, CLAIMED + timedelta(seconds=3, milliseconds=100)) == "SMours"


@pytest.mark.parametrize("skew", [-4, -299])
def test_found_without_a_date_header_through_the_wide_window(skew: int) -> None:
    ours = Listed("SMours", whole(CLAIMED + timedelta(seconds=skew)))
    gateway = gateway_listing([ours], None)
    assert find(gateway, CLAIMED + timedelta(seconds=3)) == "SMours"


def test_an_older_message_of_another_row_is_skipped_and_ours_preferred() -> None:
    # Twilio 5 minutes behind, header from the same clock: an earlier identical message (on
    # another row, 3 minutes before our claim) and ours.
    skew = timedelta(seconds=-300)
    earlier = Listed("SMearlier", whole(CLAIMED + skew - timedelta(minutes=3)))
    ours = Listed("SMours", whole(CLAIMED + skew + timedelta(seconds=1)))
    header = http_date(CLAIMED + skew + timedelta(seconds=3))
    now = CLAIMED + timedelta(seconds=3, milliseconds=50)
    assert find(gateway_listing([earlier, ours], header), now) == "SMours"
    # Our create never reached Twilio: the earlier one is someone else's (its SID is taken).
    assert find(gateway_listing([earlier], header), now, taken=frozenset({"SMearlier"})) is None


def test_a_message_after_the_claim_wins_over_one_before_it_and_the_listing_stops() -> None:
    before = Listed("SMbefore", whole(CLAIMED - timedelta(seconds=40)))
    ours = Listed("SMours", whole(CLAIMED + timedelta(seconds=1)))
    later = Listed("SMlater", whole(CLAIMED + timedelta(seconds=2)))  # an untaken newer one
    ancient = [Listed(f"SMold{i}", whole(CLAIMED - timedelta(minutes=20 + i))) for i in range(5)]
    gateway = gateway_listing([before, ours, later, *ancient], http_date(CLAIMED))
    assert find(gateway, CLAIMED + timedelta(seconds=3)) == "SMours"  # the first after the claim
    messages = gateway.client.messages
    assert isinstance(messages, FakeMessages) and messages.pages_read == 3  # stopped at `before`


def test_nothing_older_than_the_wide_window_is_taken() -> None:
    stale = Listed("SMstale", whole(CLAIMED - timedelta(minutes=11)))
    assert find(gateway_listing([stale], None), CLAIMED + timedelta(seconds=3)) is None
