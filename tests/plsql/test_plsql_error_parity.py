"""sms_err (plsql/packages/sms_err.pks/.pkb) declares exactly bridge.errors.ERROR_SPECS.

For each spec <name>: c_<name> constant = number, e_<name> exception with
pragma exception_init(e_<name>, number), m_<name> constant = message template; and
message_of maps c_<name> to m_<name>. Nothing more, nothing less.
"""

from __future__ import annotations

import re

from bridge.errors import ERROR_SPECS
from tests.plsql.helpers import PLSQL_DIR

SPEC = (PLSQL_DIR / "packages" / "sms_err.pks").read_text(encoding="utf-8")
BODY = (PLSQL_DIR / "packages" / "sms_err.pkb").read_text(encoding="utf-8")

NUMBERS = {
    m[1].lower(): int(m[2])
    for m in re.finditer(r"\bc_(\w+)\s+constant\s+pls_integer\s*:=\s*(-?\d+)\s*;", SPEC, re.I)
}
EXCEPTIONS = {m[1].lower() for m in re.finditer(r"\be_(\w+)\s+exception\s*;", SPEC, re.I)}
PRAGMAS = {
    m[1].lower(): int(m[2])
    for m in re.finditer(r"pragma\s+exception_init\s*\(\s*e_(\w+)\s*,\s*(-?\d+)\s*\)", SPEC, re.I)
}
MESSAGES = {
    m[1].lower(): m[2].replace("''", "'")
    for m in re.finditer(
        r"\bm_(\w+)\s+constant\s+varchar2\(\d+\)\s*:=\s*'((?:[^']|'')*)'\s*;", SPEC, re.I
    )
}
MAPPED = {
    (m[1].lower(), m[2].lower())
    for m in re.finditer(r"when\s+c_(\w+)\s+then\s+m_(\w+)", BODY, re.I)
}
EXPECTED_NUMBERS = {spec.name: spec.number for spec in ERROR_SPECS}


def test_numbers() -> None:
    assert NUMBERS == EXPECTED_NUMBERS


def test_exceptions_bound_to_the_same_numbers() -> None:
    assert set(EXPECTED_NUMBERS) == EXCEPTIONS
    assert PRAGMAS == EXPECTED_NUMBERS


def test_messages() -> None:
    assert {spec.name: spec.message for spec in ERROR_SPECS} == MESSAGES


def test_message_of_maps_every_number_to_its_message() -> None:
    assert {(name, name) for name in EXPECTED_NUMBERS} == MAPPED


def test_messages_fit_their_declaration() -> None:
    # m_ constants are varchar2(200): a longer message would fail at package initialisation.
    assert all(len(spec.message.encode("utf-8")) <= 200 for spec in ERROR_SPECS)
