"""How the Oracle dialect drives python-oracledb, checked without a database.

Oracle cannot run on these machines, so the contract suite against Oracle only runs where
``SMS_BRIDGE_TEST_ORACLE_DSN`` is set. These tests cover what can be checked without one:
the calls the dialect makes on the driver (session attributes, ``callfunc`` with parameters
that exist in ``sms_api.pks``, the claim's fetch sizes, bind types), against a recording
connection that enforces the driver rules the code relies on. The real driver's own statement
builder for ``callfunc`` is used where it can be (it is plain Python).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import oracledb
import pytest
import sqlglot
from oracledb.errors import _Error as DriverError  # what the driver puts in exc.args[0]

from bridge import errors
from bridge.domain.contacts import Contact
from bridge.domain.models import EnqueueRequest
from bridge.domain.statuses import Status
from bridge.store import Store, queries
from bridge.store import oracle_dialect as od
from tests.store import sql_checks

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 30, 15, 250_000, tzinfo=UTC)


class RecordingVar:
    def __init__(self, dbtype: Any, size: int = 0, arraysize: int = 1) -> None:
        self.dbtype, self.size, self.arraysize = dbtype, size, arraysize
        self.values: dict[int, Any] = {}

    def setvalue(self, pos: int, value: Any) -> None:
        self.values[pos] = value

    def getvalue(self, pos: int = 0) -> Any:
        return self.values.get(pos)


class RecordingCursor:
    """Records calls; enforces python-oracledb's rule that named input sizes (setinputsizes
    with keywords) cannot be combined with positional binds, which is how callfunc binds."""

    def __init__(self, conn: RecordingConnection) -> None:
        self.conn = conn
        self.calls: list[tuple[str, Any]] = []
        self.named_input_sizes: dict[str, Any] = {}
        self.prefetchrows = 2
        self.arraysize = 100
        self.rowcount = 0
        self.description: list[tuple[str]] = []
        self.rows: list[tuple[Any, ...]] = conn.next_rows
        self.closed = False

    def var(self, dbtype: Any, size: int = 0, arraysize: int = 1) -> RecordingVar:
        return RecordingVar(dbtype, size, arraysize)

    def setinputsizes(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("setinputsizes", (args, kwargs)))
        self.named_input_sizes.update(kwargs)

    def callfunc(
        self, name: str, return_type: Any, parameters: Any = None, keyword_parameters: Any = None
    ) -> Any:
        # The real driver turns this into "begin :retval := name(p => :2, ...); end;" with
        # positional binds; build it with the driver's own code.
        statement, _values = oracledb.Cursor._call_get_execute_args(
            None,  # type: ignore[arg-type]  # the builder does not use self
            name,
            parameters,
            keyword_parameters,
            return_value=RecordingVar(return_type),
        )
        if self.named_input_sizes:
            raise oracledb.ProgrammingError(
                "DPY-2006: positional and named binds cannot be intermixed"
            )
        self.calls.append(("callfunc", (name, return_type, keyword_parameters, statement)))
        return self.conn.function_result

    def execute(self, sql: str, params: Any = None) -> None:
        self.calls.append(("execute", (sql, params)))
        self.named_input_sizes = {}  # input sizes apply to the next execute only
        if self.conn.execute_error is not None:
            raise self.conn.execute_error
        for value in (params or {}).values() if isinstance(params, dict) else ():
            if isinstance(value, RecordingVar) and not value.values:
                value.setvalue(0, [1])  # RETURNING ... INTO fills it

    def executemany(self, sql: str, rows: list[dict[str, Any]]) -> None:
        """Records the rows with the input sizes in force. Thin mode types a bind without an
        input size from the first row: a None there makes it VARCHAR2, and a datetime or
        number in a later row then fails (DPY-3013), so that is refused here too."""
        sizes, self.named_input_sizes = self.named_input_sizes, {}
        self.calls.append(("executemany", (sql, rows, sizes)))
        for name, value in (rows[0] if rows else {}).items():
            later = {type(r[name]) for r in rows[1:] if r[name] is not None}
            if name not in sizes and value is None and later - {str}:
                raise oracledb.NotSupportedError(f"DPY-3013: bind {name} typed by a None")

    def fetchall(self) -> list[tuple[Any, ...]]:
        return []

    def fetchmany(self, n: int) -> list[tuple[Any, ...]]:
        self.calls.append(("fetchmany", n))
        return self.rows[:n]

    def close(self) -> None:
        self.closed = True


class RecordingConnection:
    def __init__(self) -> None:
        self.cursors: list[RecordingCursor] = []
        self.commits = self.rollbacks = 0
        self.next_rows: list[tuple[Any, ...]] = []
        self.function_result: Any = 7
        self.call_timeout = 0
        self.client_identifier = self.module = self.action = ""
        self.inputtypehandler: Any = None
        self.execute_error: BaseException | None = None  # raised by every execute
        self.healthy = True  # is_healthy(): False once the driver dropped the session

    def cursor(self) -> RecordingCursor:
        self.cursors.append(RecordingCursor(self))
        return self.cursors[-1]

    def commit(self) -> None:
        self.commits += 1

    def is_healthy(self) -> bool:
        return self.healthy

    def rollback(self) -> None:
        self.rollbacks += 1


class RecordingPool:
    def __init__(self) -> None:
        self.conn = RecordingConnection()
        self.acquired = self.released = 0

    def acquire(self) -> RecordingConnection:
        self.acquired += 1
        return self.conn

    def release(self, conn: RecordingConnection) -> None:
        self.released += 1


def make_dialect() -> tuple[od.OracleDialect, RecordingPool]:
    dialect = od.OracleDialect.__new__(od.OracleDialect)  # no pool: no database here
    pool = RecordingPool()
    dialect._oracledb = oracledb
    dialect.pool = pool
    dialect.call_timeout_ms = 12_000
    dialect.client_identifier = "sms-bridge@test"
    return dialect, pool


def plsql_parameters(function: str) -> tuple[set[str], set[str]]:
    """(all parameters, those without a default) of a function in sms_api.pks."""
    spec = (ROOT / "plsql" / "packages" / "sms_api.pks").read_text(encoding="utf-8").lower()
    match = re.search(rf"function {function}\s*\((.*?)\)\s*return", spec, re.S)
    assert match, f"sms_api.{function} is not declared in sms_api.pks"
    params = re.findall(r"(p_\w+)\s+in\s+[^,]*?(default\b[^,]*)?(?:,|$)", match.group(1))
    return {name for name, _ in params}, {name for name, default in params if not default}


def test_every_transaction_names_itself_and_bounds_its_calls() -> None:
    dialect, pool = make_dialect()
    with dialect.transaction("claim"):
        pass
    conn = pool.conn
    assert (conn.call_timeout, conn.client_identifier) == (12_000, "sms-bridge@test")
    assert (conn.module, conn.action) == ("sms-bridge", "claim")
    assert conn.inputtypehandler is not None
    assert (conn.commits, conn.rollbacks, pool.acquired, pool.released) == (1, 0, 1, 1)
    with pytest.raises(RuntimeError), dialect.transaction("enqueue"):
        raise RuntimeError("boom")
    assert (conn.commits, conn.rollbacks, pool.released) == (1, 1, 2)


def test_enqueue_calls_sms_api_enqueue_with_its_declared_parameters() -> None:
    dialect, pool = make_dialect()
    request = EnqueueRequest(
        sender_code="HR",
        recipient_type="EMPLOYEE",
        recipient_id="1001",
        body="Café ☕ reminder",
        priority=1,
        send_after=NOW,
        source_system="HR",
        correlation_key="cert-4821",
    )
    with dialect.transaction("enqueue") as tx:
        assert dialect.enqueue(tx, request, NOW) == 7
    (cursor,) = pool.conn.cursors
    calls = [c for c in cursor.calls if c[0] == "callfunc"]
    assert len(calls) == 1
    name, return_type, kwargs, statement = calls[0][1]
    assert (name, return_type) == ("sms_api.enqueue", oracledb.DB_TYPE_NUMBER)
    declared, required = plsql_parameters("enqueue")
    assert set(kwargs) <= declared and required <= set(kwargs)
    assert "p_to_number" not in kwargs
    body = kwargs["p_body"]
    assert isinstance(body, RecordingVar) and body.dbtype is oracledb.DB_TYPE_NVARCHAR
    assert body.getvalue() == "Café ☕ reminder" and body.size >= len(request.body)
    assert kwargs["p_send_after"] == NOW.replace(tzinfo=None)  # naive UTC for TIMESTAMP
    assert statement.startswith("begin :retval := sms_api.enqueue(p_sender_code => :1,")
    assert len(re.findall(r"=> :\d+", statement)) == len(kwargs)  # bound by position


def test_enqueue_number_and_both_recipients() -> None:
    dialect, pool = make_dialect()
    with dialect.transaction("enqueue") as tx:
        dialect.enqueue(tx, EnqueueRequest(sender_code="IT", body="x", to_number="+1415"), NOW)
    (_, (name, _, kwargs, _)) = next(c for c in pool.conn.cursors[0].calls if c[0] == "callfunc")
    declared, required = plsql_parameters("enqueue_number")
    assert name == "sms_api.enqueue_number" and required <= set(kwargs) <= declared
    both = EnqueueRequest(sender_code="IT", body="x", to_number="+1415", recipient_id="1001")
    with pytest.raises(errors.RecipientCountError), dialect.transaction("enqueue") as tx:
        dialect.enqueue(tx, both, NOW)


def test_a_named_plsql_error_becomes_the_python_error_of_the_same_name() -> None:
    dialect, pool = make_dialect()

    def fail(*args: Any, **kwargs: Any) -> Any:
        error = SimpleNamespace(code=20005, message="ORA-20005: the message body has 1700 ...")
        raise oracledb.DatabaseError(error)

    with pytest.raises(errors.BodyTooLongError), dialect.transaction("enqueue") as tx:
        tx.cursor.callfunc = fail  # type: ignore[attr-defined]
        dialect.enqueue(tx, EnqueueRequest(sender_code="HR", body="x", to_number="+1"), NOW)
    assert pool.conn.rollbacks == 1


def test_claim_fetches_exactly_n_rows_with_matching_prefetch_and_arraysize() -> None:
    dialect, pool = make_dialect()
    pool.conn.next_rows = [(i,) for i in range(1, 30)]
    with dialect.transaction("claim") as tx:
        ids = dialect.claim(tx, "HR", 5, NOW)
    assert ids == [1, 2, 3, 4, 5]
    claim_cursor = pool.conn.cursors[1]  # its own cursor, closed after the fetch
    assert (claim_cursor.prefetchrows, claim_cursor.arraysize) == (5, 5)
    assert claim_cursor.calls[0] == (
        "execute",
        (od.CLAIM_SQL, {"sender_code": "HR", "now": NOW.replace(tzinfo=None)}),
    )
    assert claim_cursor.calls[1] == ("fetchmany", 5) and claim_cursor.closed


def test_datetimes_are_bound_as_timestamps_not_dates() -> None:
    dialect, _ = make_dialect()
    cursor = RecordingConnection().cursor()
    var = dialect._input_type_handler(cursor, NOW.replace(tzinfo=None), 3)
    assert isinstance(var, RecordingVar)
    assert (var.dbtype, var.arraysize) == (oracledb.DB_TYPE_TIMESTAMP, 3)
    assert dialect._input_type_handler(cursor, "text", 1) is None
    assert dialect._input_type_handler(cursor, 42, 1) is None


def test_install_runs_every_script_and_checks_user_errors_for_its_own_objects_only() -> None:
    dialect, pool = make_dialect()
    report = dialect.install(ROOT / "plsql", True, NOW)
    executed = [args for name, args in pool.conn.cursors[0].calls if name == "execute"]
    # The national charset query, the length semantics, USER_ERRORS and the version query.
    assert report.statements == len(executed) - 4
    # BYTE before the first script: the bare varchar2(n) of the DDL is what column_sizes reads.
    semantics = [i for i, (sql, _) in enumerate(executed) if "nls_length_semantics" in sql]
    first_ddl = next(i for i, (sql, _) in enumerate(executed) if sql.lower().startswith("create"))
    assert semantics and semantics[0] < first_ddl
    assert executed[semantics[0]][0] == "alter session set nls_length_semantics = byte"
    errors_sql, binds = next(a for a in executed if "user_errors" in a[0])
    names = set(binds.values())
    assert {"SMS_API", "SMS_ERR", "SMS_OUTBOUND", "SMS_RECIPIENTS_V", "HR_CERT_SMS"} <= names
    assert not {n for n in names if n.startswith("TEST_")}  # utPLSQL suites are not installed
    assert errors_sql.count(":n") == len(names)


def test_texts_for_nvarchar2_columns_are_bound_as_national_text() -> None:
    dialect, pool = make_dialect()
    params = {"message_sid": "SM1", "from_number": "+1", "body": "返信 " * 600, "keyword": None}
    with dialect.transaction("inbound") as tx:
        dialect.insert_returning_id(tx, "INSERT INTO sms_inbound (...) VALUES (...)", params)
        tx.execute(
            "UPDATE sms_senders SET help_text = :help_text WHERE code = :code",
            {"help_text": "Aide", "code": "HR"},
        )
    calls = pool.conn.cursors[0].calls
    sizes = [kwargs for name, (args, kwargs) in ((n, a) for n, a in calls if n == "setinputsizes")]
    assert sizes == [
        {"body": oracledb.DB_TYPE_NVARCHAR},  # not message_sid or keyword: VARCHAR2 columns
        {"help_text": oracledb.DB_TYPE_NVARCHAR},
    ]


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (oracledb.OperationalError(SimpleNamespace(full_code="DPY-6005")), True),
        (oracledb.DatabaseError(SimpleNamespace(full_code="DPY-4005")), True),  # pool timeout
        (oracledb.DatabaseError(SimpleNamespace(full_code="DPY-4024")), True),  # call timeout
        (oracledb.DatabaseError(SimpleNamespace(full_code="ORA-03113")), True),
        (oracledb.DatabaseError(SimpleNamespace(full_code="ORA-12345", isrecoverable=True)), True),
        (oracledb.IntegrityError(SimpleNamespace(full_code="ORA-00001")), False),
        (oracledb.DatabaseError(SimpleNamespace(full_code="ORA-06502")), False),  # a bug
        (oracledb.DatabaseError(SimpleNamespace(full_code="DPY-4008")), False),  # no such bind
        (ValueError("x"), False),
    ],
)
def test_outages_are_told_from_bugs(error: BaseException, outage: bool) -> None:
    dialect, _ = make_dialect()
    assert dialect.is_unavailable(error) is outage


def test_a_concurrent_first_opt_out_is_merged_again_not_lost() -> None:
    dialect, pool = make_dialect()
    failures = [oracledb.IntegrityError(SimpleNamespace(full_code="ORA-00001"))]
    with dialect.transaction("optout") as tx:
        cursor = tx.cursor  # type: ignore[attr-defined]
        record = cursor.execute

        def execute(sql: str, params: Any = None) -> None:
            record(sql, params)
            if failures:
                raise failures.pop()  # the other session inserted the row first

        cursor.execute = execute
        params = {"phone_number": "+1", "scope": "+2", "state": "OPTED_OUT"}
        dialect.upsert_optout(
            tx, {**params, "keyword": "STOP", "source": "inbound", "changed_at": NOW}
        )
    merges = [a for n, a in cursor.calls if n == "execute" and "MERGE" in a[0]]
    assert len(merges) == 2 and pool.conn.commits == 1 and pool.conn.rollbacks == 0


def _ddl_text_sizes(table: str) -> dict[str, int]:
    """column -> n of each VARCHAR2(n [CHAR|BYTE]) column of plsql/tables/<table>.sql."""
    ddl = (ROOT / "plsql" / "tables" / f"{table}.sql").read_text(encoding="utf-8")
    found = re.findall(r"^\s*(\w+)\s+n?varchar2\((\d+)(?:\s+(?:char|byte))?\)", ddl, re.M | re.I)
    return {name.lower(): int(size) for name, size in found}


def test_contacts_are_merged_with_every_bind_typed_whatever_the_first_row_holds() -> None:
    dialect, pool = make_dialect()
    first = Contact("EMPLOYEE", "1", None, "+4915112340001")  # None where later rows have text
    second = Contact("DRIVER", "d-7", "Zoë Müller", "+4915112340002", "Europe/Berlin", "a@b.de")
    saved = Store(dialect).upsert_contacts([first, second], NOW)
    assert (saved.inserted, saved.updated) == (2, 0)  # the recording cursor finds no rows
    (cursor,) = pool.conn.cursors
    (sql, rows, sizes) = next(args for name, args in cursor.calls if name == "executemany")
    assert sql == od.UPSERT_CONTACT_SQL
    binds = set(re.findall(r"(?<![:\w]):(\w+)", sql))
    assert set(sizes) == binds  # each one typed: none left to the first row
    assert sizes.pop("now") is oracledb.DB_TYPE_TIMESTAMP  # not DATE: the microseconds stay
    columns = _ddl_text_sizes("sms_contacts")
    assert sizes == {name: columns[name] for name in sizes}  # VARCHAR2, sized as the column
    assert [r["now"] for r in rows] == [NOW.replace(tzinfo=None)] * 2  # naive UTC
    assert pool.conn.commits == 1


def test_contacts_too_long_or_twice_in_a_batch_are_refused_before_any_bind() -> None:
    dialect, pool = make_dialect()
    store = Store(dialect)
    one = Contact("EMPLOYEE", "1", None, "+4915112340001")
    with pytest.raises(ValueError, match="manager_email has 255 bytes; at most 254 fit"):
        store.upsert_contacts([one, Contact("EMPLOYEE", "2", None, "+49151", None, "a" * 255)], NOW)
    with pytest.raises(ValueError, match="the same type and id as contact 1"):
        store.upsert_contacts([one, Contact("EMPLOYEE", "1", "Again", "+4915112340009")], NOW)
    assert pool.acquired == 0  # refused before a transaction, so before any bind


@pytest.mark.parametrize(
    ("error", "undefined"),
    [
        (
            oracledb.DatabaseError(
                DriverError("ORA-00942: table or view does not exist", code=942)
            ),
            True,
        ),
        (
            oracledb.DatabaseError(
                DriverError(
                    'ORA-00942: table or view "APP"."SMS_SCHEMA_VERSION" does not exist', code=942
                )
            ),
            True,  # 23ai's wording, same code
        ),
        (
            oracledb.DatabaseError(DriverError('ORA-00904: "V": invalid identifier', code=904)),
            False,
        ),
        (oracledb.DatabaseError(DriverError("DPY-4005: timed out waiting for the pool")), False),
        (oracledb.DatabaseError(), False),
        (ValueError("ORA-00942"), False),
    ],
)
def test_an_undefined_table_is_told_by_the_drivers_full_code(
    error: BaseException, undefined: bool
) -> None:
    dialect, _ = make_dialect()
    assert dialect.is_undefined_table(error) is undefined


def test_a_missing_schema_names_user_at_dsn_and_never_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = RecordingPool()
    monkeypatch.setattr(oracledb, "create_pool", lambda **kwargs: pool)
    dialect = od.OracleDialect("oracle://app:s3cret@db.example.com:1522/ERPPDB", "")
    assert dialect.location() == "app@db.example.com:1522/ERPPDB"
    missing = DriverError(
        'ORA-00942: table or view "APP"."SMS_SCHEMA_VERSION" does not exist', code=942
    )
    pool.conn.execute_error = oracledb.DatabaseError(missing)
    with pytest.raises(errors.SchemaMissingError) as caught:
        Store(dialect).require_schema()
    assert "app@db.example.com:1522/ERPPDB" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert pool.conn.rollbacks == 1 and pool.released == pool.acquired
    other = DriverError('ORA-00904: "V": invalid identifier', code=904)
    pool.conn.execute_error = oracledb.DatabaseError(other)
    with pytest.raises(oracledb.DatabaseError):  # anything else is not a missing schema
        Store(dialect).require_schema()


def _ddl_types(table: str) -> dict[str, str]:
    """column -> its type's name (NUMBER, VARCHAR2, NVARCHAR2, TIMESTAMP...) in the DDL."""
    ddl = (ROOT / "plsql" / "tables" / f"{table}.sql").read_text(encoding="utf-8")
    found = re.findall(r"^\s*(\w+)\s+(n?varchar2|number|timestamp)\b", ddl, re.M | re.I)
    return {name.lower(): kind.upper() for name, kind in found}


def test_outcome_updates_bind_none_only_through_casts_of_the_columns_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 10: a callback without ErrorCode, a quiet-hours deferral and a finalize without
    segments bind None into COALESCE (and arithmetic): each such bind is CAST, to the type of
    the column it ends up in, so Oracle never has to type a None (VARCHAR2) against NUMBER."""
    dialect, pool = make_dialect()
    row = {
        "id": 41,
        "sender_code": "HR",
        "body": "x",
        "status": "SENDING",
        "priority": 2,
        "next_attempt_at": NOW.replace(tzinfo=None),
        "created_at": NOW.replace(tzinfo=None),
        "updated_at": NOW.replace(tzinfo=None),
        "provider_sid": None,
    }
    make_cursor = pool.conn.cursor

    def cursor() -> RecordingCursor:  # every query finds the row above
        found = make_cursor()
        found.description = [(name.upper(),) for name in row]
        monkeypatch.setattr(found, "fetchall", lambda: [tuple(row.values())])
        return found

    monkeypatch.setattr(pool.conn, "cursor", cursor)
    store = Store(dialect)
    store.record_status(NOW, Status.SENT, source="callback", provider_sid="SM1")
    store.requeue(41, NOW, NOW, reason="quiet hours", count_attempt=False)
    store.finalize(41, Status.FAILED, NOW, reason="no route")

    executed = [args for c in pool.conn.cursors for name, args in c.calls if name == "execute"]
    move_status = queries.MOVE_STATUS.split("{")[0]
    by_name = {
        "MOVE_STATUS": next(a for a in executed if a[0].startswith(move_status)),
        "REQUEUE": next(a for a in executed if a[0] == queries.REQUEUE),
        "FINALIZE": next(a for a in executed if a[0] == queries.FINALIZE),
    }
    columns = _ddl_types("sms_outbound")
    cast: dict[str, dict[str, str]] = {}
    for name, (sql, params) in by_name.items():
        assert not sql_checks.analyse(sql).untyped, name
        tree = sqlglot.parse_one(sql, read="oracle")
        cast[name] = {}
        for typed in tree.find_all(sqlglot.exp.Cast):
            assignment = typed.find_ancestor(sqlglot.exp.EQ)
            assert assignment is not None, f"{name}: a CAST outside SET col = ..."
            bind, target = str(typed.this.this), assignment.this.name
            type_name = typed.to.sql(dialect="oracle")
            assert type_name.split("(")[0] == columns[target], f"{name}: :{bind} into {target}"
            cast[name][bind] = type_name
        # A None compared with or written straight into a column is typed by the column.
        for bind_node in tree.find_all(sqlglot.exp.Placeholder):
            if params[bind_node.this] is None and not isinstance(bind_node.parent, sqlglot.exp.EQ):
                assert bind_node.this in cast[name], f"{name}: None bound to :{bind_node.this}"
    assert all(params["error_code"] is None for _, params in by_name.values())  # the issue
    assert cast["MOVE_STATUS"] == {
        "provider_status": "VARCHAR2(4000)",
        "error_code": "NUMBER",
        "error_message": "VARCHAR2(4000)",
        "provider_sid": "VARCHAR2(4000)",
    }
    assert cast["REQUEUE"] == {"uncount": "NUMBER", "error_code": "NUMBER"}
    assert cast["FINALIZE"] == {
        "to_number": "VARCHAR2(4000)",
        "num_segments": "NUMBER",
        "encoding": "VARCHAR2(4000)",
    }
    assert by_name["FINALIZE"][1]["num_segments"] is None  # the case of the issue


# -- issue 10: a value the database refuses as not fitting its column is a named error ------

TOO_LARGE = (
    'ORA-12899: value too large for column "APP"."SMS_SENDERS"."DESCRIPTION"'
    " (actual: 201, maximum: 200)"
)


@pytest.mark.parametrize(
    ("error", "named", "text"),
    [
        (
            oracledb.DatabaseError(DriverError(TOO_LARGE, code=12899)),
            errors.ValueTooLongError,
            "description is too long: at most 200 (the value has 201)",
        ),
        (
            oracledb.IntegrityError(
                DriverError(
                    'ORA-01400: cannot insert NULL into ("APP"."SMS_SENDERS"."DEFAULT_TIME_ZONE")',
                    code=1400,
                )
            ),
            errors.MissingValueError,
            "default_time_zone must not be empty",
        ),
    ],
)
def test_ora_12899_and_01400_leave_the_transaction_as_named_errors(
    error: BaseException, named: type[errors.SmsError], text: str
) -> None:
    # Whatever the Python checks let through (a schema whose columns are not the DDL's): the
    # driver's error, raised by the cursor, is rolled back and named, never a bare DatabaseError
    # (a 500 in the REST API, a class name in the CLI).
    from bridge.domain.models import Sender

    dialect, pool = make_dialect()
    pool.conn.execute_error = error
    with pytest.raises(named) as caught:
        Store(dialect).save_sender(Sender(code="HR", from_number="+15005550006"), NOW)
    assert str(caught.value) == text
    assert caught.value.__cause__ is error  # the driver's text stays in the log
    assert (pool.conn.rollbacks, pool.conn.commits, pool.released) == (1, 0, 1)


def test_ora_12899_from_sms_api_enqueue_is_named_too() -> None:
    dialect, pool = make_dialect()
    message = (
        'ORA-12899: value too large for column "APP"."SMS_OUTBOUND"."CORRELATION_KEY"'
        ' (actual: 200, maximum: 128)\nORA-06512: at "APP.SMS_API", line 150'
    )

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise oracledb.DatabaseError(DriverError(message, code=12899))

    request = EnqueueRequest(sender_code="HR", body="x", to_number="+14155550100")
    with pytest.raises(errors.ValueTooLongError) as caught, dialect.transaction("enqueue") as tx:
        tx.cursor.callfunc = fail  # type: ignore[attr-defined]
        dialect.enqueue(tx, request, NOW)
    assert caught.value.column == "correlation_key"
    assert str(caught.value) == "correlation_key is too long: at most 128 (the value has 200)"
    assert pool.conn.rollbacks == 1


def test_other_database_errors_are_left_as_they_are() -> None:
    dialect, pool = make_dialect()
    other = oracledb.DatabaseError(DriverError('ORA-00904: "V": invalid identifier', code=904))
    pool.conn.execute_error = other
    with pytest.raises(oracledb.DatabaseError) as caught, dialect.transaction("x") as tx:
        tx.execute("SELECT v FROM dual")
    assert caught.value is other and pool.conn.rollbacks == 1


def test_a_text_too_long_for_its_column_never_reaches_the_driver() -> None:
    dialect, pool = make_dialect()
    request = EnqueueRequest(
        sender_code="HR",
        body="x",
        to_number="+14155550100",
        source_system="ERP",
        correlation_key="я" * 129,
    )
    with pytest.raises(errors.ValueTooLongError, match="at most 128 characters"):
        Store(dialect).enqueue(request, NOW)
    assert pool.acquired == 0


@pytest.mark.parametrize(("existing", "inserted"), [([(5,)], False), ([], None)])
def test_a_concurrent_duplicate_callback_is_told_by_its_key_other_integrity_errors_raise(
    monkeypatch: pytest.MonkeyPatch, existing: list[tuple[int]], inserted: bool | None
) -> None:
    dialect, pool = make_dialect()
    failure = oracledb.IntegrityError(SimpleNamespace(full_code="ORA-00001"))
    params = {
        **{"outbound_id": 41, "event_at": NOW, "status": "SENT", "provider_status": "sent"},
        **{"error_code": 0, "source": "callback", "applied": "Y", "detail": "d"},
        "callback_key": "t:RD1",
    }
    raises = pytest.raises(oracledb.IntegrityError)
    with raises if inserted is None else contextlib.nullcontext(), dialect.transaction("s") as tx:
        cursor = tx.cursor  # type: ignore[attr-defined]
        record = cursor.execute

        def execute(sql: str, params: Any = None) -> None:
            record(sql, params)
            if sql == queries.INSERT_CALLBACK_EVENT:
                raise failure  # the other session recorded this key first
            cursor.description = [("ID",)]
            monkeypatch.setattr(cursor, "fetchall", lambda: existing)

        cursor.execute = execute
        assert dialect.insert_callback_event(tx, params) is inserted
    lookups = [a for n, a in cursor.calls if n == "execute" and "callback_key = :key" in a[0]]
    assert len(lookups) == 1
    assert (pool.conn.commits, pool.conn.rollbacks) == ((1, 0) if inserted is False else (0, 1))


def test_a_callback_key_too_long_for_its_column_never_reaches_the_driver() -> None:
    dialect, pool = make_dialect()
    with pytest.raises(errors.ValueTooLongError, match="callback_key"):
        Store(dialect).record_status(
            NOW, Status.DELIVERED, source="callback", provider_sid="SM1", callback_key="é" * 51
        )
    assert pool.acquired == 0  # 102 bytes: refused before any UPDATE or INSERT


@pytest.mark.parametrize("code", ["ORA-30006", "DPY-4024"])  # WAIT 5, or the call timeout first
def test_a_send_gate_held_too_long_is_send_gate_busy_not_an_outage(code: str) -> None:
    dialect, pool = make_dialect()
    pool.conn.execute_error = oracledb.DatabaseError(SimpleNamespace(full_code=code))
    with pytest.raises(errors.SendGateBusy), dialect.transaction("prepared") as tx:
        dialect.lock_send_gate(tx, NOW)
    calls = [c for cursor in pool.conn.cursors for c in cursor.calls]
    (statement,) = [a[0] for n, a in calls if n == "execute"]
    assert statement.rstrip().endswith("FOR UPDATE WAIT 5")
    assert not dialect.is_unavailable(errors.SendGateBusy("x"))


def test_enqueue_many_is_one_executemany_with_every_bind_typed_and_each_answer_read() -> None:
    # Store.enqueue_many on Oracle: one round trip over the item block, each item's id or the
    # named error its SQLCODE (negative, as PL/SQL reports it) stands for.
    dialect, pool = make_dialect()
    requests = [
        EnqueueRequest(sender_code="HR", body="a", to_number="+14155550100"),
        EnqueueRequest(
            sender_code="NOPE",
            body="Café ☕ long body",
            recipient_type="EMPLOYEE",
            recipient_id="1001",
            send_after=NOW,
            batch_id=3,
        ),
    ]

    def run(sql: str, rows: list[dict[str, Any]]) -> None:
        cursor = pool.conn.cursors[-1]
        cursor.calls.append(("executemany", (sql, rows, dict(cursor.named_input_sizes))))
        sizes = cursor.named_input_sizes
        sizes["new_id"].setvalue(0, 41)
        sizes["err_code"].setvalue(1, -20002)
        sizes["err_text"].setvalue(1, "ORA-20002: unknown sender NOPE\nORA-06512: at line 5")

    with dialect.transaction("enqueue") as tx:
        tx.cursor.executemany = run  # type: ignore[attr-defined]
        results = dialect.enqueue_many(tx, requests, NOW)
    assert results[0] == 41
    assert isinstance(results[1], errors.UnknownSenderError)
    assert str(results[1]) == "unknown sender NOPE"
    (cursor,) = pool.conn.cursors
    ((sql, rows, sizes),) = [c[1] for c in cursor.calls if c[0] == "executemany"]
    assert "sms_api.enqueue_number(" in sql and "sms_api.enqueue(" in sql
    assert "rollback to sms_batch_item" in sql
    binds = set(re.findall(r":(\w+)", sql))
    assert binds == set(rows[0]) | {"new_id", "err_code", "err_text"}
    assert binds <= set(sizes), binds - set(sizes)  # nothing left for thin mode to guess
    assert sizes["body"].dbtype is oracledb.DB_TYPE_NVARCHAR
    assert sizes["body"].size >= len("Café ☕ long body") and sizes["body"].arraysize == 2
    assert sizes["send_after"] is oracledb.DB_TYPE_TIMESTAMP
    assert sizes["batch_id"] is oracledb.DB_TYPE_NUMBER
    # Sized as the columns, not as this chunk's longest values: the bind metadata is the same
    # for every chunk, so thin mode does not run a chunk's first row alone again.
    columns = _ddl_text_sizes("sms_outbound")
    texts = {name: size for name, size in sizes.items() if isinstance(size, int)}
    assert texts == {name: columns[name] for name in texts}
    assert "reference" in texts and "correlation_key" in texts
    assert sizes["body"].size == columns["body"]
    assert rows[1]["send_after"] == NOW.replace(tzinfo=None)
    declared, _ = plsql_parameters("enqueue")
    assert {f"p_{n}" for n in re.findall(r"p_(\w+) =>", sql)} <= declared | {"p_to_number"}


def test_an_item_with_both_recipients_is_refused_alone_and_the_others_go() -> None:
    # One bad CSV line must not sink its chunk: recipient_count is that item's answer.
    dialect, pool = make_dialect()
    both = EnqueueRequest(sender_code="IT", body="x", to_number="+1415", recipient_id="1001")
    good = EnqueueRequest(sender_code="IT", body="y", to_number="+14155550100")

    def run(sql: str, rows: list[dict[str, Any]]) -> None:
        pool.conn.cursors[-1].calls.append(("executemany", (sql, rows)))
        pool.conn.cursors[-1].named_input_sizes["new_id"].setvalue(0, 9)

    with dialect.transaction("enqueue") as tx:
        tx.cursor.executemany = run  # type: ignore[attr-defined]
        results = dialect.enqueue_many(tx, [both, good, both], NOW)
    assert isinstance(results[0], errors.RecipientCountError)
    assert results[1] == 9
    assert isinstance(results[2], errors.RecipientCountError)
    ((_, rows),) = [c[1] for c in pool.conn.cursors[0].calls if c[0] == "executemany"]
    assert [r["body"] for r in rows] == ["y"]
    with dialect.transaction("enqueue") as tx:
        only_bad = dialect.enqueue_many(tx, [both], NOW)
    assert isinstance(only_bad[0], errors.RecipientCountError)


def test_the_item_block_answers_only_sms_apis_errors_and_raises_the_rest() -> None:
    numbers = [spec.number for spec in errors.ERROR_SPECS]
    assert (min(numbers), max(numbers)) == (-20018, -20001)  # the range the block answers
    block = " ".join(od.ENQUEUE_ITEM_BLOCK.split()).lower()
    handler = block.split("when others then", 1)[1]
    assert "if l_code not between -20018 and -20001 then raise; end if;" in handler
    assert handler.index("raise;") < handler.index("rollback to sms_batch_item")


def test_begin_batch_calls_its_declared_parameters() -> None:
    dialect, pool = make_dialect()
    with dialect.transaction("batch") as tx:
        assert dialect.begin_batch(tx, "CSV", "july.csv", "cli", NOW) == 7
    (_, (name, _, kwargs, _)) = next(c for c in pool.conn.cursors[0].calls if c[0] == "callfunc")
    declared, required = plsql_parameters("begin_batch")
    assert name == "sms_api.begin_batch" and required <= set(kwargs) <= declared
    assert kwargs == {"p_source": "CSV", "p_label": "july.csv", "p_created_by": "cli"}
