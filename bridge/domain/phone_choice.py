"""Which of a recipient's numbers a message goes to (issue 13 #3; pure: no I/O).

``sms_recipient_phones_v`` lists every number of a recipient with a preference (1 = first
choice; the EBS variant lists every current PER_PHONES row, mobiles first). The bridge takes the
first usable one: a valid number (``bridge.domain.phone``) of a type that can receive SMS
(mobile, or possibly mobile: FIXED_LINE_OR_MOBILE, the whole NANP), not refused by a fresh
cached Twilio Lookup answer (``landline``, for senders with ``line_type_lookup``; only what the
cache already knows: nothing is looked up here) and not opted out. Why each earlier number was
skipped is kept, with the numbers masked, for the message's events.

With none usable the message is final: SUPPRESSED ("recipient opted out") when a number that
could receive SMS was skipped only because it opted out, else INVALID. One candidate behaves as
the single mobile_number did before (same statuses and reasons).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.domain import line_types, phone

OPTED_OUT = "opted out"


@dataclass(frozen=True)
class Candidate:
    """One number of a recipient, as the phones view lists it."""

    number: str | None
    phone_type: str | None = None  # the site's code (EBS PHONE_TYPE: M, W1, H1, ...)
    preference: int | None = None  # 1 = first choice; None after every ranked one


@dataclass(frozen=True)
class Skip:
    """A number not taken, masked, and why."""

    number: str
    phone_type: str | None
    reason: str
    opted_out: bool = False  # could receive SMS, but its owner opted out

    def text(self) -> str:
        kind = f" ({self.phone_type})" if self.phone_type else ""
        return f"{self.number}{kind}: {self.reason}"


@dataclass(frozen=True)
class Choice:
    """The number taken (None: none usable), the skipped ones, and how many there were."""

    number: phone.Normalized | None
    candidate: Candidate | None
    skipped: tuple[Skip, ...]
    considered: int  # distinct numbers on record (one listed twice counts once)
    rank: int = 0  # the taken number's place among them (1 = the first choice)
    first: Candidate | None = None  # the first candidate (the INVALID row's to_number)
    first_rejection: phone.Rejected | None = None  # why the first candidate was unusable
    opted_out_e164: str | None = None  # the first opted-out number (the SUPPRESSED row's)

    @property
    def opted_out(self) -> bool:
        """None usable, and at least one only because it opted out (SUPPRESSED)."""
        return self.number is None and self.opted_out_e164 is not None

    def invalid_reason(self) -> str:
        """The INVALID row's status_reason: the single number's own reason, as before; with
        several, every number's."""
        if not self.considered:
            return "no mobile number on record"
        if self.considered == 1 and self.first_rejection is not None:
            return self.first_rejection.reason
        return f"no usable number among {self.considered}: " + "; ".join(
            s.text() for s in self.skipped
        )

    def note(self) -> str | None:
        """The event text recording the choice; None with a single number (nothing chosen)."""
        if self.considered <= 1:
            return None
        skipped = "; ".join(s.text() for s in self.skipped)
        if self.number is None or self.candidate is None:
            return f"no usable number among {self.considered}: {skipped}"
        kind = f" ({self.candidate.phone_type})" if self.candidate.phone_type else ""
        used = f"number {phone.mask(self.number.e164)}{kind} used, choice {self.rank} of"
        return f"{used} {self.considered}" + (f"; skipped {skipped}" if skipped else "")


def ordered(candidates: Sequence[Candidate]) -> list[Candidate]:
    """By preference (unranked last), ties in the order given."""
    return [
        c
        for _, c in sorted(
            enumerate(candidates),
            key=lambda p: (p[1].preference is None, p[1].preference or 0, p[0]),
        )
    ]


def choose(
    candidates: Sequence[Candidate],
    default_region: str,
    is_opted_out: Callable[[str], bool],
    *,
    known_line_types: Mapping[str, line_types.LineType] | None = None,
    now: datetime | None = None,
) -> Choice:
    """The first usable number of ``candidates`` (taken by preference) and why the ones before
    it were skipped. ``known_line_types``: cached Lookup answers by E.164 number (answers older
    than the TTL at ``now``, or any without ``now``, are ignored)."""
    numbers: list[tuple[Candidate, phone.Normalized | phone.Rejected]] = []
    seen: set[str] = set()
    for candidate in ordered(candidates):
        number = phone.normalize(candidate.number, default_region)
        key = number.e164 or (candidate.number or "").strip()
        if key not in seen:  # the same number listed twice (as mobile and work phone, say)
            seen.add(key)
            numbers.append((candidate, number))
    first, first_number = numbers[0] if numbers else (None, None)
    skipped: list[Skip] = []
    opted_out_e164: str | None = None
    for rank, (candidate, number) in enumerate(numbers, start=1):
        if isinstance(number, phone.Rejected):
            reason = number.reason
            if number.e164 is not None:  # "+4420*****00 is a fixed line" -> "a fixed line"
                reason = reason.removeprefix(f"{phone.mask(number.e164)} is ")
            shown = phone.mask(number.e164 or candidate.number)
            skipped.append(Skip(shown, candidate.phone_type, reason))
            continue
        shown = phone.mask(number.e164)
        answer = (known_line_types or {}).get(number.e164)
        if (
            answer is not None
            and now is not None
            and line_types.is_fresh(answer, now)
            and line_types.refuses(answer)
        ):
            skipped.append(Skip(shown, candidate.phone_type, line_types.reason(answer)))
            continue
        if is_opted_out(number.e164):
            skipped.append(Skip(shown, candidate.phone_type, OPTED_OUT, opted_out=True))
            opted_out_e164 = opted_out_e164 or number.e164
            continue
        return Choice(number, candidate, tuple(skipped), len(numbers), rank, first)
    return Choice(
        None,
        None,
        tuple(skipped),
        len(numbers),
        0,
        first,
        first_number if isinstance(first_number, phone.Rejected) else None,
        opted_out_e164,
    )
