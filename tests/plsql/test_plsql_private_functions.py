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
# A statement's text runs from the previous ";": skip the block keywords that may precede it.
_SQL_START = re.compile(
    r"^\s*(?:(?:begin|then|else|loop|is|as|declare|exception|when\s+[\w.]+\s+then)\s+)*"
    r"(insert|update|delete|merge|select|open\s+\w+\s+for)\b",
    re.I,
)
_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")


def private_functions(body: Path) -> set[str]:
    spec = body.with_suffix(".pks")
    public = set(_FUNCTION.findall(spec.read_text(encoding="utf-8"))) if spec.exists() else set()
    declared = set(_FUNCTION.findall(body.read_text(encoding="utf-8")))
    return {name.lower() for name in declared - public}


def sql_statements(body: Path) -> list[str]:
    text = _STRING.sub("''", _COMMENT.sub("", body.read_text(encoding="utf-8")))
    return [s for s in text.split(";") if _SQL_START.match(s)]


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


def test_the_check_finds_such_a_call(tmp_path: Path) -> None:
    (tmp_path / "p.pks").write_text("package p as procedure go; end p;", encoding="utf-8")
    body = tmp_path / "p.pkb"
    body.write_text(
        "package body p as\n function utc_now return timestamp is begin return null; end;\n"
        " procedure go is\n l_now timestamp := utc_now;\n begin\n"
        "  update t\n     set at = utc_now() where id = 1;\n end go;\nend p;\n",
        encoding="utf-8",
    )
    assert private_functions(body) == {"utc_now"}
    found = [s for s in sql_statements(body) if "utc_now" in s]
    assert len(found) == 1 and "update t" in found[0]
