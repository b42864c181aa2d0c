"""The rules of a contacts file and of one contact (bridge/domain/contacts.py), no database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.domain.contacts import (
    COLUMN_SIZES,
    CSV_COLUMNS,
    HEADER,
    REQUIRED_COLUMNS,
    Contact,
    read_contacts,
    size_problems,
)

ROOT = Path(__file__).resolve().parents[2]
HEAD = ",".join(HEADER)
GOOD = "CONTACT,42,Ann,+14155550142,,\n"


def problems(text: str, region: str = "US") -> list[str]:
    return [str(p) for p in read_contacts(text, region).problems]


def test_a_good_file_gives_its_contacts_normalised() -> None:
    text = (
        "\ufeff Mobile ,TYPE,id,name,time_zone,manager_email\r\n"  # a BOM, any order and case
        '06 12 34 56 11,contact, 7 ,"Martin, Lucie",Europe/Paris,boss@example.fr\r\n'
        "\r\n"  # blank lines are skipped
        "+33 6 12 34 56 12,Staff,7,,,\r\n"
    )
    found = read_contacts(text, "FR")
    assert found.problems == ()
    assert found.contacts == (
        Contact("CONTACT", "7", "Martin, Lucie", "+33612345611", "Europe/Paris", "boss@example.fr"),
        Contact("STAFF", "7", None, "+33612345612", None, None),  # empty means none
    )


def test_the_default_region_reads_numbers_without_a_country_code() -> None:
    assert read_contacts(f"{HEAD}\nCONTACT,1,,(415) 555-0142,,\n", "US").contacts[
        0
    ].mobile_number == ("+14155550142")
    assert problems(f"{HEAD}\nCONTACT,1,,06 12 34 56 11,,\n", "US") == [
        "line 2: mobile: not a valid number for its region (read in region US)"
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (",42,Ann,+14155550142,,", "type: is empty"),
        ("MY TYPE,42,Ann,+14155550142,,", "type: 'MY TYPE' is not letters, digits, '_' or '-'"),
        ("T" * 31 + ",42,Ann,+14155550142,,", "type: has 31 bytes; at most 30 fit"),
        ("CONTACT, ,Ann,+14155550142,,", "id: is empty"),
        ("CONTACT," + "1" * 65 + ",Ann,+14155550142,,", "id: has 65 bytes; at most 64 fit"),
        # VARCHAR2(64) without CHAR: bytes count, 33 characters of 2 bytes do not fit.
        ("CONTACT," + "é" * 33 + ",Ann,+14155550142,,", "id: has 66 bytes; at most 64 fit"),
        ("CONTACT,42," + "n" * 201 + ",+14155550142,,", "name: has 201 characters; at most 200"),
        ("CONTACT,42,Ann,,,", "mobile: is empty"),
        ("CONTACT,42,Ann,call me,,", "mobile: unparsable number"),
        ("CONTACT,42,Ann,+44 20 7946 0018,,", "mobile: +4420******18 is a fixed line"),
        ("CONTACT,42,Ann,+14155550142,Mars/Base,", "time_zone: 'Mars/Base' is not a known"),
        ("CONTACT,42,Ann,+14155550142,europe/paris,", "time_zone: 'europe/paris' is not"),
        ("CONTACT,42,Ann,+14155550142,,boss", "manager_email: 'boss' is not an email address"),
        ("CONTACT,42,Ann,+14155550142,,a@b", "manager_email: 'a@b' is not an email address"),
        ('CONTACT,42,"A\tnn",+14155550142,,', "name: holds a control character"),
        ("CONTACT,42,Ann,+14155550142", "row: 4 fields; the header has 6"),
    ],
)
def test_a_bad_row_is_named_by_line_and_column(row: str, expected: str) -> None:
    found = read_contacts(f"{HEAD}\n{GOOD}{row}\n{GOOD.replace('42', '43')}", "US")
    assert len(found.problems) == 1, found.problems
    assert str(found.problems[0]).startswith(f"line 3: {expected}")
    assert len(found.contacts) == 2  # the good rows around it are still read


def test_a_name_of_200_characters_fits_whatever_their_bytes() -> None:
    # VARCHAR2(200 CHAR): characters count, not the 400 bytes they take in UTF-8.
    found = read_contacts(f"{HEAD}\nCONTACT,42,{'é' * 200},+14155550142,,\n", "US")
    assert found.problems == () and found.contacts[0].full_name == "é" * 200


def test_lines_are_those_of_the_file_even_after_a_quoted_line_break() -> None:
    text = f'{HEAD}\nCONTACT,1,"two\nlines",+14155550141,,\n\nCONTACT,2,,nope,,\n'
    assert problems(text) == [
        "line 2: name: holds a control character",  # a line break is one
        "line 5: mobile: unparsable number: The string supplied did not seem to be a phone number.",
    ]


def test_a_pair_may_appear_once_whatever_the_case_of_its_type() -> None:
    rows = [
        "CONTACT,42,A,+14155550141,,",
        "STAFF,42,B,+14155550142,,",
        "contact,42,C,+14155550143,,",
    ]
    text = "\n".join([HEAD, *rows])
    assert problems(text) == ["line 4: id: CONTACT 42 is already on line 2"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "the file is empty; the first line must be " + HEAD),
        ("type,id,name,mobile,time_zone", "missing manager_email (expected " + HEAD + ")"),
        (HEAD + ",email", "unknown 'email' (expected "),
        (HEAD + ",id", "repeated id (expected "),
    ],
)
def test_the_header_is_line_1(header: str, expected: str) -> None:
    found = read_contacts(header + "\n" + GOOD, "US")
    assert len(found.problems) == 1 and found.contacts == ()
    assert str(found.problems[0]).startswith("line 1: header: " + expected)


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    text = f"{HEAD}\nCONTACT,1,,x,,\n{GOOD}CONTACT,2,,+14155550142,Nowhere,\n"
    assert [(p.line, p.field) for p in read_contacts(text, "US").problems] == [
        (2, "mobile"),
        (4, "time_zone"),
    ]


def test_size_problems_checks_what_the_store_binds() -> None:
    assert size_problems(Contact("CONTACT", "1", "é" * 200, "+14155550142")) == []
    assert size_problems(Contact("", "1", None, "")) == [
        ("recipient_type", "is empty"),
        ("mobile_number", "is empty"),
    ]
    assert size_problems(Contact("CONTACT", "1", None, "+1", manager_email="a" * 255)) == [
        ("manager_email", "has 255 bytes; at most 254 fit")
    ]


def test_sizes_are_those_of_the_oracle_ddl() -> None:
    # The store checks values against COLUMN_SIZES before binding, and the Oracle dialect
    # sizes its binds with them: they must be the columns of plsql/tables/sms_contacts.sql.
    ddl = (ROOT / "plsql" / "tables" / "sms_contacts.sql").read_text(encoding="utf-8")
    columns = {
        name: (int(size), bool(chars), bool(not_null))
        for name, size, chars, not_null in re.findall(
            r"^\s+(\w+)\s+varchar2\((\d+)( char)?\)\s*(not null)?", ddl, re.M | re.I
        )
    }
    assert columns == {
        name: (spec.size, spec.chars, name in REQUIRED_COLUMNS)
        for name, spec in COLUMN_SIZES.items()
    }
    assert set(CSV_COLUMNS.values()) == set(COLUMN_SIZES) and tuple(CSV_COLUMNS) == HEADER
