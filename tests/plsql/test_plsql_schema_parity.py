"""The SQLite schema (bridge/store/*.sql) and the Oracle DDL (plsql/) declare the same objects.

SQLite is read as SQLite reports it (PRAGMA table_info and friends, after running the scripts);
the Oracle DDL is read with sqlglot's Oracle dialect from the statements the installer runs
(install.txt through bridge.store.oracle_script), and cross-checked with parseora's catalog.
Compared, names case-insensitive: tables and views; their columns, in order; primary and unique
keys; foreign keys; the values of enumerated CHECKs (column IN (...)) and the number of CHECK
constraints; and the named non-key indexes.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.plsql.helpers import (
    PARSEORA,
    PLSQL_DIR,
    SQLITE_SCRIPTS,
    Table,
    oracle_schema,
    sqlite_schema,
)

# CHECK constraints only the Oracle side has, with the reason. Each one is counted off the
# Oracle total before the totals are compared.
ORACLE_ONLY_CHECKS: dict[str, dict[str, str]] = {}

# Columns parseora's catalog is known to miss, with the reason; compared without them.
CATALOG_MISREPORTS = {
    ("sms_optouts", "scope"): "qivo-parseora 0.1.8's catalog takes a column named SCOPE for a "
    "REF column's SCOPE clause and drops it; Oracle accepts SCOPE (a non-reserved keyword) as a "
    "column name, and parseora's own parse of the file reports no error",
}

SQLITE = sqlite_schema()
ORACLE = oracle_schema()


def test_same_tables_and_views() -> None:
    sqlite = {name: t.is_view for name, t in SQLITE.items()}
    oracle = {name: t.is_view for name, t in ORACLE.items()}
    assert oracle == sqlite


@pytest.mark.parametrize("name", sorted(SQLITE))
def test_same_columns(name: str) -> None:
    assert name in ORACLE, f"{name} is in the SQLite schema only"
    assert ORACLE[name].columns == SQLITE[name].columns


@pytest.mark.parametrize("name", sorted(n for n, t in SQLITE.items() if not t.is_view))
def test_same_keys_and_constraints(name: str) -> None:
    sqlite, oracle = SQLITE[name], ORACLE[name]
    assert oracle.keys == sqlite.keys, "primary/unique keys differ"
    assert oracle.foreign_keys == sqlite.foreign_keys, "foreign keys differ"
    assert oracle.enums == sqlite.enums, "enumerated CHECK values differ"
    extra = len(ORACLE_ONLY_CHECKS.get(name, {}))
    assert oracle.checks - extra == sqlite.checks, "number of CHECK constraints differs"


@pytest.mark.parametrize("name", sorted(n for n, t in SQLITE.items() if not t.is_view))
def test_same_indexes(name: str) -> None:
    assert ORACLE[name].indexes == SQLITE[name].indexes


def test_ready_set_index() -> None:
    # The claim depends on this exact column order: ORDER BY priority, id follows the index
    # (no sort of the waiting rows; bench/claim_scaling), next_attempt_at filtered from it.
    assert ORACLE["sms_outbound"].indexes["sms_outbound_ready_ix"] == (
        "status",
        "sender_code",
        "priority",
        "id",
        "next_attempt_at",
    )


def test_oracle_only_checks_exist() -> None:
    for table, checks in ORACLE_ONLY_CHECKS.items():
        text = (PLSQL_DIR / "tables" / f"{table}.sql").read_text(encoding="utf-8")
        for name in checks:
            assert f"constraint {name} check" in text


def test_ebs_view_has_the_default_views_columns() -> None:
    ebs = oracle_schema([PLSQL_DIR / "views" / "sms_recipients_v_ebs.sql"])
    assert ebs["sms_recipients_v"].columns == ORACLE["sms_recipients_v"].columns


def test_ebs_phones_view_has_the_default_views_columns() -> None:
    ebs = oracle_schema([PLSQL_DIR / "views" / "sms_recipient_phones_v_ebs.sql"])
    assert ebs["sms_recipient_phones_v"].columns == ORACLE["sms_recipient_phones_v"].columns
    assert ORACLE["sms_recipient_phones_v"].columns == [
        "recipient_type",
        "recipient_id",
        "phone_number",
        "phone_type",
        "preference",
    ]


def test_parseora_catalog_agrees() -> None:
    # A second, independent reading of the same DDL: parseora's catalog of created objects.
    paths = [str(p) for p in sorted((PLSQL_DIR / "tables").glob("*.sql"))]
    paths += [str(p) for p in sorted((PLSQL_DIR / "demo").glob("*.sql"))]
    result = subprocess.run(
        [str(PARSEORA), "catalog", *paths], capture_output=True, text=True, check=True, timeout=60
    )
    catalog: dict[str, list[str]] = {}
    current: list[str] = []
    for line in result.stdout.splitlines():
        header = re.match(r"(TABLE|VIEW) (?:\w+\.)?(\w+)$", line)
        if header:
            current = catalog.setdefault(header[2].lower(), [])
        elif line.startswith("    ") and line.strip():
            current.append(line.split()[0].lower())
    expected = {
        name: [c for c in t.columns if (name, c) not in CATALOG_MISREPORTS]
        for name, t in ORACLE.items()
    }
    catalog = {
        name: [c for c in columns if (name, c) not in CATALOG_MISREPORTS]
        for name, columns in catalog.items()
    }
    assert catalog == expected


def _columns_of(sqlite: dict[str, Table], oracle: dict[str, Table]) -> dict[str, object]:
    return {
        name: (sqlite.get(name, Table([])).columns, oracle.get(name, Table([])).columns)
        for name in set(sqlite) | set(oracle)
    }


@pytest.mark.parametrize("side", ["sqlite", "oracle"])
def test_a_column_on_one_side_only_is_caught(side: str, tmp_path: Path) -> None:
    # Proof that the comparison above is live: add a column to one engine's copy of
    # sms_outbound and the two readings must differ.
    if side == "sqlite":
        schema = SQLITE_SCRIPTS[0].read_text(encoding="utf-8")
        changed = schema.replace(
            "final_at         TEXT,", "final_at         TEXT,\n    extra_col TEXT,", 1
        )
        assert changed != schema
        (tmp_path / "schema.sql").write_text(changed, encoding="utf-8")
        sqlite = sqlite_schema((tmp_path / "schema.sql", SQLITE_SCRIPTS[1]))
        oracle = ORACLE
    else:
        ddl = (PLSQL_DIR / "tables" / "sms_outbound.sql").read_text(encoding="utf-8")
        changed = ddl.replace(
            "final_at         timestamp(6),", "final_at timestamp(6),\n    extra_col number,", 1
        )
        assert changed != ddl
        (tmp_path / "sms_outbound.sql").write_text(changed, encoding="utf-8")
        sqlite = SQLITE
        oracle = {**ORACLE, **oracle_schema([tmp_path / "sms_outbound.sql"])}
    columns = _columns_of(sqlite, oracle)
    assert columns["sms_outbound"][0] != columns["sms_outbound"][1]
    assert "extra_col" in columns["sms_outbound"][0 if side == "sqlite" else 1]
