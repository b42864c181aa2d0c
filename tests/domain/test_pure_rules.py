"""Table-driven tests of the pure inbound rules: keywords, threading, API keys, masking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge import apikeys
from bridge.apikeys import Scope
from bridge.domain.keywords import Action, classify
from bridge.domain.phone import mask as mask_number
from bridge.domain.threading_match import Candidate, MatchMethod, match, reference_codes


@pytest.mark.parametrize(
    ("body", "opted_out", "keyword", "action"),
    [
        ("STOP", False, "STOP", Action.OPT_OUT),
        ("  stop\n", False, "STOP", Action.OPT_OUT),
        ("Stop.", False, "STOP", Action.OPT_OUT),
        ("stopall", False, "STOPALL", Action.OPT_OUT),
        *[
            (w, False, w, Action.OPT_OUT)
            for w in ("UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
        ],
        ("please stop", False, "PLEASE", None),  # whole-body match only
        ("STOP texting me", False, "STOP", None),
        ("start", False, "START", Action.OPT_IN),
        ("Unstop", False, "UNSTOP", Action.OPT_IN),
        ("YES", True, "YES", Action.OPT_IN),
        ("yes", False, "YES", None),  # an answer, not a re-subscription
        ("YES 4821", True, "YES", None),
        ("help", False, "HELP", Action.HELP),
        ("Info?", False, "INFO", Action.HELP),
        ("", False, None, None),
        ("👍", False, None, None),
        ("done, thanks", False, "DONE", None),
    ],
)
def test_classify(body: str, opted_out: bool, keyword: str | None, action: Action | None) -> None:
    found = classify(body, opted_out=opted_out)
    assert (found.keyword, found.action) == (keyword, action)


def test_stopall_scope_is_global() -> None:
    assert classify("STOPALL", opted_out=False).optout_scope("+15005550006") == "*"
    assert classify("STOP", opted_out=False).optout_scope("+15005550006") == "+15005550006"


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ("YES 4821", ["4821"]),
        ("yes hr-2291 and 4821, 4821", ["HR-2291", "4821"]),
        ("YES", []),
        ("call me at 5", []),  # one digit is not a code
        ("a7k9", ["A7K9"]),
    ],
)
def test_reference_codes(body: str, codes: list[str]) -> None:
    assert reference_codes(body) == codes


T0 = datetime(2030, 1, 1, tzinfo=UTC)


def cand(i: int, hours: int, code: str | None = None) -> Candidate:
    return Candidate(outbound_id=i, sent_at=T0 + timedelta(hours=hours), reply_code=code)


@pytest.mark.parametrize(
    ("codes", "by_ref", "window", "method", "outbound_id"),
    [
        (["4821"], [cand(1, 0, "4821")], [cand(2, 5)], MatchMethod.REFERENCE, 1),
        (["4821"], [cand(1, 0, "4821"), cand(3, 1, "4821")], [], MatchMethod.AMBIGUOUS, None),
        (["9999"], [], [cand(1, 0), cand(2, 5)], MatchMethod.LATEST, 2),
        ([], [], [cand(1, 0, "1111"), cand(2, 5, "2222")], MatchMethod.AMBIGUOUS, None),
        ([], [], [cand(1, 0, "1111"), cand(2, 5)], MatchMethod.LATEST, 2),
        ([], [], [], MatchMethod.NONE, None),
        (["4821"], [cand(1, 0, "4821")], [], MatchMethod.REFERENCE, 1),
    ],
)
def test_match(
    codes: list[str],
    by_ref: list[Candidate],
    window: list[Candidate],
    method: MatchMethod,
    outbound_id: int | None,
) -> None:
    found = match(codes, by_ref, window)
    assert (found.method, found.outbound_id) == (method, outbound_id)


def test_api_keys_are_random_and_hashed() -> None:
    a, b = apikeys.generate(), apikeys.generate()
    assert a.key != b.key and a.key.startswith("smsb_") and len(a.key) > 40
    assert a.hash == apikeys.hash_key(a.key) and a.key not in a.hash and len(a.hash) == 64
    assert a.prefix == a.key[:12] and apikeys.looks_like_key(a.key)


def test_scopes() -> None:
    assert apikeys.parse_scopes(["send,read", "raw-numbers"]) == {
        Scope.SEND,
        Scope.READ,
        Scope.RAW_NUMBERS,
    }
    assert apikeys.format_scopes([Scope.READ, Scope.SEND]) == "send read"
    with pytest.raises(ValueError, match="unknown scope 'write'"):
        apikeys.parse_scopes(["write"])
    with pytest.raises(ValueError, match="at least one"):
        apikeys.parse_scopes([" "])
    admin = apikeys.ApiKey(1, "a", "smsb_x", frozenset({Scope.ADMIN}), T0)
    assert admin.allows(Scope.RAW_NUMBERS)
    revoked = apikeys.ApiKey(1, "a", "smsb_x", frozenset({Scope.READ}), T0, revoked_at=T0)
    assert not revoked.allows(Scope.READ)
    with pytest.raises(ValueError, match="1 to 26"):  # "api:" + the name fits source_system
        apikeys.check_name("x" * 27)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+14155550171", "+1415*****71"),
        ("+442071838750", "+4420******50"),
        (None, "-"),
        ("+1234", "***34"),
        ("12345", "***45"),  # a raw number from the recipients view: the same shape
        (" +14155550171 ", "+1415*****71"),
        ("1234", "****"),
        ("", "-"),
    ],
)
def test_mask_number(number: str | None, masked: str) -> None:
    assert mask_number(number) == masked
