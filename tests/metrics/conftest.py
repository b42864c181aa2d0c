"""The inbound suite's fixtures (an SQLite store with senders and people, settings, spool)."""

from tests.inbound.conftest import settings, spool, store

__all__ = ["settings", "spool", "store"]
