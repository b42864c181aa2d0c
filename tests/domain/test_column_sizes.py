"""How a text is measured against its column, and the named errors for one that does not fit.

Issue 10: BYTE columns count UTF-8 bytes, CHAR columns characters, NVARCHAR2 UTF-16 units; a
value too long is ``value_too_long`` (ORA-20014), an empty one for a NOT NULL column
``missing_value`` (ORA-20015), each naming the column; Oracle's own ORA-12899/ORA-01400 map to
the same errors.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge import errors
from bridge.domain import column_sizes, enqueue_rules
from bridge.domain.column_sizes import BYTE, CHAR, Column
from bridge.domain.models import EnqueueRequest

EMOJI = "\N{GRINNING FACE}"  # one code point, two UTF-16 units, four UTF-8 bytes


@pytest.mark.parametrize(
    ("spec", "value", "length"),
    [
        (Column("VARCHAR2", 10, BYTE, True), "abc", 3),
        (Column("VARCHAR2", 10, BYTE, True), "é", 2),
        (Column("VARCHAR2", 10, BYTE, True), EMOJI, 4),
        (Column("VARCHAR2", 10, CHAR, True), "é", 1),
        (Column("VARCHAR2", 10, CHAR, True), EMOJI, 1),  # AL32UTF8: one character
        (Column("NVARCHAR2", 10, CHAR, True), EMOJI, 2),  # AL16UTF16: a surrogate pair
        (Column("NVARCHAR2", 10, CHAR, True), "é", 1),
    ],
)
def test_each_semantics_counts_its_own_unit(spec: Column, value: str, length: int) -> None:
    assert spec.length(value) == length


@pytest.mark.parametrize(
    ("spec", "value", "kept"),
    [
        (Column("VARCHAR2", 6, BYTE, True), "ab" + EMOJI, "ab" + EMOJI),
        (Column("VARCHAR2", 5, BYTE, True), "abc" + EMOJI, "abc"),  # not half an emoji
        (Column("VARCHAR2", 3, BYTE, True), "aéé", "aé"),
        (Column("VARCHAR2", 3, CHAR, True), EMOJI * 5, EMOJI * 3),
        (Column("NVARCHAR2", 3, CHAR, True), EMOJI * 5, EMOJI),  # never a lone surrogate
        (Column("NVARCHAR2", 4, CHAR, True), "a" + EMOJI * 5, "a" + EMOJI),
    ],
)
def test_fit_cuts_to_the_column_without_splitting_a_character(
    spec: Column, value: str, kept: str
) -> None:
    assert spec.fit(value) == kept
    assert spec.fits(kept)
    kept.encode("utf-8")  # a split surrogate pair would not encode


def test_check_names_the_column_and_its_limit() -> None:
    with pytest.raises(errors.ValueTooLongError) as caught:
        column_sizes.check("sms_outbound", {"correlation_key": "é" * 129, "now": 1})
    assert str(caught.value) == "correlation_key is too long: at most 128 characters"
    assert (caught.value.name, caught.value.number) == ("value_too_long", -20014)
    assert isinstance(caught.value, errors.ColumnValueError)
    assert caught.value.column == "correlation_key"
    with pytest.raises(
        errors.ValueTooLongError, match=r"^source_system is too long: at most 30 bytes$"
    ):
        column_sizes.check("sms_outbound", {"source_system": "é" * 16})  # 32 bytes
    column_sizes.check("sms_outbound", {"correlation_key": "é" * 128, "source_system": "x" * 30})


def test_an_empty_value_for_a_not_null_column_is_missing_unless_allowed() -> None:
    with pytest.raises(errors.MissingValueError) as caught:
        column_sizes.check("sms_api_keys", {"name": "", "key_prefix": "smsb_"})
    assert str(caught.value) == "name must not be empty"
    assert (caught.value.column, caught.value.number) == ("name", -20015)
    column_sizes.check("sms_api_keys", {"name": ""}, empty_ok=True)
    column_sizes.check("sms_outbound", {"reference": None, "correlation_key": ""})  # nullable


def test_problem_is_the_same_rule_in_words() -> None:
    assert column_sizes.problem("sms_contacts", "full_name", "é" * 200) is None
    assert column_sizes.problem("sms_contacts", "recipient_id", "") == "is empty"
    assert (
        column_sizes.problem("sms_contacts", "manager_email", "a" * 255)
        == "has 255 bytes; at most 254 fit"
    )


def test_the_fixed_columns_count_characters() -> None:
    # Issue 10: texts the APIs take in any script, now CHAR semantics in the DDL.
    for table, name in [
        ("sms_outbound", "correlation_key"),
        ("sms_inbound", "keyword"),
        ("sms_optouts", "keyword"),
        ("sms_keywords", "keyword"),
    ]:
        assert column_sizes.column(table, name).semantics == CHAR, (table, name)


def test_enqueue_lengths_are_the_columns() -> None:
    request = EnqueueRequest(
        sender_code="HR", body="hi", to_number="+14155550100", source_system="ERP"
    )
    enqueue_rules.check_lengths(replace(request, correlation_key="é" * 128))
    for name, value in [
        ("correlation_key", "k" * 129),
        ("reference", "r" * 101),
        ("recipient_id", "é" * 33),  # 66 bytes in VARCHAR2(64)
        ("sender_code", "S" * 31),
        ("created_by", "c" * 129),
    ]:
        too_long = replace(request, **{name: value})
        with pytest.raises(errors.ValueTooLongError) as caught:
            enqueue_rules.check_lengths(too_long)
        assert caught.value.column == name
    # The body is its own rule's (body_too_long names the limit SMS has), within the column.
    assert column_sizes.column("sms_outbound", "body").size >= enqueue_rules.MAX_BODY_CHARS
    enqueue_rules.check_lengths(replace(request, body="b" * 5000))


@pytest.mark.parametrize(
    ("code", "message", "error", "text"),
    [
        (
            "ORA-12899",
            'ORA-12899: value too large for column "APP"."SMS_OUTBOUND"."CORRELATION_KEY"'
            " (actual: 130, maximum: 128)\nHelp: https://docs.oracle.com/error-help/db/ora-12899/",
            errors.ValueTooLongError,
            "correlation_key is too long: at most 128 (the value has 130)",
        ),
        (
            "ORA-01400",
            'ORA-01400: cannot insert NULL into ("APP"."SMS_SENDERS"."DEFAULT_TIME_ZONE")',
            errors.MissingValueError,
            "default_time_zone must not be empty",
        ),
        (
            "ORA-01407",
            'ORA-01407: cannot update ("APP"."SMS_OUTBOUND"."BODY") to NULL',
            errors.MissingValueError,
            "body must not be empty",
        ),
    ],
)
def test_oracles_own_size_errors_map_to_the_named_ones(
    code: str, message: str, error: type[errors.SmsError], text: str
) -> None:
    mapped = column_sizes.from_oracle(code, message)
    assert isinstance(mapped, error) and str(mapped) == text
    assert column_sizes.from_oracle("ORA-00001", "ORA-00001: unique constraint") is None


def test_the_plsql_twins_map_back_with_their_column() -> None:
    mapped = errors.from_oracle(
        -20014, "ORA-20014: correlation_key is too long: at most 128 characters"
    )
    assert isinstance(mapped, errors.ValueTooLongError)
    assert mapped.column == "correlation_key"
