"""bridge.store.oracle_script.split_statements: the plsql/ script convention, table-driven.

Every valid case is also split by parseora (which splits the way SQL*Plus runs a script), and
the two must agree on the number and kinds of statements; so must every file under plsql/.
"""

from __future__ import annotations

from pathlib import Path

import parseora
import pytest

from bridge.store.oracle_script import ScriptError, split_script, split_statements
from tests.plsql.helpers import plsql_files, relative

PACKAGE = """create or replace package p as
    c_sep constant varchar2(1) := ';';
end p;
/
"""

# (id, script, expected statements, expected kinds: True = PL/SQL unit)
VALID: list[tuple[str, str, list[str], list[bool]]] = [
    ("one sql", "create table t (x number);\n", ["create table t (x number)"], [False]),
    ("no final newline", "create table t (x number);", ["create table t (x number)"], [False]),
    (
        "comments and blank lines between statements are dropped",
        "-- header\n\n/* a; block\n/\n*/\ncreate table t (x number);\n\n"
        "-- next\ninsert into t values (1);\n",
        ["create table t (x number)", "insert into t values (1)"],
        [False, False],
    ),
    (
        "comments inside a statement are kept",
        "select 1 -- not the end;\n  from dual;\n",
        ["select 1 -- not the end;\n  from dual"],
        [False],
    ),
    (
        "a comment may follow the semicolon",
        "select 1 from dual; -- done\nselect 2 from dual;  /* done */\n",
        ["select 1 from dual", "select 2 from dual"],
        [False, False],
    ),
    (
        "semicolon and slash inside a string",
        "insert into t values ('a;\n/\nb');\n",
        ["insert into t values ('a;\n/\nb')"],
        [False],
    ),
    (
        "escaped quote",
        "insert into t values ('it''s;');\n",
        ["insert into t values ('it''s;')"],
        [False],
    ),
    (
        "q-quoted literal",
        "insert into t values (q'[x'; ]\n/\n]');\ninsert into t values (nQ'{;}');\n",
        ["insert into t values (q'[x'; ]\n/\n]')", "insert into t values (nQ'{;}')"],
        [False, False],
    ),
    (
        "quoted identifier",
        'create table "a;b" (x number);\n',
        ['create table "a;b" (x number)'],
        [False],
    ),
    ("division", "select 4 / 2 from dual;\n", ["select 4 / 2 from dual"], [False]),
    (
        "package keeps its final semicolon",
        PACKAGE,
        ["create or replace package p as\n    c_sep constant varchar2(1) := ';';\nend p;"],
        [True],
    ),
    (
        "editionable package body, slash with spaces, then sql",
        "create or replace editionable package body p as\nend p;\n  /  \n"
        "grant execute on p to app;\n",
        ["create or replace editionable package body p as\nend p;", "grant execute on p to app"],
        [True, False],
    ),
    (
        "slash line inside a PL/SQL string and comment",
        "begin\n    x := '\n/\n';\n    /*\n/\n*/\n    null;\nend;\n/\n",
        ["begin\n    x := '\n/\n';\n    /*\n/\n*/\n    null;\nend;"],
        [True],
    ),
    (
        "anonymous blocks",
        "declare\n    n number;\nbegin\n    null;\nend;\n/\nbegin null; end;\n/\n",
        ["declare\n    n number;\nbegin\n    null;\nend;", "begin null; end;"],
        [True, True],
    ),
    (
        "every kind of unit",
        "create procedure a is begin null; end;\n/\n"
        "create or replace function b return number is begin return 1; end;\n/\n"
        "create or replace noneditionable trigger c before insert on t begin null; end;\n/\n"
        "create or replace type d as object (x number);\n/\n",
        [
            "create procedure a is begin null; end;",
            "create or replace function b return number is begin return 1; end;",
            "create or replace noneditionable trigger c before insert on t begin null; end;",
            "create or replace type d as object (x number);",
        ],
        [True, True, True, True],
    ),
    (
        "views and sequences are SQL",
        "create or replace force view v as select 1 x from dual;\ncreate sequence s;\n",
        ["create or replace force view v as select 1 x from dual", "create sequence s"],
        [False, False],
    ),
    (
        "set transaction is SQL",
        "set transaction read only;\n",
        ["set transaction read only"],
        [False],
    ),
    (
        "windows line ends",
        "create table t (x number);\r\nbegin\r\n  null;\r\nend;\r\n/\r\n",
        ["create table t (x number)", "begin\r\n  null;\r\nend;"],
        [False, True],
    ),
    ("only comments", "-- nothing\n/* here */\n\n", [], []),
]

# (id, script, part of the message)
INVALID: list[tuple[str, str, str]] = [
    ("sqlplus set", "set serveroutput on\nselect 1 from dual;\n", "x.sql:1: SQL*Plus command SET"),
    ("prompt", "prompt hello;\n", "SQL*Plus command PROMPT"),
    ("spool", "\nspool out.log\n", "x.sql:2: SQL*Plus command SPOOL"),
    ("run a file", "@other.sql\n", "SQL*Plus command '@'"),
    ("remark", "rem note\n", "SQL*Plus command REM"),
    ("sql without semicolon", "select 1 from dual\n", "x.sql:1: the SQL statement starting here"),
    ("unit without slash", PACKAGE.replace("/\n", ""), "does not end with a line holding only '/'"),
    ("slash after sql", "create table t (x number);\n/\n", "x.sql:2: '/' line without a PL/SQL"),
    ("sql ended by slash", "select 1 from dual\n/\n", "'/' line ends a SQL statement"),
    ("two statements on a line", "select 1 from dual; select 2 from dual;\n", "must end its line"),
    ("empty statement", "select 1 from dual;\n;\n", "x.sql:2: ';' without a statement"),
    ("open string", "select 'x from dual;\n", "x.sql:1: string literal is never closed"),
    ("open comment", "select 1 from dual;\n/* x\n", "x.sql:2: comment '/*' is never closed"),
    ("open q-quote", "select q'[x' from dual;\n", "q-quoted literal is never closed"),
]


@pytest.mark.parametrize(
    ("script", "expected", "kinds"), [c[1:] for c in VALID], ids=[c[0] for c in VALID]
)
def test_valid_scripts(script: str, expected: list[str], kinds: list[bool]) -> None:
    assert split_statements(script) == expected
    assert [s.plsql for s in split_script(script)] == kinds


@pytest.mark.parametrize(
    ("script", "expected", "kinds"), [c[1:] for c in VALID], ids=[c[0] for c in VALID]
)
def test_valid_scripts_split_like_parseora(
    script: str, expected: list[str], kinds: list[bool]
) -> None:
    items = parseora.split(script)
    assert [item["kind"] == "plsql" for item in items] == kinds


@pytest.mark.parametrize(
    ("script", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_scripts(script: str, message: str) -> None:
    with pytest.raises(ScriptError) as raised:
        split_statements(script, "x.sql")
    assert message in str(raised.value)


def test_statement_lines() -> None:
    script = "-- one\n\ncreate table t (x number);\n" + PACKAGE
    assert [s.line for s in split_script(script)] == [3, 4]


@pytest.mark.parametrize("path", plsql_files(), ids=relative)
def test_every_plsql_file_splits_like_parseora(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    items = parseora.split(text)
    assert not [i for i in items if i["kind"] == "sqlplus"], "SQL*Plus command in a plsql/ file"
    statements = split_script(text, relative(path))
    assert len(statements) == len(items)
    assert [s.plsql for s in statements] == [i["kind"] == "plsql" for i in items]
    for statement in statements:
        # python-oracledb rejects a SQL statement's ';'; a PL/SQL unit keeps its "END x;".
        assert statement.text.endswith(";") == statement.plsql, statement.text[-60:]
        assert not statement.text.endswith("/")
