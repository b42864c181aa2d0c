"""The reply suites use the inbound suites' store, settings and spool fixtures (one set-up)."""

from tests.inbound.conftest import settings, spool, store

__all__ = ["settings", "spool", "store"]
