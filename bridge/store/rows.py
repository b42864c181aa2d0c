"""Rows to models, and what every part of the Store shares: the dialect and event writing.

Split out so the Store's operations can live in small modules (mixins) over one base.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from bridge.domain.column_sizes import fit
from bridge.domain.models import Event, Message, Sender
from bridge.domain.statuses import Status
from bridge.store import queries
from bridge.store.clock import DATABASE_NOW_SQL, StoreClock
from bridge.store.dialect import Dialect, Row, Tx, chunks, ids_in

T = TypeVar("T")


def build(cls: type[T], row: Row) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in row.items() if k in names})


def message_from_row(row: Row) -> Message:
    row = dict(row)
    row["status"] = Status(row["status"])
    return build(Message, row)


def sender_from_row(row: Row) -> Sender:
    row = dict(row)
    row["active"] = row.get("active") == "Y"
    row["line_type_lookup"] = row.get("line_type_lookup") == "Y"
    row["mps"] = float(row["mps"])
    for name in ("validity_seconds", "dedupe_window_seconds"):
        if row.get(name) is not None:
            row[name] = int(row[name])
    return build(Sender, row)


def event_from_row(row: Row) -> Event:
    row = dict(row)
    row["applied"] = row.get("applied") == "Y"
    return build(Event, row)


def event_row(
    message_id: int,
    status: Status,
    source: str,
    now: datetime,
    *,
    provider_status: str | None = None,
    error_code: int | None = None,
    applied: bool = True,
    detail: str | None = None,
) -> dict[str, Any]:
    """The binds of one sms_events row (INSERT_EVENT); texts cut to their columns without
    splitting a character (Twilio's and the bridge's own wording is never refused)."""
    return {
        "outbound_id": message_id,
        "event_at": now,
        "status": status.value,
        "provider_status": fit("sms_events", "provider_status", provider_status),
        "error_code": error_code,
        "source": source,
        "applied": "Y" if applied else "N",
        "detail": fit("sms_events", "detail", detail or None),
    }


class StoreBase:
    """The dialect, and the helpers every operation uses to read rows and append events."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        sql = DATABASE_NOW_SQL.get(dialect.name)
        self.clock = StoreClock(None if sql is None else lambda: self._database_now(sql))

    def now(self) -> datetime:
        """What this store takes as "now": the database's clock on Oracle (where sms_api
        stamps due times with SYSTIMESTAMP), the host's on SQLite. Every caller that binds a
        due time, a lease or an event time uses this, never the host clock directly."""
        return self.clock.now()

    def _database_now(self, sql: str) -> tuple[datetime, datetime, datetime]:
        # Timed around the query alone: the pool's connect (up to seconds) is not halved into
        # the offset.
        with self.dialect.transaction("clock", write=False) as tx:
            before = self.clock.host()
            value = tx.scalar(sql)
            after = self.clock.host()
        if not isinstance(value, datetime):
            raise TypeError(f"the database clock query returned {value!r}")
        return value, before, after

    def _fetch_ids(self, tx: Tx, ids: Sequence[int]) -> list[Row]:
        rows: list[Row] = []
        for part in chunks(ids, 500):
            in_list, binds = ids_in(part)
            rows += tx.rows(f"SELECT * FROM sms_outbound WHERE id IN ({in_list})", binds)
        return rows

    def _event(
        self,
        tx: Tx,
        message_id: int,
        status: Status,
        source: str,
        now: datetime,
        *,
        provider_status: str | None = None,
        error_code: int | None = None,
        applied: bool = True,
        detail: str | None = None,
    ) -> None:
        tx.execute(
            queries.INSERT_EVENT,
            event_row(
                message_id,
                status,
                source,
                now,
                provider_status=provider_status,
                error_code=error_code,
                applied=applied,
                detail=detail,
            ),
        )

    def _events(
        self,
        tx: Tx,
        items: Sequence[tuple[int, Status, int | None]],
        source: str,
        now: datetime,
        *,
        detail: str | None = None,
    ) -> None:
        tx.executemany(
            queries.INSERT_EVENT,
            [event_row(i, s, source, now, error_code=code, detail=detail) for i, s, code in items],
        )


class DatedFilter(Protocol):
    """A filter of messages: exact-match fields (named by the caller) and a created range."""

    @property
    def created_from(self) -> datetime | None: ...

    @property
    def created_to(self) -> datetime | None: ...


def where_equal(filters: DatedFilter, columns: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """`` WHERE col = :col AND ... AND created_at >= :created_from ...`` of the filter's fields
    that are set (``columns`` matched exactly, ``created_from``/``created_to`` as a half-open
    range), with its binds; ``""`` when none is set. Shared by GET /sms and the console."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for column in columns:
        value = getattr(filters, column)
        if value is not None:
            clauses.append(f"{column} = :{column}")
            params[column] = value
    if filters.created_from is not None:
        clauses.append("created_at >= :created_from")
        params["created_from"] = filters.created_from
    if filters.created_to is not None:
        clauses.append("created_at < :created_to")
        params["created_to"] = filters.created_to
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params
