from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge import errors
from bridge.domain.enqueue_rules import check_sender, check_shape
from bridge.domain.models import EnqueueRequest, Sender

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def req(**kw: object) -> EnqueueRequest:
    fields: dict[str, object] = {"sender_code": "HR", "body": "hi", "to_number": "+14155550100"}
    fields.update(kw)
    return EnqueueRequest(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (req(to_number=None), errors.RecipientCountError),
        (req(recipient_type="EMPLOYEE", recipient_id="7"), errors.RecipientCountError),
        (req(to_number=None, recipient_id="7"), errors.RecipientCountError),
        (
            req(to_number=None, recipient_type="EMPLOYEE", recipient_id=""),
            errors.RecipientCountError,
        ),
        (req(to_number="+0123"), errors.BadNumberError),
        (req(to_number="004155550100"), errors.BadNumberError),
        (req(to_number="+14155550100\n"), errors.BadNumberError),  # "$" would accept it
        (req(body=""), errors.EmptyBodyError),
        (req(body="\n\t "), errors.EmptyBodyError),
        (req(body="a" * 1601), errors.BodyTooLongError),
        # An emoji is two UTF-16 units, as SMS, Oracle's LENGTH2 and NVARCHAR2(2000) count it.
        (req(body="\N{GRINNING FACE}" * 801), errors.BodyTooLongError),
        (req(priority=0), errors.BadPriorityError),
        (req(priority=True), errors.BadPriorityError),
        (req(send_after=T0, expires_at=T0), errors.BadWindowError),
        (req(correlation_key="k"), errors.CorrelationIncompleteError),
        (req(source_system="", correlation_key="k"), errors.CorrelationIncompleteError),
        (req(reply_code="YES"), errors.BadReplyCodeError),  # no digit: never found in a reply
        (req(reply_code="7"), errors.BadReplyCodeError),  # one character: never found either
        (req(reply_code="4821-"), errors.BadReplyCodeError),
    ],
)
def test_rejections(request_: EnqueueRequest, error: type[errors.SmsError]) -> None:
    with pytest.raises(error):
        check_shape(request_)


@pytest.mark.parametrize(
    "request_",
    [
        req(),
        req(to_number=None, recipient_type="EMPLOYEE", recipient_id="7"),
        req(body="a" * 1600, priority=3),
        req(body="\N{GRINNING FACE}" * 800),
        req(send_after=T0, expires_at=T0 + timedelta(hours=1)),
        req(source_system="HR", correlation_key="cert-1"),
        req(reply_code="hr-2291"),
        req(reply_code="07"),
    ],
)
def test_accepted(request_: EnqueueRequest) -> None:
    check_shape(request_)


def test_sender_checks() -> None:
    with pytest.raises(errors.UnknownSenderError, match="unknown sender HR"):
        check_sender("HR", None)
    with pytest.raises(errors.InactiveSenderError, match="sender HR is not active"):
        check_sender("HR", Sender(code="HR", from_number="+1", active=False))
    active = Sender(code="HR", from_number="+1")
    assert check_sender("HR", active) is active
