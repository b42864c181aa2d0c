"""Several numbers per recipient (issue 13 #3): the first usable one is taken, and why the ones
before it were skipped is recorded (bridge.domain.phone_choice; pure, table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.domain import phone_choice
from bridge.domain.line_types import DEFAULT_TTL, LineType
from bridge.domain.phone_choice import Candidate, choose

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
UK_MOBILE = "+447911123456"
UK_MOBILE_2 = "+447911123457"
UK_FIXED = "+442071838750"
FR_FIXED = "+33145678901"
US = "+14155550100"  # FIXED_LINE_OR_MOBILE: possibly mobile, accepted
US_2 = "+14155550142"
OPTED = {UK_MOBILE_2, US_2}


def opted_out(number: str) -> bool:
    return number in OPTED


def c(number: str | None, kind: str | None = None, pref: int | None = None) -> Candidate:
    return Candidate(number, kind, pref)


@pytest.mark.parametrize(
    ("candidates", "chosen", "skipped"),
    [
        # the first choice is usable: nothing skipped
        ([c(UK_MOBILE, "M", 1), c(UK_FIXED, "H1", 2)], UK_MOBILE, []),
        # a fixed line first: skipped with phonenumbers' type
        (
            [c(UK_FIXED, "H1", 1), c(UK_MOBILE, "M", 2)],
            UK_MOBILE,
            ["+4420******50 (H1): a fixed line"],
        ),
        # not a valid number, then no number at all, then an opted-out mobile
        (
            [c("12345", "W1", 1), c("  ", None, 2), c(UK_MOBILE_2, "M", 3), c(US, "M", 4)],
            US,
            [
                "***45 (W1): not a valid number for its region",
                "-: no mobile number on record",
                "+4479******57 (M): opted out",
            ],
        ),
        # unparsable text
        ([c("call the desk"), c(UK_MOBILE)], UK_MOBILE, ["***********sk: unparsable number"]),
        # by preference, not by the order given; unranked ones last
        (
            [c(UK_MOBILE, "M", None), c(FR_FIXED, "W1", 2), c(US, "M", 3)],
            US,
            ["+3314*****01 (W1): a fixed line"],
        ),
        # the same number twice (as mobile and as work phone) counts once
        (
            [c(UK_FIXED, "W1", 1), c("020 7183 8750", "H1", 2), c(UK_MOBILE, "M", 3)],
            UK_MOBILE,
            ["+4420******50 (W1): a fixed line"],
        ),
    ],
)
def test_the_first_usable_number_is_taken(
    candidates: list[Candidate], chosen: str, skipped: list[str]
) -> None:
    choice = choose(candidates, "GB", opted_out)
    assert choice.number is not None and choice.number.e164 == chosen
    texts = [s.text() for s in choice.skipped]
    assert len(texts) == len(skipped)
    for text, expected in zip(texts, skipped, strict=True):
        assert text.startswith(expected), text
    assert choice.rank == len(skipped) + 1


def test_the_note_names_the_number_used_and_each_one_skipped_masked() -> None:
    choice = choose(
        [c(UK_FIXED, "H1", 1), c(UK_MOBILE_2, "M", 2), c(UK_MOBILE, "M", 3)], "GB", opted_out
    )
    note = choice.note()
    assert note == (
        "number +4479******56 (M) used, choice 3 of 3; skipped +4420******50 (H1): a fixed line;"
        " +4479******57 (M): opted out"
    )
    for number in (UK_FIXED, UK_MOBILE, UK_MOBILE_2):
        assert number not in note
    # One number: nothing was chosen, nothing to record (the single-number behaviour).
    assert choose([c(UK_MOBILE)], "GB", opted_out).note() is None
    assert choose([c(UK_MOBILE), c(UK_MOBILE, "W1")], "GB", opted_out).note() is None


@pytest.mark.parametrize(
    ("candidates", "opted", "reason"),
    [
        # one number: its own reason, exactly as before several numbers
        ([c(UK_FIXED)], False, "+4420******50 is a fixed line"),
        ([c(None)], False, "no mobile number on record"),
        ([c("12345")], False, "not a valid number for its region"),
        ([c(UK_MOBILE_2)], True, None),
        # several: every one's reason
        (
            [c(UK_FIXED, "H1", 1), c("12345", "W1", 2)],
            False,
            "no usable number among 2: +4420******50 (H1): a fixed line;"
            " ***45 (W1): not a valid number for its region",
        ),
        # the only valid mobile opted out: SUPPRESSED, not INVALID
        ([c(UK_FIXED, "H1", 1), c(UK_MOBILE_2, "M", 2)], True, None),
        ([c(US_2, "M", 1), c(FR_FIXED, "W1", 2)], True, None),
        ([], False, "no mobile number on record"),
    ],
)
def test_none_usable(candidates: list[Candidate], opted: bool, reason: str | None) -> None:
    choice = choose(candidates, "GB", opted_out)
    assert choice.number is None
    assert choice.opted_out is opted
    if opted:
        assert choice.opted_out_e164 in OPTED
    else:
        assert choice.invalid_reason() == reason


def test_a_fresh_cached_landline_is_skipped_for_the_next_number() -> None:
    answers = {
        US: LineType(US, "landline", NOW - timedelta(days=1)),
        US_2: LineType(US_2, "mobile", NOW - timedelta(days=1)),
    }
    candidates = [c(US, "H1", 1), c("+14155550143", "M", 2)]
    choice = choose(candidates, "US", opted_out, known_line_types=answers, now=NOW)
    assert choice.number is not None and choice.number.e164 == "+14155550143"
    assert [s.text() for s in choice.skipped] == [
        "+1415*****00 (H1): landline (Twilio Lookup, 2026-12-01)"
    ]
    # An answer older than the TTL is not trusted; without answers the landline is taken.
    stale = {US: LineType(US, "landline", NOW - DEFAULT_TTL)}
    assert choose(candidates, "US", opted_out, known_line_types=stale, now=NOW).rank == 1
    assert choose(candidates, "US", opted_out).rank == 1
    # Only landlines known to the cache: INVALID with the Lookup reason.
    only = choose(
        [c(US, "H1", 1), c(FR_FIXED, "W1", 2)], "US", opted_out, known_line_types=answers, now=NOW
    )
    assert only.number is None and not only.opted_out
    assert "landline (Twilio Lookup" in only.invalid_reason()


def test_ordered_keeps_the_given_order_for_ties() -> None:
    given = [c("a", None, 2), c("b", None, None), c("c", None, 1), c("d", None, 2)]
    assert [x.number for x in phone_choice.ordered(given)] == ["c", "a", "d", "b"]
