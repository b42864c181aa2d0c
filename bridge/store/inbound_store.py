"""Store operations for the inbound service (replies, keywords, threading, API keys).

A mixin of :class:`bridge.store.Store`, kept apart so the inbound side's named operations live
in one module. Uses ``self.dialect`` exactly as store.py does.
"""

from __future__ import annotations

from bridge.store.dialect import Dialect


class InboundStoreMixin:
    dialect: Dialect
