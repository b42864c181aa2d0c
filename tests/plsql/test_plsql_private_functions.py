"""A function declared only in a package body cannot be called from a SQL statement.

Oracle refuses it at compile time (PLS-00231 "function may not be used in SQL"), so the body
is invalid and ``db install`` fails on USER_ERRORS; a PL/SQL parser accepts it. This check finds
such calls by statement: split on ``;``, keep the SQL ones (INSERT, UPDATE, DELETE, MERGE,
SELECT, OPEN ... FOR), and look for a private function's name in them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.plsql.helpers import PLSQL_DIR, relative

_FUNCTION = re.compile(r"^\s*function\s+(\w+)", re.I | re.M)
# The SQL of a statement: from its first SQL keyword (whatever PL/SQL precedes it: "if ...
# then", "for r in (", "cursor c is", "begin") to the end of the statement or, for a cursor FOR
# loop, to its "loop" (what follows is PL/SQL again).
_SQL_KEYWORD = re.compile(
    r"\b(insert\s+into|update\s+\w+\s+set|delete\s+from|merge\s+into|select)\b", re.I
)
_LOOP = re.compile(r"\bloop\b", re.I)
_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")


def private_functions(body: Path) -> set[str]:
    spec = body.with_suffix(".pks")
    public = set(_FUNCTION.findall(spec.read_text(encoding="utf-8"))) if spec.exists() else set()
    declared = set(_FUNCTION.findall(body.read_text(encoding="utf-8")))
    return {name.lower() for name in declared - public}


def sql_statements(body: Path) -> list[str]:
    text = _STRING.sub("''", _COMMENT.sub("", body.read_text(encoding="utf-8")))
    found = []
    for statement in text.split(";"):
        start = _SQL_KEYWORD.search(statement)
        if start is None:
            continue
        sql = statement[start.start() :]
        loop = _LOOP.search(sql)
        found.append(sql[: loop.start()] if loop else sql)
    return found


BODIES = sorted(PLSQL_DIR.rglob("*.pkb"))


@pytest.mark.parametrize("body", BODIES, ids=relative)
def test_no_private_function_is_called_from_sql(body: Path) -> None:
    private = private_functions(body)
    offending = [
        (name, " ".join(statement.split())[:80])
        for statement in sql_statements(body)
        for name in private
        if re.search(rf"\b{name}\b", statement, re.I)
    ]
    assert not offending, f"{relative(body)}: body-only functions used in SQL: {offending}"


@pytest.mark.parametrize(
    "statement",
    [
        "update t\n     set at = utc_now() where id = 1",
        "if p_x is null then\n insert into t (at) values (utc_now)",
        "for r in (select id from t where at < utc_now) loop\n null",
        "cursor c is select utc_now from dual",
        "merge into t using (select 1 x from dual) s on (t.x = s.x)"
        " when not matched then insert (at) values (utc_now)",
    ],
)
def test_the_check_finds_such_a_call(tmp_path: Path, statement: str) -> None:
    (tmp_path / "p.pks").write_text("package p as procedure go; end p;", encoding="utf-8")
    body = tmp_path / "p.pkb"
    body.write_text(
        "package body p as\n function utc_now return timestamp is begin return null; end;\n"
        " procedure go is\n l_now timestamp := utc_now;\n begin\n"
        f"  {statement};\n end go;\nend p;\n",
        encoding="utf-8",
    )
    assert private_functions(body) == {"utc_now"}
    found = [sql for sql in sql_statements(body) if "utc_now" in sql]
    assert len(found) == 1  # the SQL, not the PL/SQL assignment l_now := utc_now


def test_pl_sql_after_a_cursor_loop_is_not_sql(tmp_path: Path) -> None:
    body = tmp_path / "q.pkb"
    body.write_text(
        "package body q as\n procedure go is begin\n"
        "  for r in (select id from t) loop l_at := utc_now;\n end loop;\n end go;\nend q;\n",
        encoding="utf-8",
    )
    assert not [sql for sql in sql_statements(body) if "utc_now" in sql]
