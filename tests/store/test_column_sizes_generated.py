"""bridge/domain/column_sizes.py holds the text columns of plsql/tables/*.sql, as generated.

Regenerate with ``python -m bridge.store.column_sizes --write``. The DDL is read twice: by the
generator (the installer's statement splitter and a small column reader) and, independently, by
sqlglot's Oracle dialect; both must agree with the committed table.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlglot
from sqlglot import exp

from bridge.domain import column_sizes
from bridge.domain.column_sizes import BYTE, CHAR, Column
from bridge.store import column_sizes as generator
from bridge.store.oracle_script import split_script

ROOT = Path(__file__).resolve().parents[2]
TABLES = ROOT / "plsql" / "tables"
MODULE = ROOT / "bridge" / "domain" / "column_sizes.py"


def test_the_committed_table_is_the_one_the_ddl_gives() -> None:
    committed = generator.committed_block(MODULE.read_text(encoding="utf-8"))
    rendered = generator.render(generator.read_tables())
    assert committed == rendered, f"{MODULE.name} is stale: run {generator.COMMAND}"
    assert generator.main(["--check"]) == 0


def test_the_table_in_memory_is_the_generated_one() -> None:
    assert generator.read_tables() == column_sizes.COLUMNS


def _sqlglot_reading() -> dict[str, dict[str, Column]]:
    """Every character column, read with sqlglot (type, size, CHAR/BYTE, NOT NULL / key)."""
    national = {exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR}
    text = national | {exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR}
    tables: dict[str, dict[str, Column]] = {}
    for path in sorted(TABLES.glob("*.sql")):
        for statement in split_script(path.read_text(encoding="utf-8"), str(path)):
            tree = sqlglot.parse_one(statement.text, read="oracle")
            if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
                continue
            key = {
                identifier.name.lower()
                for pk in tree.this.find_all(exp.PrimaryKey)
                for identifier in pk.find_all(exp.Identifier)
            }
            columns: dict[str, Column] = {}
            for item in tree.this.expressions:
                if not isinstance(item, exp.ColumnDef):
                    continue
                kind = item.args["kind"]
                if kind.this not in text:
                    continue
                (param,) = kind.expressions
                semantics = str(param.args.get("expression") or "").upper()
                not_null = any(
                    isinstance(c.args.get("kind"), exp.NotNullColumnConstraint)
                    and not c.args["kind"].args.get("allow_null")
                    for c in item.args.get("constraints") or []
                )
                columns[item.name.lower()] = Column(
                    type=kind.sql("oracle").split("(")[0].upper(),
                    size=int(param.this.name),
                    semantics=CHAR if kind.this in national or semantics == CHAR else BYTE,
                    nullable=not (not_null or item.name.lower() in key),
                )
            tables[tree.this.this.name.lower()] = columns
    return tables


def test_a_second_reading_of_the_ddl_agrees() -> None:
    assert _sqlglot_reading() == column_sizes.COLUMNS


def test_every_table_and_sized_text_column_is_there() -> None:
    assert set(column_sizes.COLUMNS) == {p.stem for p in TABLES.glob("*.sql")}
    assert column_sizes.column("sms_outbound", "status_reason") == Column(
        "VARCHAR2", 400, CHAR, nullable=True
    )
    assert column_sizes.column("sms_outbound", "body") == Column(
        "NVARCHAR2", 2000, CHAR, nullable=False
    )
    assert not column_sizes.column("sms_optouts", "scope").nullable  # NOT NULL and in the key


def test_a_changed_column_is_caught(tmp_path: Path) -> None:
    # Proof that the comparison is live: widen one column in a copy of the DDL.
    copy = tmp_path / "tables"
    shutil.copytree(TABLES, copy)
    ddl = copy / "sms_outbound.sql"
    text = ddl.read_text(encoding="utf-8")
    changed = text.replace("source_system    varchar2(30),", "source_system    varchar2(40 char),")
    assert changed != text
    ddl.write_text(changed, encoding="utf-8")
    tables = generator.read_tables(copy)
    assert tables["sms_outbound"]["source_system"] == Column("VARCHAR2", 40, CHAR, nullable=True)
    assert generator.render(tables) != generator.committed_block(MODULE.read_text("utf-8"))


def test_write_rewrites_only_the_block(tmp_path: Path) -> None:
    text = MODULE.read_text(encoding="utf-8")
    stale = text.replace(
        '"key_prefix": Column("VARCHAR2", 16,', '"key_prefix": Column("VARCHAR2", 1,'
    )
    assert stale != text
    assert generator.replaced(stale, generator.render(generator.read_tables())) == text
