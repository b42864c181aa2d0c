"""The Oracle engine: the production store. All Oracle-only SQL of the bridge lives here.

python-oracledb in thin mode (no Instant Client), a connection pool, ``call_timeout`` on every
connection, and ``client_identifier``/``module``/``action`` set so a DBA can see in V$SESSION
which part of the bridge holds a session. Enqueue goes through ``sms_api.enqueue`` with
``callfunc``, so ERP procedures and Python callers share one code path and one set of checks.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from bridge import errors
from bridge.config import DatabaseSettings, redact_url
from bridge.domain import column_sizes
from bridge.domain.contacts import COLUMN_SIZES
from bridge.domain.models import EnqueueRequest, InstallReport
from bridge.store import queries
from bridge.store.dialect import (
    TIMESTAMP_COLUMNS,
    DatabaseWaitExceeded,
    Dialect,
    Params,
    Row,
    Tx,
    in_bounded_wait,
    require_utc,
    wait_budget_ms,
)
from bridge.store.oracle_session import check_national_charset, init_driver

MODULE = "sms-bridge"
# Inside a bounded wait, a rollback after an error gets at least this long (ms).
ROLLBACK_FLOOR_MS = 250

# Errors a re-run of an install script may meet for objects that already exist.
ALREADY_EXISTS = {
    955,  # name is already used by an existing object
    1408,  # such column list already indexed
    1430,  # column being added already exists in table
    2260,  # table can have only one primary key
    2261,  # such unique or primary key already exists
    2264,  # name already used by an existing constraint
    2275,  # such a referential constraint already exists
}

CLAIM_SQL = """
SELECT id FROM sms_outbound
 WHERE status = 'QUEUED' AND sender_code = :sender_code AND next_attempt_at <= :now
 ORDER BY priority, id
 FOR UPDATE SKIP LOCKED
"""
# Why no ROWNUM/FETCH FIRST: ROWNUM is applied before locked rows are skipped (a worker would
# get fewer rows than exist, or none), and FETCH FIRST with FOR UPDATE raises ORA-02014. The
# limit comes from fetchmany(n) with prefetchrows = arraysize = n: Oracle locks rows as they
# are fetched, so only the n rows handed to us are locked.

LOCK_SENDER_SQL = "SELECT * FROM sms_senders WHERE code = :code FOR UPDATE"

# GET /health's write probe on Oracle (OracleDialect.probe_write).
PROBE_WRITE_SQL = """
SELECT version FROM sms_schema_version
 WHERE version = (SELECT MAX(version) FROM sms_schema_version)
   FOR UPDATE SKIP LOCKED
"""

# The identical-twin gate (Dialect.lock_send_gate): a row lock on one sms_job_runs row.
SEND_GATE = "send-gate"
# WAIT 5: a session that hangs holding the gate must not hold up every worker for a whole
# call_timeout; ORA-30006 then gives this round's claims back (errors.SendGateBusy).
LOCK_SEND_GATE_SQL = "SELECT job_name FROM sms_job_runs WHERE job_name = :job FOR UPDATE WAIT 5"

# An older change never overwrites a newer one: a STOP replayed from the spool after a live
# START, or two gunicorn workers committing out of arrival order, leave the latest state.

UPSERT_OPTOUT_SQL = """
MERGE INTO sms_optouts o
USING (SELECT :phone_number AS phone_number, :scope AS scope FROM dual) s
   ON (o.phone_number = s.phone_number AND o.scope = s.scope)
 WHEN MATCHED THEN UPDATE
      SET o.state = :state, o.keyword = :keyword, o.source = :source, o.changed_at = :changed_at
      WHERE o.changed_at <= :changed_at
 WHEN NOT MATCHED THEN INSERT (phone_number, scope, state, keyword, source, changed_at)
      VALUES (:phone_number, :scope, :state, :keyword, :source, :changed_at)
"""

# sms_contacts by key (bridge/store/contacts.py), run with executemany: created_at is kept.
UPSERT_CONTACT_SQL = """
MERGE INTO sms_contacts c
USING (SELECT :recipient_type AS recipient_type, :recipient_id AS recipient_id FROM dual) s
   ON (c.recipient_type = s.recipient_type AND c.recipient_id = s.recipient_id)
 WHEN MATCHED THEN UPDATE
      SET c.full_name = :full_name, c.mobile_number = :mobile_number,
          c.time_zone = :time_zone, c.manager_email = :manager_email, c.updated_at = :now
 WHEN NOT MATCHED THEN INSERT (recipient_type, recipient_id, full_name, mobile_number,
                               time_zone, manager_email, created_at, updated_at)
      VALUES (:recipient_type, :recipient_id, :full_name, :mobile_number, :time_zone,
              :manager_email, :now, :now)
"""

ENSURE_JOB_RUN_SQL = """
MERGE INTO sms_job_runs j
USING (SELECT :job AS job_name FROM dual) s
   ON (j.job_name = s.job_name)
 WHEN NOT MATCHED THEN INSERT (job_name, last_run_at) VALUES (:job, :first_run)
"""

# Only the objects the install created: an EBS APPS schema routinely holds invalid objects of
# its own, which must not fail our install. {names} is a list of binds.
USER_ERRORS_SQL = """
SELECT name, type, line, position, text FROM user_errors
 WHERE attribute = 'ERROR' AND name IN ({names})
 ORDER BY name, type, sequence
"""

SCHEMA_VERSION_SQL = "SELECT MAX(version) AS v FROM sms_schema_version"

PAGE_CLAUSE = "OFFSET :offset ROWS FETCH NEXT :limit ROWS ONLY"

# ROWNUM is fine here: no FOR UPDATE, and it stops the probe at the first due row.
ANY_READY_SQL = """
SELECT COUNT(*) AS n FROM sms_outbound
 WHERE status = 'QUEUED' AND next_attempt_at <= :now AND ROWNUM = 1
"""

DAY_FORMAT = "TO_CHAR({column}, 'YYYY-MM-DD')"  # columns hold UTC: the UTC day


@dataclass(frozen=True)
class OracleTarget:
    user: str
    password: str
    dsn: str  # host:port/service_name


def parse_url(url: str, password: str = "") -> OracleTarget:
    """``oracle://user[:password]@host:port/service``; a password in the URL is for tests only."""
    parts = urlsplit(url)
    if parts.scheme != "oracle" or not parts.hostname or not parts.username:
        raise errors.ConfigError(
            f"[database] url {redact_url(url)!r}: expected oracle://user@host:port/service"
        )
    service = parts.path.lstrip("/")
    if not service:
        raise errors.ConfigError(f"[database] url {redact_url(url)!r}: the service name is missing")
    return OracleTarget(
        user=unquote(parts.username),
        password=password or unquote(parts.password or ""),
        dsn=f"{parts.hostname}:{parts.port or 1521}/{service}",
    )


def to_db(value: Any) -> Any:
    if isinstance(value, datetime):
        # Oracle TIMESTAMP columns hold UTC without a zone: bind naive UTC.
        return require_utc(value).replace(tzinfo=None)
    if isinstance(value, bool):
        return "Y" if value else "N"
    return value


def _bind(params: Params | None) -> dict[str, Any]:
    return {k: to_db(v) for k, v in (params or {}).items()}


# Binds that fill NVARCHAR2 columns (texts people write, in any script). Bound as national
# text: a VARCHAR2 bind goes through the database character set, which on an older EBS
# (WE8ISO8859P1) turns what it cannot hold into '?', and is capped at 4,000 bytes, which a
# 1,600-character CJK reply exceeds. Every other bind stays VARCHAR2 so its indexes are used.
NATIONAL_TEXT_BINDS = frozenset({"body", "help_text", "reply_text", "flagged_reason"})


# One item of Store.enqueue_many (one executemany per chunk). The savepoint takes
# back what a refused item wrote (sms_api.queue inserts the row, then its event); SQLCODE and
# SQLERRM are read before the rollback, while they still describe the item's error.
# sms_api's named errors are -20001 .. -20018.
ENQUEUE_ITEM_BLOCK = """
declare
    l_code  number;
    l_text  varchar2(2000);
begin
    savepoint sms_batch_item;
    if :to_number is not null then
        :new_id := sms_api.enqueue_number(
            p_sender_code => :sender_code, p_to_number => :to_number, p_body => :body,
            p_priority => :priority, p_send_after => :send_after, p_expires_at => :expires_at,
            p_reference => :reference, p_reply_code => :reply_code,
            p_source_system => :source_system, p_correlation_key => :correlation_key,
            p_created_by => :created_by, p_batch_id => :batch_id);
    else
        :new_id := sms_api.enqueue(
            p_sender_code => :sender_code, p_body => :body,
            p_recipient_type => :recipient_type, p_recipient_id => :recipient_id,
            p_priority => :priority, p_send_after => :send_after, p_expires_at => :expires_at,
            p_reference => :reference, p_reply_code => :reply_code,
            p_source_system => :source_system, p_correlation_key => :correlation_key,
            p_created_by => :created_by, p_batch_id => :batch_id);
    end if;
    :err_code := null;
    :err_text := null;
exception
    when others then
        l_code := sqlcode;
        -- Only sms_api's named errors are an item's answer; anything else (a cancel after
        -- call_timeout, a deadlock, ORA-04068) stops the call as the database error it is.
        if l_code not between -20018 and -20001 then
            raise;
        end if;
        l_text := substr(sqlerrm, 1, 2000);
        rollback to sms_batch_item;
        :new_id := null;
        :err_code := l_code;
        :err_text := l_text;
end;
"""


def _national_sizes(cursor: Any, names: Any, nvarchar: Any) -> None:
    sizes = {name: nvarchar for name in names if name in NATIONAL_TEXT_BINDS}
    if sizes:
        cursor.setinputsizes(**sizes)


def _read_row(names: Sequence[str], values: Sequence[Any]) -> Row:
    row: Row = {}
    for name, value in zip(names, values, strict=True):
        if name in TIMESTAMP_COLUMNS and isinstance(value, datetime):
            row[name] = value.replace(tzinfo=UTC)
        elif hasattr(value, "read"):  # CLOB
            row[name] = value.read()
        else:
            row[name] = value
    return row


class OracleTx(Tx):
    def __init__(self, conn: Any, nvarchar: Any, call_timeout_ms: int = 0) -> None:
        self.conn = conn
        self.cursor = conn.cursor()
        self.nvarchar = nvarchar  # oracledb.DB_TYPE_NVARCHAR (the driver is imported lazily)
        self.call_timeout_ms = call_timeout_ms  # [database] call_timeout_ms (0: none)

    def bound_call(self, floor_ms: int = 0) -> None:
        """Inside a bounded wait (a webhook's), let the next round trip take only what is left
        of it: python-oracledb's ``call_timeout`` (ms, per round trip, on this connection
        alone). A call that overruns it raises DPY-4024 (thin; DPI-1067/ORA-03156 thick), an
        outage to ``is_unavailable``. Used up, :class:`DatabaseWaitExceeded` unless
        ``floor_ms`` (a rollback still gets that long)."""
        try:
            budget = wait_budget_ms()
        except DatabaseWaitExceeded:
            if not floor_ms:
                raise
            budget = floor_ms
        if budget is None:
            return
        if not self.conn.is_healthy():
            # A dropped session (after DPY-4011) has no transport to time: setting
            # call_timeout there is not defined; the call itself will fail as an outage.
            return
        # Half the budget: a thin call that times out waits up to one more call_timeout for
        # the server's answer to its break (python-oracledb protocol.pyx), so a round trip
        # can take twice its call_timeout before the caller sees DPY-4024.
        budget = max(max(1, budget // 2), floor_ms)
        limit = self.call_timeout_ms
        self.conn.call_timeout = min(budget, limit) if limit > 0 else budget

    def execute(self, sql: str, params: Params | None = None) -> int:
        self.bound_call()
        _national_sizes(self.cursor, params or {}, self.nvarchar)
        self.cursor.execute(sql, _bind(params))
        return int(self.cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        if not rows:
            return 0
        self.bound_call()
        _national_sizes(self.cursor, rows[0], self.nvarchar)
        self.cursor.executemany(sql, [_bind(r) for r in rows])
        return int(self.cursor.rowcount)

    def rows(self, sql: str, params: Params | None = None) -> list[Row]:
        self.bound_call()
        _national_sizes(self.cursor, params or {}, self.nvarchar)
        self.cursor.execute(sql, _bind(params))
        names = [d[0].lower() for d in self.cursor.description or ()]
        return [_read_row(names, values) for values in self.cursor.fetchall()]


class OracleDialect(Dialect):
    name = "oracle"
    page_clause = PAGE_CLAUSE
    day_format = DAY_FORMAT
    any_ready_sql = ANY_READY_SQL
    thin = True  # python-oracledb's mode, set by __init__ (init_driver)
    _wait_limited = False  # limit_connection_wait was called (the inbound service)

    def __init__(
        self,
        url: str,
        password: str,
        *,
        pool_min: int = 1,
        pool_max: int = 4,
        call_timeout_ms: int = 30_000,
        client_identifier: str = "",
        database: DatabaseSettings | None = None,
    ) -> None:
        import oracledb  # only the Oracle adapter imports the driver

        self._oracledb = oracledb
        self.target = parse_url(url, password)
        self._location = f"{self.target.user}@{self.target.dsn}"
        self.call_timeout_ms = call_timeout_ms
        self.client_identifier = client_identifier or f"{MODULE}@{socket.gethostname()}"
        # The pool's wait for a free connection (ms), and the lock under which a bounded
        # caller lowers it for its own acquire (_acquire).
        # call_timeout_ms 0 is "no limit" for calls; the pool's wait must stay bounded all the
        # same (0 there would mean "do not wait at all": DPY-4005 at once).
        self._pool_wait_ms = min(call_timeout_ms, 10_000) if call_timeout_ms > 0 else 10_000
        self._acquire_lock = threading.Lock()
        # Thick mode (Oracle Instant Client) only before the first pool: the mode is then fixed.
        self.thin = init_driver(oracledb, database or DatabaseSettings())
        self.pool = oracledb.create_pool(
            user=self.target.user,
            password=self.target.password,
            dsn=self.target.dsn,
            min=pool_min,
            max=pool_max,
            increment=1,
            # Wait for a free connection for a bounded time: with every connection busy (more
            # threads than pool_max) a caller fails with DPY-4005, an outage it reports (the
            # worker alerts, a webhook is spooled), instead of hanging forever (GETMODE_WAIT).
            getmode=oracledb.POOL_GETMODE_TIMEDWAIT,
            # At most 10 s: Twilio gives up on a webhook after 15 s, and a webhook that cannot
            # get a connection in time must still be spooled and acknowledged.
            wait_timeout=self._pool_wait_ms,
            session_callback=self._init_session,
        )

    def _init_session(self, conn: Any, requested_tag: str | None) -> None:
        # Runs inside pool.acquire(), in the caller's thread, on a new session whose
        # call_timeout is still 0: bound it like any call (the caller may hold _acquire_lock,
        # and a database that hangs right then must not hold every webhook of the process).
        left, limit = wait_budget_ms(), self.call_timeout_ms
        conn.call_timeout = min(left, limit) if left and limit else (left or limit)
        # UTC session so any TIMESTAMP WITH TIME ZONE arithmetic agrees with the bridge.
        with conn.cursor() as cur:
            cur.execute("ALTER SESSION SET TIME_ZONE = 'UTC'")

    @contextmanager
    def transaction(self, action: str, *, write: bool = True) -> Iterator[Tx]:
        # Inside a bounded wait (a webhook's), the pool's wait (_acquire) and every round
        # trip (OracleTx.bound_call) take only what is left of it.
        conn = self._acquire()
        try:
            conn.call_timeout = self.call_timeout_ms
            conn.client_identifier = self.client_identifier
            conn.module = MODULE
            conn.action = action
            conn.inputtypehandler = self._input_type_handler
            tx = OracleTx(conn, self._oracledb.DB_TYPE_NVARCHAR, self.call_timeout_ms)
            tx.bound_call()
            try:
                yield tx
                tx.bound_call()
            except BaseException as exc:
                self._rollback(tx, exc)
                named = self._named_error(exc)
                if named is not None:
                    raise named from exc
                raise
            conn.commit()
        finally:
            self._release(conn)

    def _release(self, conn: Any) -> None:
        # The release may send a round trip (a rollback of an open transaction, 23ai request
        # boundaries) with whatever call_timeout was left: give it the floor, and drop a
        # connection whose release fails rather than let that mask the transaction's outcome.
        try:
            if conn.is_healthy():
                conn.call_timeout = ROLLBACK_FLOOR_MS if in_bounded_wait() else self.call_timeout_ms
            self.pool.release(conn)
        except Exception:
            with contextlib.suppress(Exception):
                self.pool.drop(conn)

    def _acquire(self) -> Any:
        """A pooled connection; inside a bounded wait, waited for only what is left of it.

        python-oracledb's acquire() takes no timeout of its own: the pool's ``wait_timeout``
        (POOL_GETMODE_TIMEDWAIT, ms) is lowered for this one acquire, under a lock so that
        two bounded callers never see each other's value (waiting for the lock counts
        against the wait too). Unbounded callers (the worker, the CLI) never take the lock;
        in the inbound service they may see a lowered value, never more than its own limit."""
        budget = wait_budget_ms()  # used up: DatabaseWaitExceeded before the pool is asked
        if budget is None:
            if not self._wait_limited:
                return self.pool.acquire()
            # The inbound service (limit_connection_wait): the /sms API and the console must
            # not inherit a webhook's lowered value for their acquire.
            with self._acquire_lock:
                self.pool.wait_timeout = self._pool_wait_ms
                return self.pool.acquire()
        if not self._acquire_lock.acquire(timeout=budget / 1000):
            raise DatabaseWaitExceeded("no pooled connection within the webhook's wait")
        try:
            left = wait_budget_ms() or budget
            self.pool.wait_timeout = min(self._pool_wait_ms, left)
            try:
                return self.pool.acquire()
            finally:
                self.pool.wait_timeout = self._pool_wait_ms
        finally:
            self._acquire_lock.release()

    def _rollback(self, tx: OracleTx, exc: BaseException) -> None:
        # Bounded too (at least ROLLBACK_FLOOR_MS): after a call timeout or a lost session the
        # rollback itself may fail or time out; the session is then dropped by the pool and
        # the original error, an outage, is what the caller must see.
        try:
            if not tx.conn.is_healthy():
                return  # nothing to roll back on a dropped session; the release drops it
            tx.bound_call(floor_ms=ROLLBACK_FLOOR_MS)
            tx.conn.rollback()
        except Exception:
            if not self.is_unavailable(exc):
                raise

    def limit_connection_wait(self, ms: int) -> None:
        # The pool's wait for a free connection (POOL_GETMODE_TIMEDWAIT, ms), for every caller
        # in this process: in the inbound service no request (webhook or API) waits longer
        # than the webhook wait for a connection that threads stuck on a hung database hold.
        with self._acquire_lock:
            self._pool_wait_ms = min(self._pool_wait_ms, int(ms))
            self.pool.wait_timeout = self._pool_wait_ms
            self._wait_limited = True

    def _named_error(self, exc: BaseException) -> errors.SmsError | None:
        """The named error for a value the database refused as not fitting its column:
        ORA-12899 (too long) is value_too_long, ORA-01400/ORA-01407 (NULL in a NOT NULL
        column) missing_value. The store checks every text against the DDL before binding it
        (bridge/domain/column_sizes.py); this catches what still escapes (a schema whose
        columns differ from the DDL, a statement whose binds were not checked), so it is a
        named error (400 in the REST API, exit 2 in the CLI), never an unexplained failure."""
        if not isinstance(exc, self._oracledb.DatabaseError) or not exc.args:
            return None
        from bridge.domain import column_sizes

        error = exc.args[0]
        code = str(getattr(error, "full_code", "") or "")
        return column_sizes.from_oracle(code, str(getattr(error, "message", "") or error))

    def _input_type_handler(self, cursor: Any, value: Any, arraysize: int) -> Any:
        # python-oracledb binds a datetime as DATE, which drops the fractional seconds; every
        # instant of the bridge goes into a TIMESTAMP column, so bind it as one. This covers
        # execute, executemany and callfunc/callproc alike.
        if isinstance(value, datetime):
            return cursor.var(self._oracledb.DB_TYPE_TIMESTAMP, arraysize=arraysize)
        return None

    def close(self) -> None:
        self.pool.close(force=True)

    def check_usable(self) -> None:
        self.check_national_charset()

    def check_national_charset(self) -> None:
        """ConfigError (one line) when thin mode cannot handle the national character set."""
        with self.transaction("check", write=False) as tx:
            check_national_charset(tx.cursor, self.thin)  # type: ignore[attr-defined]

    def install(self, plsql_dir: Path | None, with_demo: bool, now: datetime) -> InstallReport:
        from bridge.store.oracle_script import install_files, split_statements

        plsql_dir = plsql_dir or default_plsql_dir()
        report = InstallReport()
        installed: set[str] = set()  # one object per file, named as the file
        with self.transaction("install") as tx:
            cursor = tx.cursor  # type: ignore[attr-defined]
            check_national_charset(cursor, self.thin)  # before any script runs
            # The DDL's bare varchar2(30) takes the session's length semantics: BYTE, as
            # bridge/domain/column_sizes.py and sms_api's LENGTHB checks read them, whatever a
            # site's NLS_LENGTH_SEMANTICS default (CHAR would make the checks stricter than the
            # columns). Affects only DDL and PL/SQL declarations compiled in this session.
            cursor.execute("alter session set nls_length_semantics = byte")
            for path in install_files(plsql_dir):
                if not with_demo and "demo" in path.relative_to(plsql_dir).parts[:-1]:
                    continue
                installed.add(path.stem.upper())
                for statement in split_statements(path.read_text(encoding="utf-8")):
                    try:
                        cursor.execute(statement)
                        report.statements += 1
                    except self._oracledb.DatabaseError as exc:
                        (error,) = exc.args
                        if getattr(error, "code", None) in ALREADY_EXISTS:
                            report.already_present += 1
                            continue
                        raise errors.StoreError(
                            f"{path.name}: {str(error).splitlines()[0]}"
                        ) from None
            binds = {f"n{i}": name for i, name in enumerate(sorted(installed))}
            in_list = ", ".join(f":{b}" for b in binds) or "NULL"
            problems = tx.rows(USER_ERRORS_SQL.format(names=in_list), binds)
            if problems:
                first = problems[0]
                raise errors.StoreError(
                    f"{len(problems)} compilation error(s) in USER_ERRORS; first: "
                    f"{first['type']} {first['name']} line {first['line']}: {first['text']}"
                )
            report.schema_version = int(tx.scalar(SCHEMA_VERSION_SQL) or 0)
        return report

    def enqueue(self, tx: Tx, request: EnqueueRequest, now: datetime) -> int:
        assert isinstance(tx, OracleTx)
        kwargs: dict[str, Any] = {
            "p_sender_code": request.sender_code,
            "p_body": request.body,
            "p_priority": request.priority,
            "p_send_after": to_db(request.send_after),
            "p_expires_at": to_db(request.expires_at),
            "p_reference": request.reference,
            "p_reply_code": request.reply_code,
            "p_source_system": request.source_system,
            "p_correlation_key": request.correlation_key,
            "p_created_by": request.created_by,
        }
        if request.batch_id is not None:  # else its default: no untyped None for a NUMBER
            kwargs["p_batch_id"] = request.batch_id
        by_reference = request.recipient_type is not None or request.recipient_id is not None
        if request.to_number is not None and by_reference:
            # Both kinds of recipient (as on SQLite): sms_api has no call taking both, and
            # dropping either silently would send to someone the caller did not name.
            raise errors.RecipientCountError()
        if request.to_number is not None:
            function = "sms_api.enqueue_number"
            kwargs["p_to_number"] = request.to_number
        else:
            function = "sms_api.enqueue"
            kwargs["p_recipient_type"] = request.recipient_type
            kwargs["p_recipient_id"] = request.recipient_id
        # The body is NVARCHAR2: bind it as national text so a non-AL32UTF8 database
        # character set cannot mangle characters on the way in. A variable, not
        # setinputsizes(p_body=...): callfunc binds by position (p_body => :3), and named
        # input sizes on the same cursor would raise DPY-2006 (positional and named binds
        # cannot be intermixed).
        body = tx.cursor.var(self._oracledb.DB_TYPE_NVARCHAR, max(1, len(request.body)))
        body.setvalue(0, request.body)
        kwargs["p_body"] = body
        try:
            new_id = tx.cursor.callfunc(
                function, self._oracledb.DB_TYPE_NUMBER, keyword_parameters=kwargs
            )
        except self._oracledb.DatabaseError as exc:
            (error,) = exc.args
            mapped = errors.from_oracle(-int(getattr(error, "code", 0)), str(error))
            if mapped is not None:
                raise mapped from None
            raise
        return int(new_id)

    def enqueue_many(
        self, tx: Tx, requests: Sequence[EnqueueRequest], now: datetime
    ) -> list[int | errors.SmsError]:
        """One ``executemany`` for the lot over ENQUEUE_ITEM_BLOCK (two round trips when the
        cursor runs the block for the first time: thin mode sends its first row alone, then
        the rest in one), which calls
        sms_api.enqueue (or enqueue_number) per item under a savepoint and hands back each
        id or error. Not ``batcherrors=True``: Oracle's array DML error handling covers
        INSERT/UPDATE/DELETE/MERGE only, and a PL/SQL block executed many times stops at its
        first unhandled error; the block handles its own, so every item gets its answer."""
        assert isinstance(tx, OracleTx)
        if not requests:
            return []
        db = self._oracledb
        # Both kinds of recipient is that item's recipient_count (as on SQLite), not the lot's:
        # sms_api has no call taking both. The others go on.
        both = [
            r.to_number is not None and (r.recipient_type is not None or r.recipient_id is not None)
            for r in requests
        ]
        if any(both):
            rest = iter(
                self.enqueue_many(
                    tx, [r for r, b in zip(requests, both, strict=True) if not b], now
                )
                if not all(both)
                else []
            )
            return [errors.RecipientCountError() if b else next(rest) for b in both]
        cursor = tx.cursor
        n = len(requests)
        new_id = cursor.var(db.DB_TYPE_NUMBER, arraysize=n)
        err_code = cursor.var(db.DB_TYPE_NUMBER, arraysize=n)
        err_text = cursor.var(db.DB_TYPE_VARCHAR, 2000, arraysize=n)

        # Every bind typed, and sized as its column (the store has checked every text against
        # it): thin mode would take a column whose first rows are None for VARCHAR2 (its type
        # for None) when later rows carry numbers or timestamps, and sizes that follow each
        # chunk's longest value would change the bind metadata from chunk to chunk, which
        # makes thin mode run the block's first row on its own again (a second round trip).
        # Texts as VARCHAR2, the body as national text (NVARCHAR2, as in enqueue).
        columns = column_sizes.COLUMNS["sms_outbound"]
        texts = (
            "sender_code",
            "recipient_type",
            "recipient_id",
            "to_number",
            "reference",
            "reply_code",
            "source_system",
            "correlation_key",
            "created_by",
        )
        sizes: dict[str, Any] = {name: columns[name].size for name in texts}
        body = cursor.var(db.DB_TYPE_NVARCHAR, columns["body"].size, arraysize=n)
        cursor.setinputsizes(
            **sizes,
            body=body,
            priority=db.DB_TYPE_NUMBER,
            send_after=db.DB_TYPE_TIMESTAMP,
            expires_at=db.DB_TYPE_TIMESTAMP,
            batch_id=db.DB_TYPE_NUMBER,
            new_id=new_id,
            err_code=err_code,
            err_text=err_text,
        )
        rows = [
            {
                "sender_code": r.sender_code,
                "body": r.body,
                "recipient_type": r.recipient_type,
                "recipient_id": r.recipient_id,
                "to_number": r.to_number,
                "priority": r.priority,
                "send_after": to_db(r.send_after),
                "expires_at": to_db(r.expires_at),
                "reference": r.reference,
                "reply_code": r.reply_code,
                "source_system": r.source_system,
                "correlation_key": r.correlation_key,
                "created_by": r.created_by,
                "batch_id": r.batch_id,
            }
            for r in requests
        ]
        tx.bound_call()
        cursor.executemany(ENQUEUE_ITEM_BLOCK, rows)
        results: list[int | errors.SmsError] = []
        for i in range(n):
            code = err_code.getvalue(i)
            if code is None:
                results.append(int(new_id.getvalue(i)))
                continue
            text = str(err_text.getvalue(i) or "")
            # SQLCODE is already negative (-20002), as from_oracle takes it.
            mapped = errors.from_oracle(int(code), text)
            if mapped is None:
                # Not one of sms_api's named errors (ORA-00001 on an identity, a lost
                # privilege): a fault of the installation, not of the item.
                raise errors.BridgeError(f"sms_api.enqueue failed for item {i}: {text}")
            results.append(mapped)
        return results

    def begin_batch(
        self, tx: Tx, source: str, label: str | None, created_by: str | None, now: datetime
    ) -> int:
        assert isinstance(tx, OracleTx)
        kwargs: dict[str, Any] = {"p_source": source}
        if label is not None:
            kwargs["p_label"] = label
        if created_by is not None:
            kwargs["p_created_by"] = created_by
        tx.bound_call()
        new_id = tx.cursor.callfunc(
            "sms_api.begin_batch", self._oracledb.DB_TYPE_NUMBER, keyword_parameters=kwargs
        )
        return int(new_id)

    def insert_returning_id(self, tx: Tx, sql: str, params: Params) -> int:
        assert isinstance(tx, OracleTx)
        new_id = tx.cursor.var(self._oracledb.DB_TYPE_NUMBER)
        tx.bound_call()
        _national_sizes(tx.cursor, params, tx.nvarchar)
        tx.cursor.execute(
            sql.rstrip() + " RETURNING id INTO :new_id", {**_bind(params), "new_id": new_id}
        )
        return int(new_id.getvalue()[0])

    def claim(self, tx: Tx, sender_code: str, limit: int, now: datetime) -> list[int]:
        assert isinstance(tx, OracleTx)
        cursor = tx.conn.cursor()
        cursor.prefetchrows = limit
        cursor.arraysize = limit
        cursor.execute(CLAIM_SQL, _bind({"sender_code": sender_code, "now": now}))
        rows = cursor.fetchmany(limit)
        cursor.close()  # rows beyond the first n were never fetched, so never locked
        return [int(r[0]) for r in rows]

    def insert_inbound(self, tx: Tx, params: Params) -> tuple[int, bool]:
        columns = list(params)
        sql = (
            f"INSERT INTO sms_inbound ({', '.join(columns)})"
            f" VALUES ({', '.join(':' + c for c in columns)})"
        )
        try:
            return self.insert_returning_id(tx, sql, params), True
        except self._oracledb.IntegrityError:
            # ORA-00001 on message_sid: Twilio retried a webhook we already stored.
            existing = tx.scalar(
                "SELECT id FROM sms_inbound WHERE message_sid = :sid",
                {"sid": params["message_sid"]},
            )
            if existing is None:
                raise
            return int(existing), False

    def insert_callback_event(self, tx: Tx, params: Params) -> bool:
        try:
            tx.execute(queries.INSERT_CALLBACK_EVENT, params)
        except self._oracledb.IntegrityError:
            # ORA-00001 on sms_events_callback_ux: the same callback, recorded by another
            # session (the insert waited for its commit). Anything else is not ours to hide.
            existing = tx.scalar(
                "SELECT id FROM sms_events WHERE callback_key = :key",
                {"key": params["callback_key"]},
            )
            if existing is None:
                raise
            return False
        return True

    def upsert_optout(self, tx: Tx, params: Params) -> None:
        try:
            tx.execute(UPSERT_OPTOUT_SQL, params)
        except self._oracledb.IntegrityError:
            # ORA-00001: two first changes for one number and scope both took the insert
            # branch; the other committed first. Oracle undid only this statement, so run it
            # again: it now updates (and the reply stored with it is kept).
            tx.execute(UPSERT_OPTOUT_SQL, params)

    def ensure_job_run(self, tx: Tx, job: str, start: datetime) -> None:
        # ORA-00001: another worker created it between our MERGE's check and its insert.
        with contextlib.suppress(self._oracledb.IntegrityError):
            tx.execute(ENSURE_JOB_RUN_SQL, {"job": job, "first_run": start})

    def probe_write(self, tx: Tx, update_sql: str) -> None:
        # A row lock that skips one held (by another scrape, or by a session lost between its
        # probe and its rollback, which keeps the lock until Oracle notices): still the write
        # path (a lock writes redo; a read-only or stuck database refuses it), never a wait.
        tx.rows(PROBE_WRITE_SQL)

    def lock_send_gate(self, tx: Tx, now: datetime) -> None:
        # One row of sms_job_runs is the gate: held until this transaction ends, so of two
        # workers preparing identical twins one sees the other's committed SENDING row. The
        # first use creates the row (two at once: the loser's MERGE waits for the winner's
        # commit, then gets ORA-00001, suppressed, and locks the committed row).
        try:
            if tx.row(LOCK_SEND_GATE_SQL, {"job": SEND_GATE}) is None:
                self.ensure_job_run(tx, SEND_GATE, now)
                if tx.row(LOCK_SEND_GATE_SQL, {"job": SEND_GATE}) is None:
                    raise errors.StoreError(
                        "sms_job_runs has no send-gate row, and none could be made"
                    )
        except self._oracledb.DatabaseError as exc:
            error = exc.args[0] if exc.args else None
            # ORA-30006: WAIT 5 ran out. DPY-4024: the call timed out first ([database]
            # call_timeout_ms under 5 s, or a bounded caller's budget): a busy gate all the
            # same, so the round's claims are given back rather than left to their leases.
            if str(getattr(error, "full_code", "") or "") in ("ORA-30006", "DPY-4024"):
                raise errors.SendGateBusy(
                    "the identical-twin gate (sms_job_runs 'send-gate') was not free in time"
                ) from None
            raise

    def lock_sender(self, tx: Tx, code: str) -> Row | None:
        # A plain row lock: the token bucket of one sender is shared by every worker, and the
        # lock is held only for the claim transaction. Enqueue never takes it.
        return tx.row(LOCK_SENDER_SQL, {"code": code})

    def location(self) -> str:
        return self._location  # user@host:port/service: never the password

    def is_undefined_table(self, exc: BaseException) -> bool:
        # ORA-00942: table or view does not exist (or this user has no grant on it). The
        # driver's _Error takes full_code from the message's prefix ("ORA-00942: ...").
        if not isinstance(exc, self._oracledb.DatabaseError) or not exc.args:
            return False
        return str(getattr(exc.args[0], "full_code", "") or "") == "ORA-00942"

    # -- inbound service (bridge/store/inbound_store.py) ---------------------------------

    def is_unavailable(self, exc: BaseException) -> bool:
        # Connection refused or lost, the listener or the instance down: OperationalError or
        # InterfaceError. python-oracledb raises some outages as a plain DatabaseError, though
        # (DPY-4005 no pooled connection in time, DPY-4011 connection closed, DPY-4024 call
        # timeout, and the ORA errors of a lost session), or marks them recoverable. The rest
        # of DPY-4xxx are bugs or bad data (4004 invalid number, 4008 no such bind), like
        # constraint and PL/SQL errors: never spooled, never reported as an outage.
        oracledb = self._oracledb
        if isinstance(
            exc,
            oracledb.OperationalError | oracledb.InterfaceError | OSError | DatabaseWaitExceeded,
        ):
            return True  # DatabaseWaitExceeded: the webhook's bounded wait was used up
        if not isinstance(exc, oracledb.DatabaseError) or not exc.args:
            return False
        error = exc.args[0]
        code = str(getattr(error, "full_code", "") or "")
        return code in _OUTAGE_CODES or bool(getattr(error, "isrecoverable", False))

    def call_procedure(self, tx: Tx, name: str, args: Sequence[Any]) -> None:
        # callproc splices the name into an anonymous block: refuse anything but plain
        # [schema.]package.procedure identifiers rather than try to quote it.
        if not _PROCEDURE_NAME.fullmatch(name):
            raise errors.StoreError(f"reply handler {name!r} is not a procedure name")
        assert isinstance(tx, OracleTx)
        tx.cursor.callproc(name, list(args))

    # -- contacts (bridge/store/contacts.py) ---------------------------------------------

    def upsert_contacts(self, tx: Tx, rows: Sequence[Params]) -> None:
        assert isinstance(tx, OracleTx)
        if not rows:
            return
        # Typed binds, sized as the columns (the store has checked every value against
        # COLUMN_SIZES): a None in the first row cannot leave a bind typed or sized by it for
        # the later rows, and every import shares one cursor in the shared pool whatever its
        # longest value. All of them VARCHAR2: sms_contacts has no NVARCHAR2 column (names
        # are VARCHAR2(200 CHAR), as in hr_demo_employees and the recipients view).
        texts: dict[str, Any] = {column: spec.size for column, spec in COLUMN_SIZES.items()}
        tx.cursor.setinputsizes(**texts, now=self._oracledb.DB_TYPE_TIMESTAMP)
        tx.cursor.executemany(UPSERT_CONTACT_SQL, [_bind(row) for row in rows])


# Outages raised as a plain DatabaseError: the driver's (no pooled connection in time,
# connection closed, call timeout) and a session that went away under us (the instance, the
# network or a DBA ended it).
_OUTAGE_CODES = frozenset(
    {
        "DPY-4005",
        "DPY-4011",
        "DPY-4024",
        # Thick mode's: call timeout (DPI-1067, ORA-03156), no pooled session in time
        # (ORA-24457, ORA-24459). python-oracledb rewrites most of them to DPY-4024/DPY-4005
        # (ERR_ORACLE_ERROR_XREF); listed anyway, as the codes an operator may see in logs.
        "DPI-1067",
        "ORA-03156",
        "ORA-24457",
        "ORA-24459",
        "ORA-00028",
        "ORA-01012",
        "ORA-01033",
        "ORA-01089",
        "ORA-03113",
        "ORA-03114",
        "ORA-03135",
        # Writes refused by the database's state, not by our SQL: a read-only standby or PDB
        # (ORA-16000), a stuck archiver (ORA-00257). /health says degraded; webhooks spool.
        "ORA-16000",
        "ORA-00257",
    }
)

# [schema.]package.procedure, each part an ordinary Oracle identifier.
_PROCEDURE_NAME = re.compile(r"^[A-Za-z][\w$#]{0,127}(\.[A-Za-z][\w$#]{0,127}){0,2}$", re.ASCII)


def default_plsql_dir() -> Path:
    """plsql/ of a source checkout (the bridge is installed editable or run from the repo)."""
    return Path(__file__).resolve().parents[2] / "plsql"
