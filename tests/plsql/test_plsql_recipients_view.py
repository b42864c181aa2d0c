"""The default recipients view (demo/sms_recipients_v.sql) is a UNION ALL whose branches Oracle
accepts: each column is national text (NVARCHAR2/NCHAR/NCLOB) in every branch or in none, else
the view fails with ORA-12704 (character set mismatch) at install. Read from the DDL with
sqlglot's Oracle dialect; an explicit CAST gives the type of its branch's column.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from bridge.store.oracle_script import split_statements
from tests.plsql.helpers import PLSQL_DIR

NATIONAL = {exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR}
_CREATE_TABLE = re.compile(r"^\s*create\s+table\b", re.I | re.M)


def _column_types() -> dict[tuple[str, str], exp.DataType]:
    """(table, column) -> declared type, for every table under plsql/ (demo tables too)."""
    types: dict[tuple[str, str], exp.DataType] = {}
    for path in sorted(PLSQL_DIR.rglob("*.sql")):
        for statement in split_statements(path.read_text(encoding="utf-8")):
            if not _CREATE_TABLE.search(statement):
                continue  # PL/SQL blocks and the rest: sqlglot need not read them
            tree = sqlglot.parse_one(statement, read="oracle")
            if not (isinstance(tree, exp.Create) and tree.kind == "TABLE"):
                continue
            table = tree.find(exp.Table)
            assert table is not None
            for column in tree.find_all(exp.ColumnDef):
                kind = column.args.get("kind")
                if isinstance(kind, exp.DataType):
                    types[(table.name.lower(), column.name.lower())] = kind
    return types


def _is_national(kind: exp.DataType) -> bool:
    return kind.this in NATIONAL or kind.sql("oracle").upper().startswith("NCLOB")


def _branch_types(
    select: exp.Select, columns: dict[tuple[str, str], exp.DataType]
) -> list[exp.DataType]:
    # Only this branch's FROM and JOINs: a NOT EXISTS subquery may reuse an alias.
    sources = [select.args["from_"].this, *(j.this for j in select.args.get("joins") or [])]
    tables = {t.alias_or_name.lower(): t.name.lower() for t in sources if isinstance(t, exp.Table)}
    found: list[exp.DataType] = []
    for item in select.expressions:
        item = item.unalias()
        if isinstance(item, exp.Cast):
            found.append(item.to)
        elif isinstance(item, exp.Column):
            found.append(columns[(tables[item.table.lower()], item.name.lower())])
        else:  # pragma: no cover - the view's convention: a column or a CAST
            raise AssertionError(f"{item.sql('oracle')}: not a column or a CAST")
    return found


def test_every_column_of_the_default_view_has_one_character_set_in_all_branches() -> None:
    path = PLSQL_DIR / "demo" / "sms_recipients_v.sql"
    (statement,) = split_statements(path.read_text(encoding="utf-8"))
    view = sqlglot.parse_one(statement, read="oracle")
    assert isinstance(view, exp.Create)
    columns = _column_types()
    branches: list[exp.Select] = []
    query = view.expression
    while isinstance(query, exp.Union):
        assert not query.args.get("distinct"), "UNION ALL: a recipient is one row already"
        assert isinstance(query.expression, exp.Select)
        branches.insert(0, query.expression)
        query = query.this
    assert isinstance(query, exp.Select)
    branches.insert(0, query)
    assert len(branches) == 4  # the demo employees, Fineract clients and staff, sms_contacts
    types = [_branch_types(b, columns) for b in branches]
    assert len({len(t) for t in types}) == 1
    for position, kinds in enumerate(zip(*types, strict=True), start=1):
        national = {_is_national(k) for k in kinds}
        assert len(national) == 1, (
            f"column {position}: {[k.sql('oracle') for k in kinds]} mix VARCHAR2 and "
            "NVARCHAR2 (ORA-12704 in UNION ALL): CAST or TO_NCHAR one side"
        )
