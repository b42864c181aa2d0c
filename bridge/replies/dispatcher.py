"""The reply dispatcher: NEW replies routed through sms_keywords to their handlers.

A HANDLER row of ``sms_keywords`` names what processes replies whose first word is its keyword
(for one sender, or ``*``). The name is looked up first among the Python callables registered
here (embedded mode: SQLite, tests, small sites); on Oracle an unregistered name is a PL/SQL
procedure, called with ``callproc(name, [inbound_id])`` in the same transaction that marks the
reply PROCESSED, so its writes and the mark commit or roll back together. A handler that raises
leaves the reply ERROR with the error text; nothing retries it silently (an administrator
resets it to NEW after fixing the cause).

The scheduler calls :meth:`Dispatcher.run_once` on a short interval; replies without a HANDLER
rule stay NEW for ERP programs that read them through ``sms_inbound_api``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.store import Store

log = logging.getLogger(__name__)

Handler = Callable[[int], None]  # receives sms_inbound.id
# How long a taken reply is left to its dispatcher before another may take it (it died).
HANDLER_LEASE = timedelta(minutes=10)


@dataclass
class DispatchReport:
    processed: int = 0
    errors: int = 0
    skipped: int = 0  # taken by another dispatcher meanwhile

    def __str__(self) -> str:
        return f"replies: {self.processed} processed, {self.errors} errors, {self.skipped} skipped"


class Dispatcher:
    def __init__(
        self,
        store: Store,
        handlers: Mapping[str, Handler] | None = None,
        *,
        import_handlers: bool = False,
    ) -> None:
        """``import_handlers``: resolve unregistered ``package.module:function`` names by
        importing them (embedded mode, where handler names come from the site's own table)."""
        self.store = store
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.import_handlers = import_handlers

    def register(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    def run_once(self, now: datetime, limit: int = 100) -> DispatchReport:
        report = DispatchReport()
        for job in self.store.handler_jobs(limit, now, HANDLER_LEASE):
            try:
                done = self._run(job.inbound_id, job.handler, now)
            except Exception as exc:
                if self.store.is_unavailable(exc):
                    raise  # the database is down: stop, the rows are still NEW
                log.warning("reply %s: handler %s failed: %s", job.inbound_id, job.handler, exc)
                self.store.mark_inbound(
                    job.inbound_id, "ERROR", now, f"{job.handler}: {type(exc).__name__}: {exc}"
                )
                report.errors += 1
                continue
            if done:
                report.processed += 1
            else:
                report.skipped += 1
        if report.processed or report.errors:
            log.info("%s", report)
        return report

    def _run(self, inbound_id: int, name: str, now: datetime) -> bool:
        handler = self._python_handler(name)
        if handler is not None:
            # Taken first, so two dispatchers (two workers, or run --once beside the daemon)
            # never both run it. Then outside any transaction: the callable may use the store
            # itself (each store operation is its own transaction; SQLite has no nested ones).
            if not self.store.take_inbound(inbound_id, now, HANDLER_LEASE):
                return False
            handler(inbound_id)
            return self.store.mark_inbound(inbound_id, "PROCESSED", now)
        if self.store.engine == "oracle":
            return self.store.run_procedure_handler(inbound_id, name, now, HANDLER_LEASE)
        raise LookupError(f"no Python handler registered as {name!r}")

    def _python_handler(self, name: str) -> Handler | None:
        if name in self.handlers:
            return self.handlers[name]
        if self.import_handlers and ":" in name:
            module_name, _, attribute = name.partition(":")
            handler: Handler = getattr(importlib.import_module(module_name), attribute)
            self.handlers[name] = handler
            return handler
        return None
