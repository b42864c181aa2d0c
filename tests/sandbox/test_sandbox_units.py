"""Unit tests of the sandbox's pure parts: segments, signing, fault rates, lifecycle planning."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from sandbox.callbacks import CallbackJob
from sandbox.faults import FaultInjector, FaultSettings, apply_patch
from sandbox.lifecycle import Lifecycle
from sandbox.segments import count_segments
from sandbox.settings import SandboxSettings, Timings
from sandbox.signing import compute_signature
from sandbox.state import Message, Store


@pytest.mark.parametrize(
    ("body", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("@£$¥èéùìòÇ\nØø\rÅå", "GSM-7", 16, 1),  # basic-table accents are one septet each
        ("€" * 80, "GSM-7", 160, 1),  # extension characters count double
        ("€" * 81, "GSM-7", 162, 2),
        ("[x]" * 53 + "a", "GSM-7", 266, 2),
        # An escape sequence is never split: 152 + € does not fit in 153, so a third segment.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
        ("你" * 70, "UCS-2", 70, 1),
        ("你" * 71, "UCS-2", 71, 2),
        ("你" * 134, "UCS-2", 134, 2),
        ("你" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 code units each
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 134, 3),  # surrogate pair kept together
        ("Thanks! ✓", "UCS-2", 9, 1),  # one non-GSM character switches the whole body
    ],
)
def test_segments(body: str, encoding: str, units: int, segments: int) -> None:
    info = count_segments(body)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)


@pytest.mark.parametrize("seed", range(5))
def test_signature_matches_twilio_request_validator(seed: int) -> None:
    rng = random.Random(seed)
    token = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    url = f"https://example.com:8443/twilio/status?row={rng.randint(1, 999)}&x=a%20b"
    params = {
        name: "".join(rng.choice("aZ +€=&é1") for _ in range(rng.randint(0, 12)))
        for name in ("MessageSid", "To", "From", "Body", "SmsStatus", "ApiVersion")
    }
    signature = compute_signature(token, url, params)
    validator = RequestValidator(token)
    assert validator.validate(url, params, signature)
    assert not RequestValidator(token + "x").validate(url, params, signature)
    tampered = {**params, "Body": params["Body"] + "!"}
    assert not validator.validate(url, tampered, signature)


def test_fault_rates_follow_the_seed() -> None:
    settings = apply_patch(FaultSettings(), {"rate_429": 0.3, "rate_500": 0.2, "rate_503": 0.1})
    first = FaultInjector(settings, seed=11)
    second = FaultInjector(settings, seed=11)
    a = [first.decide(True).outcome for _ in range(2000)]
    b = [second.decide(True).outcome for _ in range(2000)]
    assert a == b, "the same seed must give the same decisions"
    assert abs(a.count("429") / 2000 - 0.3) < 0.05
    assert abs(a.count("500-before") / 2000 - 0.2) < 0.05
    assert abs(a.count("503") / 2000 - 0.1) < 0.04
    # Faults only hit creates unless the scope is "all".
    assert {first.decide(False).outcome for _ in range(200)} == {"ok"}


@pytest.mark.parametrize(
    "patch",
    [
        {"rate_429": 1.5},
        {"rate_429": 0.6, "rate_500": 0.6},
        {"nonsense": 1},
        {"latency_ms": {"dist": "weird"}},
        {"latency_ms": {"dist": "uniform", "min": 50, "max": 10}},
        {"scope": "everything"},
    ],
)
def test_invalid_fault_settings_are_refused(patch: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        apply_patch(FaultSettings(), patch)


class _NoCallbacks:
    def __init__(self) -> None:
        self.jobs: list[CallbackJob] = []

    def submit(self, job: CallbackJob) -> None:
        self.jobs.append(job)


def _message(store: Store, sid: str, validity: int | None) -> Message:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    m = Message(
        seq=store.next_seq(),
        sid=sid,
        account_sid="AC" + "0" * 32,
        direction="outbound-api",
        to="+15558675310",
        sender="+15005550006",
        messaging_service_sid=None,
        body="x" * 200,  # two segments
        status="queued",
        segments=count_segments("x" * 200),
        date_created=now,
        date_updated=now,
        generation=store.generation,
        validity_period=validity,
    )
    store.add_message(m)
    return m


def test_sender_queue_and_validity_period_expiry() -> None:
    """With mps=1 a sender releases one segment per second; a message that would wait longer
    than its ValidityPeriod fails with 30036 instead of being sent."""
    store = Store()
    settings = SandboxSettings(timings=Timings(queued=0.0, sending=1.0, delivery=1.0), mps=1.0)
    clock = [100.0]
    sink = _NoCallbacks()
    lifecycle = Lifecycle(
        store,
        settings,
        FaultInjector(FaultSettings(), 1),
        sink,  # type: ignore[arg-type]
        monotonic=lambda: clock[0],
    )
    first = _message(store, "SM1", validity=None)
    second = _message(store, "SM2", validity=1)  # would wait 2 s behind SM1's two segments
    lifecycle.plan(first, "delivered", None)
    lifecycle.plan(second, "delivered", None)
    steps = sorted(lifecycle._heap)
    plan = [(s.sid, s.status, s.error_code, s.due - 100.0) for s in steps]
    assert ("SM2", "failed", 30036, 1.0) in plan
    assert [p for p in plan if p[0] == "SM1"] == [
        ("SM1", "sending", None, 0.0),
        ("SM1", "sent", None, 1.0),
        ("SM1", "delivered", None, 2.0),
    ]
    for step in steps:
        lifecycle.apply(step)
        if (step.sid, step.status) == ("SM1", "sent"):  # sent, not final: no price yet
            assert store.get("SM1").price is None  # type: ignore[union-attr]
    assert store.get("SM2") is not None and store.get("SM2").status == "failed"  # type: ignore[union-attr]
    sent = store.get("SM1")
    assert sent is not None and sent.status == "delivered" and sent.date_sent is not None
    assert str(sent.price) == "0.01580"  # two segments at 0.00790
