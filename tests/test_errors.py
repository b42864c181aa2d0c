from __future__ import annotations

from bridge import errors


def test_every_spec_has_a_class_with_its_number_and_message() -> None:
    assert len({s.number for s in errors.ERROR_SPECS}) == len(errors.ERROR_SPECS)
    assert set(errors.ERROR_CLASSES) == {s.number for s in errors.ERROR_SPECS}
    for number, cls in errors.ERROR_CLASSES.items():
        assert -20999 <= number <= -20000
        assert cls.spec.number == number
        assert issubclass(cls, errors.BridgeError)


def test_messages_fill_placeholders() -> None:
    error = errors.UnknownRecipientError("EMPLOYEE", "42")
    assert str(error) == "unknown recipient EMPLOYEE 42"
    assert (error.name, error.number) == ("unknown_recipient", -20007)


def test_from_oracle_keeps_the_first_line_without_prefix() -> None:
    mapped = errors.from_oracle(
        -20003, 'ORA-20003: sender IT is not active\nORA-06512: at "APP.SMS_ERR", line 12'
    )
    assert isinstance(mapped, errors.InactiveSenderError)
    assert str(mapped) == "sender IT is not active"
    assert errors.from_oracle(-1, "ORA-00001: unique constraint") is None


def test_bad_batch_source_is_the_last_named_error_and_maps_back() -> None:
    error = errors.BadBatchSourceError("SQLPLUS")
    assert str(error) == "batch source SQLPLUS is not PLSQL, CSV or REST"
    assert (error.name, error.number) == ("bad_batch_source", -20018)
    assert max(s.number for s in errors.ERROR_SPECS) == -20001
    assert min(s.number for s in errors.ERROR_SPECS) == -20018
    mapped = errors.from_oracle(
        -20018, "ORA-20018: batch source csv is not PLSQL, CSV or REST\nORA-06512: at line 1"
    )
    assert isinstance(mapped, errors.BadBatchSourceError)
    assert str(mapped) == "batch source csv is not PLSQL, CSV or REST"
