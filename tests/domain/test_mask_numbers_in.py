"""mask_numbers_in: the numbers quoted in provider and bridge texts, masked like mask()."""

from __future__ import annotations

import pytest

from bridge.domain.phone import mask, mask_numbers_in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The 'To' phone number: +14155550174, is not currently reachable",
            "The 'To' phone number: +1415*****74, is not currently reachable",
        ),
        (
            "whatsapp:+14155550174 is not a WhatsApp user",
            "whatsapp:+1415*****74 is not a WhatsApp user",
        ),
        ("To:+14155550174.", "To:+1415*****74."),
        ("+1 (415) 555-0174 is unreachable", "+1415*****74 is unreachable"),
        ("+1-415-555-0174", "+1415*****74"),
        ("+44 20 7946 0958", "+4420******58"),
        ("+33 6 12 34 56 78 blocked", "+3361*****78 blocked"),
        ("carrier: (415) 555-0174 unknown", "carrier: ********74 unknown"),
        ("call 415-555-0174 or 4155550175", "call ********74 or ********75"),
        ("1 415 555 0174", "*********74"),
        ("+14155550174 30007", "+1415*****74 30007"),  # the code stays
        ("30007 4155550174", "30007 ********74"),
        ("a +14155550174 and b +14155550175", "a +1415*****74 and b +1415*****75"),
    ],
)
def test_numbers_are_masked_with_the_one_shape_of_mask(text: str, expected: str) -> None:
    assert mask_numbers_in(text) == expected


def test_the_shape_is_mask_of_the_digits() -> None:
    assert mask_numbers_in("+1 (415) 555-0174") == mask("+14155550174")
    assert mask_numbers_in("(415) 555-0174") == mask("4155550174")


@pytest.mark.parametrize(
    "text",
    [
        "SM0123456789abcdef0123456789abcdef delivered",
        "Account AC1234567890abcdef1234567890abcdef suspended",
        "Error 30007: Message filtered",
        "errors 30007 30008 21610",
        "Reply YES 4821 when renewed",
        "reference HR-2024-0042 quoted",
        "at 2024-01-02 09:00:00 UTC",
        "sent 2024-01-02T09:00:00Z",
        "on 02-01-2024 at 12:34:56",
        "https://api.twilio.com/2010-04-01/Accounts/AC12/Messages/SM34.json",
        "http://localhost:8080/status and 10.0.0.1:65535",
        "1234567.89 USD",
        "message #1234567 superseded",
        "+1415*****74 is a fixed line",  # already masked: unchanged
        "+12 and 123456",  # too short
        "4155550174abc",  # part of a token
        "",
    ],
)
def test_what_is_not_a_number_is_left_alone(text: str) -> None:
    assert mask_numbers_in(text) == text


def test_none_stays_none() -> None:
    assert mask_numbers_in(None) is None
