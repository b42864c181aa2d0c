"""What differs between the engines, behind one small interface.

SQL that both engines accept lives in :mod:`bridge.store.queries`; everything engine-specific
(connections, claiming, RETURNING, paging, upsert, the enqueue path) lives in one dialect module
per engine: :mod:`bridge.store.sqlite_dialect` and :mod:`bridge.store.oracle_dialect`.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge import errors
from bridge.domain.models import EnqueueRequest, InstallReport
from bridge.errors import SmsError

Row = dict[str, Any]
Params = Mapping[str, Any]

# Columns holding instants; read back as aware UTC datetimes whatever the engine stores.
TIMESTAMP_COLUMNS = frozenset(
    {
        "created_at",
        "acknowledged_at",
        "updated_at",
        "submitted_at",
        "final_at",
        "send_after",
        "expires_at",
        "next_attempt_at",
        "claimed_at",
        "lease_until",
        "event_at",
        "received_at",
        "processed_at",
        "changed_at",
        "revoked_at",
        "last_used_at",
        "installed_at",
        "tokens_at",
        "last_run_at",
        "looked_up_at",
        "purged_at",
    }
)


# The deadline (time.monotonic()) of the bounded database wait of the current request, when
# one is set (Dialect.bounded_wait): per thread and per context, so concurrent requests under
# gunicorn's threads each have their own.
_WAIT_DEADLINE: ContextVar[float | None] = ContextVar("sms_bridge_db_wait_deadline", default=None)


class DatabaseWaitExceeded(errors.StoreError):
    """The bounded wait of this request was used up before the database answered: an outage
    for the caller (``is_unavailable`` is true), so a webhook is spooled, not kept waiting."""


def in_bounded_wait() -> bool:
    """Whether the current request runs inside a bounded wait (used up or not)."""
    return _WAIT_DEADLINE.get() is not None


def wait_budget_ms() -> int | None:
    """What is left of the current bounded wait, in ms (at least 1); None when unbounded.

    Raises :class:`DatabaseWaitExceeded` when the wait is used up: the dialects call it before
    each wait (a lock, a pooled connection, a round trip) and bound that wait by it."""
    deadline = _WAIT_DEADLINE.get()
    if deadline is None:
        return None
    left = int((deadline - time.monotonic()) * 1000)
    if left <= 0:
        raise DatabaseWaitExceeded("the database did not answer within the webhook's wait")
    return left


def require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the bridge passes aware UTC instants")
    return value.astimezone(UTC)


class Tx(abc.ABC):
    """One transaction on one connection. Binds use ``:name`` on both engines."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement; return the number of rows it changed."""

    @abc.abstractmethod
    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        """Run a statement once per row; return the total number of rows it changed."""

    @abc.abstractmethod
    def rows(self, sql: str, params: Params | None = None) -> list[Row]: ...

    def row(self, sql: str, params: Params | None = None) -> Row | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Params | None = None) -> Any:
        found = self.row(sql, params)
        return None if found is None else next(iter(found.values()))


class Dialect(abc.ABC):
    name: str
    #: ``LIMIT``/``OFFSET`` spelling, appended to an ORDER BY query.
    page_clause: str
    #: The idle probe: 1 if any QUEUED row is due (stops at the first; reads only an index).
    any_ready_sql: str
    #: SQL for the UTC calendar day (``YYYY-MM-DD`` text) of a timestamp column.
    day_format: str

    @abc.abstractmethod
    def transaction(self, action: str, *, write: bool = True) -> AbstractContextManager[Tx]:
        """A transaction committed on success and rolled back on error.

        ``action`` names the operation (Oracle shows it in V$SESSION.ACTION); ``write`` lets
        SQLite take its write lock up front so two writers never deadlock on upgrade.
        """

    @contextmanager
    def bounded_wait(self, ms: int) -> Iterator[None]:
        """Bound every database wait inside the block to ``ms`` in total (a webhook's, so that
        it is answered in time whatever the database does): the SQLite busy timeout, Oracle's
        pooled-connection wait and call timeout. Used up, a transaction fails with
        :class:`DatabaseWaitExceeded` (an outage to ``is_unavailable``). Nested blocks keep
        the earlier deadline. Only this thread (and context) is bounded."""
        deadline = time.monotonic() + ms / 1000
        outer = _WAIT_DEADLINE.get()
        token = _WAIT_DEADLINE.set(deadline if outer is None else min(outer, deadline))
        try:
            yield
        finally:
            _WAIT_DEADLINE.reset(token)

    def limit_connection_wait(self, ms: int) -> None:
        """Wait at most ``ms`` for a connection (Oracle: the pool's wait, for this process);
        the inbound service calls it with its webhook wait. SQLite has no pool: nothing."""
        return None

    @abc.abstractmethod
    def install(self, plsql_dir: Path | None, with_demo: bool, now: datetime) -> InstallReport: ...

    @abc.abstractmethod
    def enqueue(self, tx: Tx, request: EnqueueRequest, now: datetime) -> int: ...

    @abc.abstractmethod
    def enqueue_many(
        self, tx: Tx, requests: Sequence[EnqueueRequest], now: datetime
    ) -> list[int | SmsError]:
        """Each request as ``enqueue`` would queue it, in one transaction: its id, or the named
        error that refused it (and nothing of it written); one refusal stops no other."""

    @abc.abstractmethod
    def begin_batch(
        self, tx: Tx, source: str, label: str | None, created_by: str | None, now: datetime
    ) -> int:
        """A new sms_batches row (sms_api.begin_batch on Oracle); its id."""

    @abc.abstractmethod
    def insert_returning_id(self, tx: Tx, sql: str, params: Params) -> int:
        """``sql`` is an INSERT without RETURNING; the dialect adds it."""

    @abc.abstractmethod
    def claim(self, tx: Tx, sender_code: str, limit: int, now: datetime) -> list[int]:
        """Lock and return up to ``limit`` ready ids of one sender, by priority then id."""

    @abc.abstractmethod
    def insert_inbound(self, tx: Tx, params: Params) -> tuple[int, bool]:
        """Insert unless the MessageSid is known; return (id, inserted)."""

    @abc.abstractmethod
    def insert_callback_event(self, tx: Tx, params: Params) -> bool:
        """Insert a status callback's event unless its callback_key is known; return inserted.

        Not inserted, the caller rolls its transaction back: the callback was recorded (and
        its row moved) the first time."""

    @abc.abstractmethod
    def upsert_optout(self, tx: Tx, params: Params) -> None: ...

    @abc.abstractmethod
    def lock_sender(self, tx: Tx, code: str) -> Row | None:
        """Read the sender row under a lock that other workers' allowance takes wait for."""

    def probe_write(self, tx: Tx, update_sql: str) -> None:
        """GET /health's write probe inside a transaction that is rolled back: ``update_sql``
        sets a column of the schema-version row to itself (SQLite: it takes the write lock)."""
        tx.execute(update_sql)

    def lock_send_gate(self, tx: Tx, now: datetime) -> None:
        """Serialise the identical-twin check of every worker (bridge.store.send_gate).

        SQLite needs nothing: its write transactions (BEGIN IMMEDIATE) already run one at a
        time. Oracle takes a row lock.
        """
        return None

    @abc.abstractmethod
    def ensure_job_run(self, tx: Tx, job: str, start: datetime) -> None:
        """Create the job's sms_job_runs row (last run ``start``) unless it exists; concurrent
        callers must not fail."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def check_usable(self) -> None:
        """Raise ConfigError (one line) when this database cannot work with the bridge as
        configured (Oracle: a national character set thin mode cannot read)."""
        return None  # nothing to check unless an engine says otherwise

    def setup_warnings(self) -> list[str]:
        """Lines about how the database is set up that an operator should fix (SQLite: a file
        other local users can read); ``db check`` prints them."""
        return []

    @abc.abstractmethod
    def location(self) -> str:
        """Where the data is, fit for a message: SQLite's resolved path, Oracle's user@dsn."""

    @abc.abstractmethod
    def is_undefined_table(self, exc: BaseException) -> bool:
        """True when ``exc`` says a table the query names does not exist (no schema yet)."""

    # -- inbound service (bridge/store/inbound_store.py) ---------------------------------

    @abc.abstractmethod
    def is_unavailable(self, exc: BaseException) -> bool:
        """True when ``exc`` means the database cannot be reached or written right now.

        The inbound service spools webhooks on such errors (and only on them: a constraint
        violation is a bug, and spooling it would make the replay fail forever).
        """

    @abc.abstractmethod
    def call_procedure(self, tx: Tx, name: str, args: Sequence[Any]) -> None:
        """Call a stored procedure by name inside ``tx`` (reply handlers on Oracle)."""


def ids_in(ids: Sequence[Any], prefix: str = "id") -> tuple[str, dict[str, Any]]:
    """An ``IN (:id0, :id1, ...)`` list with its binds (both engines take named binds)."""
    names = [f"{prefix}{i}" for i in range(len(ids))]
    return ", ".join(":" + n for n in names), dict(zip(names, ids, strict=True))


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
