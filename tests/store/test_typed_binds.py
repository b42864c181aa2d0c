"""Every bind that Oracle would type from itself is typed in the SQL (tests/store/sql_checks.py).

Static half: every SQL string literal in bridge/ (and the module constants of bridge.store that
are composed from several literals). The run-time half wraps every statement the store runs
during the suite (tests/conftest.py); its own behaviour is checked at the end of this file.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bridge.store
from bridge.config import DatabaseSettings
from bridge.domain.models import EnqueueRequest, Sender
from bridge.store import open_store, queries
from bridge.store.sqlite_dialect import SQLiteTx, to_db
from tests.store import sql_checks

ROOT = Path(__file__).resolve().parents[2]
_STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|MERGE|WITH)\b", re.I)
_FIELD = re.compile(r"\{(\w+)\}")  # a str.format field: IN ({allowed}), IN ({codes}), ...


def _fill(template: str) -> str:
    return _FIELD.sub(lambda m: f":{m[1]}_0, :{m[1]}_1", template)


def _labels(tree: ast.Module) -> dict[int, str]:
    """id(string node) -> the name it is assigned to, or the dict key it is the value of."""
    labels: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if names and node.value is not None:
                labels[id(node.value)] = names[0]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant):
                    labels[id(value)] = repr(key.value)
    return labels


def _docstrings(tree: ast.Module) -> set[int]:
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def bridge_statements() -> dict[str, str]:
    """'file: NAME' (or 'file: line N') -> SQL, for every SQL string literal in bridge/.

    f-strings are left to the run-time layer, which sees the statement they make.
    """
    found: dict[str, str] = {}
    for path in sorted((ROOT / "bridge").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        labels, docstrings = _labels(tree), _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                for part in node.values:  # their literal parts are not statements
                    docstrings.add(id(part))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and _STATEMENT.match(node.value)
            ):
                label = labels.get(id(node), f"line {node.lineno}")
                found[f"{path.relative_to(ROOT)}: {label}"] = _fill(node.value)
    seen = set(found.values())
    for info in pkgutil.iter_modules(bridge.store.__path__, "bridge.store."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            composed = isinstance(value, str) and _STATEMENT.match(value) and _fill(value)
            if name.isupper() and composed and composed not in seen:  # A + f"..." and the like
                path = Path(module.__file__ or "").relative_to(ROOT)
                found[f"{path}: {name}"] = composed
    return found


STATEMENTS = bridge_statements()


def test_the_statements_of_every_store_module_are_collected() -> None:
    names = set(STATEMENTS)
    for expected in (
        "bridge/store/queries.py: MOVE_STATUS",
        "bridge/store/queries.py: REQUEUE",
        "bridge/store/queries.py: FINALIZE",
        "bridge/store/oracle_dialect.py: UPSERT_OPTOUT_SQL",
        "bridge/store/sqlite_dialect.py: UPSERT_CONTACT_SQL",
        "bridge/store/inbound_store.py: BY_REFERENCE",
        "bridge/store/contacts.py: EXISTING_CONTACTS",
    ):
        assert expected in names, f"{expected} not collected"
    assert len(STATEMENTS) > 60


@pytest.mark.parametrize("where", sorted(STATEMENTS))
def test_no_bind_is_left_for_oracle_to_type_from_itself(where: str) -> None:
    analysis = sql_checks.analyse(STATEMENTS[where])
    assert not analysis.error, f"{where}: cannot be analysed: {analysis.error}"
    assert not analysis.untyped, sql_checks.untyped_message(where, analysis.untyped)


# -- the CASTs leave SQLite's values as they were -----------------------------------------

_CAST = re.compile(r"CAST\((:\w+) AS \w+(?:\(\d+\))?\)")
_AT = datetime(2026, 3, 2, 9, 30, 15, 250_000, tzinfo=UTC)
_MOVE = queries.MOVE_STATUS.format(allowed="'SENDING', 'SUBMITTED', 'SENT'")
_MOVE_NULLS = dict.fromkeys(("provider_status", "error_code", "error_message", "provider_sid"))
_REQUEUE = {"next_attempt_at": _AT, "reason": "retry"}
_FINALIZE = {"status": "FAILED", "reason": "x", "error_code": None, "error_message": None}
# (status before, statement, binds): None, numbers, and what SQLite's affinity converts.
_SCENARIOS: dict[str, tuple[str, str, dict[str, object]]] = {
    "requeue": ("SENDING", queries.REQUEUE, {**_REQUEUE, "error_code": 20429, "uncount": 0}),
    "requeue, no code": (
        "SENDING",
        queries.REQUEUE,
        {**_REQUEUE, "error_code": None, "uncount": 1},
    ),
    "requeue, text code": (
        "SENDING",
        queries.REQUEUE,
        {**_REQUEUE, "error_code": "30007", "uncount": 1.0},
    ),
    "callback, no code": (
        "SENDING",
        _MOVE,
        {**_MOVE_NULLS, "status": "SUBMITTED", "final_at": None},
    ),
    "callback, code": (
        "SENT",
        _MOVE,
        {
            **_MOVE_NULLS,
            "status": "UNDELIVERED",
            "provider_status": "undelivered",
            "error_code": 30007.0,
            "error_message": "Unknown error",
            "final_at": _AT,
        },
    ),
    "callback, number as status": (
        "SENT",
        _MOVE,
        {**_MOVE_NULLS, "status": "DELIVERED", "provider_status": 7, "final_at": _AT},
    ),
    "finalize": (
        "SENDING",
        queries.FINALIZE,
        {**_FINALIZE, "to_number": "+14155550199", "num_segments": 2, "encoding": "GSM-7"},
    ),
    "finalize, no segments": (
        "SENDING",
        queries.FINALIZE,
        {**_FINALIZE, "to_number": None, "num_segments": None, "encoding": None},
    ),
    "finalize, odd types": (
        "SENDING",
        queries.FINALIZE,
        {**_FINALIZE, "to_number": 14155550199, "num_segments": "3", "encoding": 7},
    ),
}


def test_the_casts_store_on_sqlite_exactly_what_the_uncast_statements_stored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "casts.db"
    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    store.install(_AT)
    store.save_sender(Sender(code="HR", from_number="+15005550006"), _AT)
    request = EnqueueRequest(sender_code="HR", body="hello", to_number="+14155550100")
    typed, uncast = store.enqueue(request, _AT), store.enqueue(request, _AT)
    store.close()
    conn = sqlite3.connect(path)  # not through a Tx: the uncast statements would be refused
    columns = [r[1] for r in conn.execute("PRAGMA table_info(sms_outbound)") if r[1] != "id"]
    read = ", ".join(f"typeof({c}), {c}" for c in columns)
    for name, (before, sql, binds) in _SCENARIOS.items():
        old_sql = _CAST.sub(r"\1", sql)
        assert "CAST" in sql and "CAST" not in old_sql
        for row_id, statement in ((typed, sql), (uncast, old_sql)):
            conn.execute("UPDATE sms_outbound SET status = ? WHERE id = ?", (before, row_id))
            params = {k: to_db(v) for k, v in {**binds, "now": _AT, "id": row_id}.items()}
            assert conn.execute(statement, params).rowcount == 1, name
        rows = [
            conn.execute(f"SELECT {read} FROM sms_outbound WHERE id = ?", (i,)).fetchone()
            for i in (typed, uncast)
        ]
        assert rows[0] == rows[1], name
    stored = conn.execute("SELECT num_segments, typeof(num_segments), attempts FROM sms_outbound")
    assert stored.fetchall() == [(3, "integer", -2)] * 2  # from '3', and attempts - 1.0
    conn.close()


# -- the analysis itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "flagged"),
    [
        ("UPDATE t SET c = COALESCE(:x, c) WHERE id = :id", {"x"}),
        ("UPDATE t SET c = NVL(c, (:x)) WHERE id = :id", {"x"}),
        ("SELECT NVL2(c, :a, :b) FROM t", {"a", "b"}),
        ("SELECT DECODE(c, 1, :a, :b) FROM t", {"a", "b"}),
        ("SELECT GREATEST(c, :a), LEAST(:b, c) FROM t", {"a", "b"}),
        ("SELECT CASE WHEN c = :w THEN :a ELSE :b END FROM t", {"a", "b"}),
        ("SELECT CASE :s WHEN :v THEN 1 END FROM t", {"s", "v"}),
        ("UPDATE t SET n = n - :u, s = s || :v, m = -:w WHERE id = :id", {"u", "v", "w"}),
        ("SELECT MOD(c, :a), c * :b, c / :d FROM t", {"a", "b", "d"}),
        ("UPDATE t SET c = COALESCE(CAST(:x AS NUMBER), c), n = n + CAST(:u AS NUMBER)", set()),
        ("SELECT * FROM t WHERE c = :a AND d IN (:b, :c) AND e <= COALESCE(f, 0)", set()),
        ("INSERT INTO t (a, b) VALUES (:a, :b)", set()),
        ("UPDATE t SET c = COALESCE(c, :now)", set()),  # DRIVER_TYPED_BINDS, checked at run time
    ],
)
def test_binds_in_typed_positions_are_found(sql: str, flagged: set[str]) -> None:
    analysis = sql_checks.analyse(sql)
    assert {u.bind for u in analysis.untyped} == flagged


def test_the_message_names_the_place_the_statement_and_the_bind() -> None:
    broken = STATEMENTS["bridge/store/queries.py: REQUEUE"].replace(
        "COALESCE(CAST(:error_code AS NUMBER), error_code)", "COALESCE(:error_code, error_code)"
    )
    analysis = sql_checks.analyse(broken)
    message = sql_checks.untyped_message("bridge/store/queries.py: REQUEUE", analysis.untyped)
    assert message.startswith("bridge/store/queries.py: REQUEUE: untyped bind")
    assert ":error_code in COALESCE(:error_code, error_code)" in message


# -- the run-time layer (installed by tests/conftest.py for the whole session) -------------


@pytest.fixture
def tx() -> Iterator[SQLiteTx]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER, n INTEGER, c TEXT, at TEXT)")
    conn.execute("INSERT INTO t VALUES (1, 5, 'x', NULL)")
    yield SQLiteTx(conn)
    conn.close()


def _refused(call: object, *args: object) -> str:
    assert callable(call)
    with pytest.raises(sql_checks.TypedBindError) as caught:
        call(*args)
    assert sql_checks.PROBLEMS.pop() == str(caught.value)  # provoked here: not this test's fault
    return str(caught.value)


def test_the_layer_wraps_the_sqlite_tx() -> None:
    assert getattr(SQLiteTx.execute, "__wrapped__", None) is not None
    assert getattr(SQLiteTx.rows, "__wrapped__", None) is not None


def test_an_untyped_bind_fails_inside_the_call(tx: SQLiteTx) -> None:
    sql = "UPDATE t SET n = COALESCE(:n, n) WHERE id = :id"
    message = _refused(tx.execute, sql, {"n": None, "id": 1})
    assert ":n in COALESCE(:n, n)" in message and "CAST(:n AS NUMBER)" in message
    _refused(tx.executemany, sql, [{"n": None, "id": 1}])
    assert (
        tx.execute(
            "UPDATE t SET n = COALESCE(CAST(:n AS NUMBER), n) WHERE id = :id", {"n": None, "id": 1}
        )
        == 1
    )
    assert tx.rows("SELECT n - CAST(:u AS NUMBER) AS m FROM t", {"u": 1}) == [{"m": 4}]


def test_bind_names_must_match_the_placeholders_exactly(tx: SQLiteTx) -> None:
    sql = "UPDATE t SET c = :c WHERE id = :id"
    assert "missing ['id']" in _refused(tx.execute, sql, {"c": "y"})
    assert "extra ['other']" in _refused(tx.execute, sql, {"c": "y", "id": 1, "other": 2})
    assert "extra ['x']" in _refused(tx.rows, "SELECT * FROM t", {"x": 1})
    assert "missing ['c']" in _refused(tx.executemany, sql, [{"c": "y", "id": 1}, {"id": 1}])
    assert tx.rows("SELECT c FROM t WHERE id = :id", {"id": 1}) == [{"c": "x"}]


def test_a_driver_typed_bind_must_hold_its_type(tx: SQLiteTx) -> None:
    sql = "UPDATE t SET at = COALESCE(at, :now) WHERE id = :id"
    assert "must always be a datetime; got None" in _refused(
        tx.execute, sql, {"now": None, "id": 1}
    )
    assert tx.execute(sql, {"now": datetime(2026, 3, 2, tzinfo=UTC), "id": 1}) == 1
