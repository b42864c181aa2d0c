"""The SQLite engine: the embedded default (demo, tests, small single-node use).

WAL mode and a busy timeout let the worker and gunicorn's worker processes share one file;
writers take the write lock up front (``BEGIN IMMEDIATE``) so a read-then-write transaction can
never fail half way with SQLITE_BUSY on lock upgrade. One connection per thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from bridge import errors
from bridge.domain import enqueue_rules
from bridge.domain.models import EnqueueRequest, InstallReport, Sender
from bridge.store import queries
from bridge.store.dialect import (
    TIMESTAMP_COLUMNS,
    DatabaseWaitExceeded,
    Dialect,
    Params,
    Row,
    Tx,
    require_utc,
    wait_budget_ms,
)

SCHEMA_VERSION = 1
SCHEMA_DESCRIPTION = "initial schema: queue, events, inbound, opt-outs, keywords, API keys"
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"  # fixed width, so text order is time order

# sms_contacts by key (bridge/store/contacts.py): created_at is kept, the rest replaced.
UPSERT_CONTACT_SQL = """
INSERT INTO sms_contacts (recipient_type, recipient_id, full_name, mobile_number, time_zone,
                          manager_email, created_at, updated_at)
VALUES (:recipient_type, :recipient_id, :full_name, :mobile_number, :time_zone,
        :manager_email, :now, :now)
ON CONFLICT (recipient_type, recipient_id) DO UPDATE
   SET full_name = excluded.full_name, mobile_number = excluded.mobile_number,
       time_zone = excluded.time_zone, manager_email = excluded.manager_email,
       updated_at = excluded.updated_at
"""


def to_db(value: Any) -> Any:
    if isinstance(value, datetime):
        return require_utc(value).strftime(_TS_FORMAT)
    if isinstance(value, bool):
        return "Y" if value else "N"
    return value


def _bind(params: Params | None) -> dict[str, Any]:
    return {k: to_db(v) for k, v in (params or {}).items()}


def _read_row(names: Sequence[str], values: Sequence[Any]) -> Row:
    row: Row = {}
    for name, value in zip(names, values, strict=True):
        if name in TIMESTAMP_COLUMNS and isinstance(value, str):
            row[name] = datetime.fromisoformat(value).astimezone(UTC)
        else:
            row[name] = value
    return row


class SQLiteTx(Tx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params | None = None) -> int:
        return self._conn.execute(sql, _bind(params)).rowcount

    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        if not rows:
            return 0
        return self._conn.executemany(sql, [_bind(r) for r in rows]).rowcount

    def rows(self, sql: str, params: Params | None = None) -> list[Row]:
        cur = self._conn.execute(sql, _bind(params))
        names = [d[0].lower() for d in cur.description or ()]
        return [_read_row(names, values) for values in cur.fetchall()]


class SQLiteDialect(Dialect):
    name = "sqlite"
    page_clause = "LIMIT :limit OFFSET :offset"
    any_ready_sql = (
        "SELECT EXISTS (SELECT 1 FROM sms_outbound"
        " WHERE status = 'QUEUED' AND next_attempt_at <= :now) AS n"
    )
    day_format = "substr({column}, 1, 10)"  # ISO text: the date part is the UTC day

    def __init__(self, path: Path, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def location(self) -> str:
        return str(self.path.resolve())

    def setup_warnings(self) -> list[str]:
        # Every number and message is in the file; SQLite gives its -wal/-shm the same mode.
        main = self.path.resolve()
        mode = main.stat().st_mode & 0o777
        if not mode & 0o066:
            return []
        return [
            f"{main} is {mode:04o}: other local users can read or change every number and"
            f" message: chmod 0600 {main} (and its -wal/-shm files, if present)"
        ]

    def _connection(self, *, create: bool = False) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Only `db install` creates the file (and its directories): anything else opening
            # a path that does not exist is a mistyped url or a missing install, and an empty
            # database created here would only fail later with "no such table".
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # Every number and message is in this file: create it 0600 ourselves (sqlite3
                # would create it 0644 under the usual umask). SQLite gives the -wal and -shm
                # files the main file's mode, so they are 0600 too. An existing file keeps its
                # mode (`db check` warns about a wide one).
                if not self.path.exists():
                    self.path.touch(mode=0o600)
            elif not self.path.exists():
                raise errors.SchemaMissingError(f"{self.location()} (the file does not exist)")
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}",
                uri=True,
                timeout=self.busy_timeout_ms / 1000,
                isolation_level=None,  # we issue BEGIN ourselves
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, action: str, *, write: bool = True) -> Iterator[Tx]:
        conn = self._connection()
        # Inside a bounded wait (a webhook's): wait for the write lock only what is left of it.
        # The connection is this thread's, so the pragma never shortens another's wait.
        budget = wait_budget_ms()
        if budget is not None:
            conn.execute(f"PRAGMA busy_timeout = {min(budget, int(self.busy_timeout_ms))}")
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield SQLiteTx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            if budget is not None:
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # Columns added since the first schema, nullable without a default: an older database gets
    # them by ALTER before the script (whose indexes may name them) runs. Changed columns still
    # need a hand-made migration (docs/operations.md).
    ADDED_COLUMNS = (
        ("sms_events", "callback_key", "TEXT"),
        (
            "sms_senders",
            "validity_seconds",
            "INTEGER CHECK (validity_seconds BETWEEN 1 AND 36000)",
        ),
        # NOT NULL needs its DEFAULT here: ALTER TABLE fills the existing rows with it.
        (
            "sms_senders",
            "line_type_lookup",
            "TEXT NOT NULL DEFAULT 'N' CHECK (line_type_lookup IN ('Y', 'N'))",
        ),
        ("sms_senders", "twilio_account", "TEXT"),
        (
            "sms_senders",
            "dedupe_window_seconds",
            "INTEGER CHECK (dedupe_window_seconds BETWEEN 1 AND 2592000)",
        ),
        # sms_batches itself comes from the script (CREATE TABLE IF NOT EXISTS) right after.
        ("sms_outbound", "batch_id", "INTEGER REFERENCES sms_batches (id)"),
        ("sms_outbound", "duplicate_of", "INTEGER"),
        ("sms_outbound", "price", "REAL"),
        ("sms_outbound", "price_unit", "TEXT"),
        ("sms_outbound", "purged_at", "TEXT"),
        ("sms_inbound", "purged_at", "TEXT"),
    )

    @staticmethod
    def _add_missing_columns(conn: sqlite3.Connection, report: InstallReport) -> None:
        for table, column, kind in SQLiteDialect.ADDED_COLUMNS:
            present = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            if present and column not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                report.notes.append(f"added column {table}.{column}")

    def install(self, plsql_dir: Path | None, with_demo: bool, now: datetime) -> InstallReport:
        report = InstallReport()
        conn = self._connection(create=True)
        before = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")
        }
        self._add_missing_columns(conn, report)
        files = ["schema_sqlite.sql"] + (["demo_sqlite.sql"] if with_demo else [])
        for file in files:
            script = resources.files("bridge.store").joinpath(file).read_text(encoding="utf-8")
            conn.executescript(script)
            report.statements += script.count(";")
        after = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")
        }
        report.already_present = len(before & after)
        with self.transaction("install") as tx:
            current = tx.scalar(queries.SCHEMA_VERSION) or 0
            if current < SCHEMA_VERSION:
                tx.execute(
                    "INSERT INTO sms_schema_version (version, description, installed_at)"
                    " VALUES (:v, :d, :now)",
                    {"v": SCHEMA_VERSION, "d": SCHEMA_DESCRIPTION, "now": now},
                )
                report.notes.append(f"schema version {SCHEMA_VERSION} recorded")
            else:
                report.notes.append(f"schema already at version {current}: nothing to do")
            report.schema_version = max(current, SCHEMA_VERSION)
        return report

    def enqueue(self, tx: Tx, request: EnqueueRequest, now: datetime) -> int:
        # The same checks, in the same order, as sms_api.enqueue in PL/SQL.
        request = enqueue_rules.blank_as_null(request)
        enqueue_rules.check_shape(request)
        # A retried call gets its original id back even if the sender or recipient changed since.
        if request.source_system is not None:
            existing = tx.scalar(
                queries.FIND_BY_CORRELATION,
                {
                    "source_system": request.source_system,
                    "correlation_key": request.correlation_key,
                },
            )
            if existing is not None:
                return int(existing)
        sender_row = tx.row(queries.GET_SENDER, {"code": request.sender_code})
        enqueue_rules.check_sender(
            request.sender_code,
            None
            if sender_row is None
            else Sender(code=request.sender_code, active=sender_row["active"] == "Y"),
        )
        if request.recipient_type is not None:
            found = tx.row(
                queries.GET_RECIPIENT,
                {"recipient_type": request.recipient_type, "recipient_id": request.recipient_id},
            )
            if found is None:
                raise errors.UnknownRecipientError(request.recipient_type, request.recipient_id)
        if (
            request.batch_id is not None
            and tx.row(queries.BATCH_EXISTS, {"id": request.batch_id}) is None
        ):
            raise errors.UnknownBatchError(request.batch_id)
        new_id = self.insert_returning_id(
            tx,
            queries.INSERT_OUTBOUND,
            {
                "sender_code": request.sender_code,
                "recipient_type": request.recipient_type,
                "recipient_id": request.recipient_id,
                "to_number": request.to_number,
                "body": request.body,
                "priority": request.priority,
                "reference": request.reference,
                # Replies are searched for codes upper-cased (sms_api.queue does the same).
                "reply_code": request.reply_code.upper() if request.reply_code else None,
                "source_system": request.source_system,
                "correlation_key": request.correlation_key,
                "send_after": request.send_after,
                "expires_at": request.expires_at,
                "next_attempt_at": request.send_after or now,
                "created_by": request.created_by,
                "now": now,
                "batch_id": request.batch_id,
            },
        )
        tx.execute(
            queries.INSERT_EVENT,
            {
                "outbound_id": new_id,
                "event_at": now,
                "status": "QUEUED",
                "provider_status": None,
                "error_code": None,
                "source": enqueue_rules.event_source(request.created_by),
                "applied": "Y",
                "detail": None,
            },
        )
        return new_id

    def enqueue_many(
        self, tx: Tx, requests: Sequence[EnqueueRequest], now: datetime
    ) -> list[int | errors.SmsError]:
        # A savepoint per item: a refusal (raised before or after its insert) takes back only
        # what that item wrote.
        results: list[int | errors.SmsError] = []
        for request in requests:
            tx.execute("SAVEPOINT sms_batch_item")
            try:
                results.append(self.enqueue(tx, request, now))
            except errors.SmsError as exc:
                tx.execute("ROLLBACK TO sms_batch_item")
                results.append(exc)
            tx.execute("RELEASE sms_batch_item")
        return results

    def begin_batch(
        self, tx: Tx, source: str, label: str | None, created_by: str | None, now: datetime
    ) -> int:
        return self.insert_returning_id(
            tx,
            queries.INSERT_BATCH,
            {"source": source, "label": label, "created_by": created_by, "now": now},
        )

    def insert_returning_id(self, tx: Tx, sql: str, params: Params) -> int:
        found = tx.row(sql.rstrip() + " RETURNING id", params)
        assert found is not None
        return int(found["id"])

    def claim(self, tx: Tx, sender_code: str, limit: int, now: datetime) -> list[int]:
        # BEGIN IMMEDIATE already holds the database write lock: no other claimer can run
        # between this read and the caller's update.
        found = tx.rows(
            """
            SELECT id FROM sms_outbound
             WHERE status = 'QUEUED' AND sender_code = :sender_code AND next_attempt_at <= :now
             ORDER BY priority, id
             LIMIT :limit
            """,
            {"sender_code": sender_code, "now": now, "limit": limit},
        )
        return [int(r["id"]) for r in found]

    def insert_inbound(self, tx: Tx, params: Params) -> tuple[int, bool]:
        columns = list(params)
        inserted = tx.row(
            f"INSERT INTO sms_inbound ({', '.join(columns)})"
            f" VALUES ({', '.join(':' + c for c in columns)})"
            " ON CONFLICT (message_sid) DO NOTHING RETURNING id",
            params,
        )
        if inserted is not None:
            return int(inserted["id"]), True
        existing = tx.scalar(
            "SELECT id FROM sms_inbound WHERE message_sid = :sid", {"sid": params["message_sid"]}
        )
        return int(existing), False

    def insert_callback_event(self, tx: Tx, params: Params) -> bool:
        # BEGIN IMMEDIATE serializes writers: a known key is there, never being inserted.
        sql = queries.INSERT_CALLBACK_EVENT.rstrip() + " ON CONFLICT (callback_key) DO NOTHING"
        return tx.execute(sql, params) == 1

    def upsert_optout(self, tx: Tx, params: Params) -> None:
        # An older change never overwrites a newer one (spool replay, out-of-order commits).
        tx.execute(
            """
            INSERT INTO sms_optouts (phone_number, scope, state, keyword, source, changed_at)
            VALUES (:phone_number, :scope, :state, :keyword, :source, :changed_at)
            ON CONFLICT (phone_number, scope) DO UPDATE
               SET state = excluded.state, keyword = excluded.keyword,
                   source = excluded.source, changed_at = excluded.changed_at
             WHERE excluded.changed_at >= sms_optouts.changed_at
            """,
            params,
        )

    def ensure_job_run(self, tx: Tx, job: str, start: datetime) -> None:
        tx.execute(
            "INSERT OR IGNORE INTO sms_job_runs (job_name, last_run_at) VALUES (:job, :first_run)",
            {"job": job, "first_run": start},
        )

    def lock_sender(self, tx: Tx, code: str) -> Row | None:
        # BEGIN IMMEDIATE serializes writers on the whole file, which includes this row.
        return tx.row(queries.GET_SENDER, {"code": code})

    # -- inbound service (bridge/store/inbound_store.py) ---------------------------------

    def is_undefined_table(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)

    def is_unavailable(self, exc: BaseException) -> bool:
        if isinstance(exc, errors.SchemaMissingError | DatabaseWaitExceeded):
            # The file is gone (an unmounted volume?), or the webhook's wait is used up:
            # spool, lose nothing.
            return True
        # OperationalError: locked past busy_timeout, cannot open, disk I/O, read-only file;
        # DatabaseError itself: a corrupt or foreign file; OSError: the database's directory
        # cannot be created. Integrity, programming and data errors (a value the schema does
        # not take) are bugs or bad input, not outages: spooling them would retry forever.
        if isinstance(
            exc,
            sqlite3.IntegrityError
            | sqlite3.ProgrammingError
            | sqlite3.DataError
            | sqlite3.InterfaceError
            | sqlite3.NotSupportedError,
        ):
            return False
        return isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError | OSError)

    def call_procedure(self, tx: Tx, name: str, args: Sequence[Any]) -> None:
        raise errors.StoreError(
            f"reply handler {name!r}: SQLite has no stored procedures; register a Python"
            " callable under that name (bridge.replies.dispatcher)"
        )

    # -- contacts (bridge/store/contacts.py) ---------------------------------------------

    def upsert_contacts(self, tx: Tx, rows: Sequence[Params]) -> None:
        # Inside the caller's BEGIN IMMEDIATE: a failing row rolls back the whole batch.
        tx.executemany(UPSERT_CONTACT_SQL, rows)
