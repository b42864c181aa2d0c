"""Storage: one Store with named operations over an SQLite or an Oracle dialect."""

from __future__ import annotations

from pathlib import Path

from bridge.config import DatabaseSettings
from bridge.errors import ConfigError
from bridge.store.store import Store

__all__ = ["Store", "open_store"]


def open_store(database: DatabaseSettings, *, client_identifier: str = "") -> Store:
    """The one place that turns ``[database] url`` into a Store (composition roots call it)."""
    url = database.url
    if url.startswith("sqlite:///"):
        from bridge.store.sqlite_dialect import SQLiteDialect

        return Store(
            SQLiteDialect(
                Path(url.removeprefix("sqlite:///")), busy_timeout_ms=database.busy_timeout_ms
            )
        )
    if url.startswith("oracle://"):
        from bridge.store.oracle_dialect import OracleDialect

        return Store(
            OracleDialect(
                url,
                database.password.reveal(),
                pool_min=database.pool_min,
                pool_max=database.pool_max,
                call_timeout_ms=database.call_timeout_ms,
                client_identifier=client_identifier,
                database=database,
            )
        )
    raise ConfigError(f"[database] url {url!r}: expected sqlite:///PATH or oracle://...")
