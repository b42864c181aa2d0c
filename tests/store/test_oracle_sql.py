"""The Oracle dialect's SQL parses with sqlglot's oracle dialect, and its URL handling."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ParseError

from bridge.errors import ConfigError
from bridge.store import inbound_store, queries
from bridge.store import oracle_dialect as od

ROOT = Path(__file__).resolve().parents[2]


def _all_oracle_sql() -> dict[str, str]:
    statements = {
        f"oracle_dialect.{n}": v.format(names=":n0, :n1")
        for n, v in vars(od).items()
        if n.endswith("_SQL") and isinstance(v, str)
    }
    statements.update(
        {
            f"queries.{n}": v
            for n, v in vars(queries).items()
            if n.isupper() and isinstance(v, str) and "{" not in v
        }
    )
    statements.update(
        {
            f"inbound_store.{n}": v
            for n, v in vars(inbound_store).items()
            if n.isupper() and isinstance(v, str) and "SELECT" in v and "{" not in v
        }
    )
    statements["inbound_store.BY_REFERENCE"] = inbound_store.BY_REFERENCE.format(codes=":c0, :c1")
    statements["queries.MOVE_STATUS"] = queries.MOVE_STATUS.format(allowed=":s0, :s1")
    statements["paged list"] = (
        f"SELECT * FROM sms_outbound WHERE status = :status ORDER BY id DESC {od.PAGE_CLAUSE}"
    )
    return statements


@pytest.mark.parametrize("name", sorted(_all_oracle_sql()))
def test_oracle_sql_parses(name: str) -> None:
    sql = _all_oracle_sql()[name]
    try:
        parsed = sqlglot.parse(sql, read="oracle")
    except ParseError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{name} does not parse as Oracle SQL: {exc}")
    assert len(parsed) == 1 and parsed[0] is not None


def test_claim_never_combines_row_limits_with_for_update() -> None:
    claim = od.CLAIM_SQL.upper()
    assert "FOR UPDATE SKIP LOCKED" in claim
    assert "ROWNUM" not in claim and "FETCH FIRST" not in claim and "FETCH NEXT" not in claim


def test_parse_url() -> None:
    target = od.parse_url("oracle://app@db.example.com:1522/ERPPDB", "pw")
    assert (target.user, target.password, target.dsn) == ("app", "pw", "db.example.com:1522/ERPPDB")
    assert od.parse_url("oracle://u:p%40ss@h/S").password == "p@ss"
    assert od.parse_url("oracle://u@h/S").dsn == "h:1521/S"
    with pytest.raises(ConfigError, match="service name"):
        od.parse_url("oracle://u@h:1521/")
    with pytest.raises(ConfigError, match="expected oracle://"):
        od.parse_url("oracle://h:1521/S")


def test_redact_url_hides_the_password() -> None:
    assert od.redact_url("oracle://u:secret@h:1521/S") == "oracle://u:********@h:1521/S"


# Oracle's reserved words (SQL Language Reference, "Oracle SQL Reserved Words"): as bind
# variable names they fail with ORA-01745 "invalid host/bind variable name", which neither
# SQLite nor sqlglot notices. :number did exactly that in the reply-threading queries.
_RESERVED_WORDS = """
ACCESS ADD ALL ALTER AND ANY AS ASC AUDIT BETWEEN BY CHAR CHECK CLUSTER COLUMN COMMENT
COMPRESS CONNECT CREATE CURRENT DATE DECIMAL DEFAULT DELETE DESC DISTINCT DROP ELSE
EXCLUSIVE EXISTS FILE FLOAT FOR FROM GRANT GROUP HAVING IDENTIFIED IMMEDIATE IN
INCREMENT INDEX INITIAL INSERT INTEGER INTERSECT INTO IS LEVEL LIKE LOCK LONG MAXEXTENTS
MINUS MLSLABEL MODE MODIFY NOAUDIT NOCOMPRESS NOT NOWAIT NULL NUMBER OF OFFLINE ON
ONLINE OPTION OR ORDER PCTFREE PRIOR PRIVILEGES PUBLIC RAW RENAME RESOURCE REVOKE ROW
ROWID ROWNUM ROWS SELECT SESSION SET SHARE SIZE SMALLINT START SUCCESSFUL SYNONYM
SYSDATE TABLE THEN TO TRIGGER UID UNION UNIQUE UPDATE USER VALIDATE VALUES VARCHAR
VARCHAR2 VIEW WHENEVER WHERE WITH
"""
ORACLE_RESERVED = frozenset(_RESERVED_WORDS.split())
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _string_binds(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.update(_BIND.findall(node.value))
    return names


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "bridge").rglob("*.py")) + sorted((ROOT / "inbound").rglob("*.py")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_bind_variable_is_an_oracle_reserved_word(path: Path) -> None:
    reserved = {name for name in _string_binds(path) if name.upper() in ORACLE_RESERVED}
    assert not reserved, f"{path.name}: bind names {sorted(reserved)} are reserved in Oracle"
