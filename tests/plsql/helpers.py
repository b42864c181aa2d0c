"""Paths and readers shared by the static checks of plsql/ (no database needed)."""

from __future__ import annotations

import re
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp

from bridge.store.oracle_script import install_files, split_script

REPO = Path(__file__).resolve().parents[2]
PLSQL_DIR = REPO / "plsql"
SQLITE_SCRIPTS = (
    REPO / "bridge" / "store" / "schema_sqlite.sql",
    REPO / "bridge" / "store" / "demo_sqlite.sql",
)
PLSQL_SUFFIXES = frozenset({".sql", ".pks", ".pkb"})
# The parser next to this interpreter: the venv's, not whatever is first on PATH.
PARSEORA = Path(sys.executable).parent / "parseora"

# Enumerated CHECK values: "<column> IN ('A', 'B', ...)" in either engine's DDL.
_IN_LIST = re.compile(r"\b(\w+)\s+IN\s*\(\s*('(?:[^']|'')*'(?:\s*,\s*'(?:[^']|'')*')*)\s*\)", re.I)
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


def plsql_files() -> list[Path]:
    """Every script under plsql/ (the parser and the conventions apply to all of them)."""
    return sorted(p for p in PLSQL_DIR.rglob("*") if p.is_file() and p.suffix in PLSQL_SUFFIXES)


def relative(path: Path) -> str:
    return path.relative_to(PLSQL_DIR).as_posix()


def enumerations(sql: str) -> dict[str, frozenset[str]]:
    """Column -> the values a CHECK (column IN (...)) allows, from one CREATE TABLE."""
    return {
        match.group(1).lower(): frozenset(v.replace("''", "'") for v in _QUOTED.findall(match[2]))
        for match in _IN_LIST.finditer(sql)
    }


@dataclass
class Table:
    """What the parity tests compare of one table or view, names lower-case."""

    columns: list[str]
    is_view: bool = False
    keys: set[tuple[str, ...]] = field(default_factory=set)  # primary and unique keys
    foreign_keys: set[tuple[tuple[str, ...], str, tuple[str, ...]]] = field(default_factory=set)
    checks: int = 0  # CHECK constraints (enumerations are compared by value, the rest counted)
    enums: dict[str, frozenset[str]] = field(default_factory=dict)
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # non-key indexes


def sqlite_schema(scripts: tuple[Path, ...] = SQLITE_SCRIPTS) -> dict[str, Table]:
    """The SQLite schema as SQLite itself reports it after running the install scripts."""
    conn = sqlite3.connect(":memory:")
    try:
        for script in scripts:
            conn.executescript(script.read_text(encoding="utf-8"))
        objects = conn.execute(
            "SELECT name, type, sql FROM sqlite_master"
            " WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        schema: dict[str, Table] = {}
        for name, kind, sql in objects:
            info = conn.execute(f"PRAGMA table_info({name})").fetchall()
            table = Table(columns=[row[1].lower() for row in info], is_view=kind == "view")
            schema[name.lower()] = table
            if table.is_view:
                continue
            pk = tuple(row[1].lower() for row in sorted(info, key=lambda r: r[5]) if row[5])
            if pk:
                table.keys.add(pk)
            for index_row in conn.execute(f"PRAGMA index_list({name})").fetchall():
                index_name, unique, origin = index_row[1], index_row[2], index_row[3]
                cols = tuple(r[2].lower() for r in conn.execute(f"PRAGMA index_info({index_name})"))
                if origin == "c" and not unique:
                    table.indexes[index_name.lower()] = cols
                elif unique:
                    table.keys.add(cols)
            fks: dict[int, list[tuple[str, str, str]]] = {}
            for fk in conn.execute(f"PRAGMA foreign_key_list({name})").fetchall():
                fks.setdefault(fk[0], []).append((fk[3].lower(), fk[2].lower(), fk[4].lower()))
            for parts in fks.values():
                table.foreign_keys.add(
                    (tuple(p[0] for p in parts), parts[0][1], tuple(p[2] for p in parts))
                )
            table.checks = len(re.findall(r"\bCHECK\b", sql, re.I))
            table.enums = enumerations(sql)
        return schema
    finally:
        conn.close()


def _names(node: exp.Expression | None) -> tuple[str, ...]:
    if node is None:
        return ()
    return tuple(i.name.lower() for i in node.find_all(exp.Identifier))


def oracle_schema(files: list[Path] | None = None) -> dict[str, Table]:
    """Tables and views the Oracle scripts create, read with sqlglot's Oracle dialect.

    Only CREATE TABLE / VIEW / INDEX statements are handed to sqlglot: PL/SQL is beyond it
    (parseora checks those), and the statements come from bridge.store.oracle_script, the splitter
    the installer itself uses.
    """
    files = install_files(PLSQL_DIR) if files is None else files
    schema: dict[str, Table] = {}
    for path in files:
        for statement in split_script(path.read_text(encoding="utf-8"), str(path)):
            head = " ".join(statement.text.split()[:6]).lower()
            if statement.plsql or not head.startswith("create"):
                continue
            if re.match(r"create (unique )?index ", head):
                _add_index(schema, statement.text)
                continue
            tree = sqlglot.parse_one(statement.text, read="oracle")
            if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
                continue
            kind = str(tree.args.get("kind", "")).upper()
            name = tree.this.this.name.lower()
            if kind == "VIEW":
                columns = [e.name.lower() for e in tree.this.expressions]
                schema[name] = Table(columns=columns, is_view=True)
            elif kind == "TABLE":
                schema[name] = _oracle_table(tree.this, statement.text)
    return schema


def _oracle_table(definition: exp.Schema, sql: str) -> Table:
    table = Table(columns=[])
    for item in definition.expressions:
        if isinstance(item, exp.ColumnDef):
            table.columns.append(item.name.lower())
            continue
        if not isinstance(item, exp.Constraint):
            continue
        for constraint in item.expressions:
            if isinstance(constraint, exp.PrimaryKey | exp.UniqueColumnConstraint):
                table.keys.add(_names(constraint))
            elif isinstance(constraint, exp.ForeignKey):
                target = constraint.args["reference"].this  # Schema(Table, [columns])
                table.foreign_keys.add(
                    (
                        tuple(e.name.lower() for e in constraint.expressions),
                        target.this.name.lower(),
                        tuple(e.name.lower() for e in target.expressions),
                    )
                )
            elif isinstance(constraint, exp.CheckColumnConstraint):
                table.checks += 1
    table.enums = enumerations(sql)
    return table


def _add_index(schema: dict[str, Table], sql: str) -> None:
    match = re.match(r"\s*create\s+(unique\s+)?index\s+(\w+)\s+on\s+(\w+)\s*\(([^)]*)\)", sql, re.I)
    if match is None:
        raise AssertionError(f"cannot read index statement: {sql[:80]!r}")
    unique, name, table, columns = match.groups()
    cols = tuple(c.strip().lower() for c in columns.split(","))
    if unique:
        schema[table.lower()].keys.add(cols)  # as SQLite's PRAGMA index_list reports it
    else:
        schema[table.lower()].indexes[name.lower()] = cols
