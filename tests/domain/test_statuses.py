from __future__ import annotations

import pytest

from bridge.domain.statuses import FINAL_STATUSES, Status, from_provider, is_final, moves_forward

S = Status


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        (S.QUEUED, S.SENDING, True),
        (S.SENDING, S.SUBMITTED, True),
        (S.SUBMITTED, S.SENT, True),
        (S.SENT, S.DELIVERED, True),
        (S.SUBMITTED, S.DELIVERED, True),
        (S.SENT, S.UNDELIVERED, True),
        (S.DELIVERED, S.SENT, False),
        (S.DELIVERED, S.UNDELIVERED, False),
        (S.SENT, S.SUBMITTED, False),
        (S.SENT, S.SENT, False),
        (S.CANCELED, S.SENDING, False),
        (S.SUPPRESSED, S.DELIVERED, False),
    ],
)
def test_forward_only(current: Status, new: Status, expected: bool) -> None:
    assert moves_forward(current, new) is expected


def test_final_set() -> None:
    assert {s.value for s in FINAL_STATUSES} == {
        "DELIVERED",
        "UNDELIVERED",
        "FAILED",
        "SUPPRESSED",
        "INVALID",
        "EXPIRED",
        "CANCELED",
    }
    assert is_final("DELIVERED") and not is_final("SENT")


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("queued", S.SUBMITTED),
        ("accepted", S.SUBMITTED),
        ("sending", S.SUBMITTED),
        ("sent", S.SENT),
        ("Delivered", S.DELIVERED),
        ("undelivered", S.UNDELIVERED),
        ("failed", S.FAILED),
        ("receiving", None),
    ],
)
def test_provider_mapping(provider: str, expected: Status | None) -> None:
    assert from_provider(provider) == expected
