"""sms_api checks its text arguments as the bridge does, so a PL/SQL caller meets the same
named error (value_too_long, bad_batch_source) as the CLI and the REST API, never ORA-12899 or
ORA-02290.

enqueue/enqueue_number: sms_api.pkb check_lengths makes the checks of
bridge/domain/enqueue_rules.py check_lengths, in the same order (TEXT_COLUMNS), with the same
column names, units (LENGTH for a CHAR column, LENGTHB for a BYTE one) and limits as
bridge/domain/column_sizes.py, which is generated from plsql/tables/*.sql. begin_batch: the
source values of the sms_batches check constraint, and its texts against their columns.
"""

from __future__ import annotations

import re

from bridge.domain import column_sizes
from bridge.domain.batches import SOURCES
from bridge.domain.enqueue_rules import TEXT_COLUMNS
from tests.plsql.helpers import PLSQL_DIR, enumerations

BODY = (PLSQL_DIR / "packages" / "sms_api.pkb").read_text(encoding="utf-8")
_CHECK = re.compile(
    r"if\s+(lengthb?)\(p_(\w+)\)\s*>\s*(\d+)\s+then\s+"
    r"sms_err\.raise_error\(sms_err\.c_value_too_long,\s*'(\w+)',\s*'([^']*)'\)",
    re.I,
)


def _block(start: str, end: str) -> str:
    return BODY[BODY.index(start) : BODY.index(end)]


def _checks(block: str) -> list[tuple[str, str, int, str, str]]:
    return [(m[1].lower(), m[2], int(m[3]), m[4], m[5]) for m in _CHECK.finditer(block)]


def _unit_function(column: column_sizes.Column) -> str:
    return "length" if column.chars else "lengthb"


def test_enqueue_checks_every_text_as_the_bridge_does() -> None:
    found = _checks(_block("procedure check_lengths(", "end check_lengths;"))
    expected = []
    for name in TEXT_COLUMNS:
        column = column_sizes.column("sms_outbound", name)
        expected.append((_unit_function(column), name, column.size, name, column.limit))
    assert found == expected


def test_both_enqueue_functions_check_lengths_first() -> None:
    for start, end in (
        ("function enqueue(", "end enqueue;"),
        ("function enqueue_number(", "end enqueue_number;"),
    ):
        block = _block(start, end)
        begin = block.index("\n    begin\n")
        assert block.index("check_lengths(", begin) < block.index("sms_err.raise_error", begin)


def test_begin_batch_checks_its_texts_against_sms_batches() -> None:
    found = _checks(_block("function begin_batch(", "end begin_batch;"))
    expected = []
    for name in ("label", "created_by"):
        column = column_sizes.column("sms_batches", name)
        # Named by the column, as Store.create_batch's column_sizes.check names it.
        expected.append((_unit_function(column), name, column.size, name, column.limit))
    assert found == expected


def test_begin_batch_accepts_the_sources_of_the_check_constraint() -> None:
    block = _block("function begin_batch(", "end begin_batch;")
    match = re.search(
        r"if\s+l_source\s+not\s+in\s*\(([^)]*)\)\s+then\s+"
        r"sms_err\.raise_error\(sms_err\.c_bad_batch_source,\s*substr\(l_source,\s*1,\s*30\)\)",
        block,
        re.I,
    )
    assert match is not None
    accepted = frozenset(re.findall(r"'([^']*)'", match[1]))
    table = (PLSQL_DIR / "tables" / "sms_batches.sql").read_text(encoding="utf-8")
    assert accepted == enumerations(table)["source"] == frozenset(SOURCES)
    # The check comes before the insert (else ORA-02290 from the constraint).
    assert match.start() < block.index("insert into sms_batches")
