"""The Oracle dialect's SQL parses with sqlglot's oracle dialect, and its URL handling."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot.errors import ParseError

from bridge.errors import ConfigError
from bridge.store import oracle_dialect as od
from bridge.store import queries


def _all_oracle_sql() -> dict[str, str]:
    statements = {
        f"oracle_dialect.{n}": v
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
