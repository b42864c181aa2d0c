"""The Oracle contract suite empties the tables before each test in an order Oracle accepts.

tests/store/test_store_oracle.py deletes every table in TABLES_CHILD_FIRST, in that order; a
parent deleted before a child that still references it fails with ORA-02292, and a table left
out keeps rows from an earlier run (or from HR reminders committed in the same schema) that
either block a parent's delete or leak into the next test. This runs without Oracle: the
foreign keys come from the DDL under plsql/ (tests/plsql/helpers.oracle_schema), and the list
is read from the test module's source, which cannot be imported without an Oracle DSN (it
skips itself at import).
"""

from __future__ import annotations

import ast
from graphlib import TopologicalSorter
from pathlib import Path

import pytest

from tests.plsql.helpers import REPO, Table, oracle_schema

ORACLE_SUITE = REPO / "tests" / "store" / "test_store_oracle.py"

# Tables the reset keeps, with the reason.
KEPT = {
    "sms_schema_version": "the install's own row (db install merges it; the suite reads it)",
}


def listed_tables(path: Path = ORACLE_SUITE) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "TABLES_CHILD_FIRST" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list) and all(isinstance(v, str) for v in value)
            return value
    raise AssertionError(f"{path}: no TABLES_CHILD_FIRST = [...]")


def references(schema: dict[str, Table]) -> set[tuple[str, str]]:
    """(child, parent) of every foreign key between two tables (a self-reference is checked
    by Oracle at the end of the one DELETE, so it needs no order)."""
    return {
        (child, parent)
        for child, table in schema.items()
        for _, parent, _ in table.foreign_keys
        if parent != child
    }


def child_first(schema: dict[str, Table]) -> list[str]:
    """One valid delete order of every table, derived from the foreign keys alone."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name, table in sorted(schema.items()):
        if not table.is_view:
            sorter.add(name)
    for child, parent in sorted(references(schema)):
        sorter.add(parent, child)  # the parent comes after its child
    return list(sorter.static_order())


def order_problems(order: list[str], schema: dict[str, Table]) -> list[str]:
    tables = {name for name, table in schema.items() if not table.is_view}
    problems = [f"{name} is listed twice" for name in sorted(set(order)) if order.count(name) > 1]
    problems += [f"{name} is not a table of plsql/" for name in order if name not in tables]
    problems += [f"{name} is missing" for name in sorted(tables - set(order) - set(KEPT))]
    problems += [f"{name} must be kept ({KEPT[name]})" for name in order if name in KEPT]
    problems += [
        f"{child} (references {parent}) must come before {parent}"
        for child, parent in sorted(references(schema))
        if child in order and parent in order and order.index(child) > order.index(parent)
    ]
    return problems


@pytest.fixture(scope="module")
def schema() -> dict[str, Table]:
    return oracle_schema()


def test_the_oracle_suite_deletes_every_table_child_first(schema: dict[str, Table]) -> None:
    problems = order_problems(listed_tables(), schema)
    derived = [name for name in child_first(schema) if name not in KEPT]
    assert not problems, f"TABLES_CHILD_FIRST: {problems}; a valid order: {derived}"


def test_the_derived_order_is_valid_and_knows_the_hr_demo(schema: dict[str, Table]) -> None:
    derived = [name for name in child_first(schema) if name not in KEPT]
    assert order_problems(derived, schema) == []
    assert ("hr_demo_certifications", "sms_outbound") in references(schema)
    assert ("hr_demo_certifications", "sms_inbound") in references(schema)
    assert ("hr_demo_certifications", "hr_demo_employees") in references(schema)


def test_the_check_finds_what_broke_before(schema: dict[str, Table]) -> None:
    listed = listed_tables()
    without = [name for name in listed if name != "hr_demo_certifications"]
    assert order_problems(without, schema) == ["hr_demo_certifications is missing"]
    late = [*without, "hr_demo_certifications"]
    assert "hr_demo_certifications (references sms_outbound) must come before sms_outbound" in (
        order_problems(late, schema)
    )
    with_version = [*listed, "sms_schema_version"]
    assert any(
        p.startswith("sms_schema_version must be kept")
        for p in order_problems(with_version, schema)
    )


def test_the_list_is_read_from_the_source(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('import os\nTABLES_CHILD_FIRST = ["b", "a"]\nif not os: pass\n')
    assert listed_tables(module) == ["b", "a"]
