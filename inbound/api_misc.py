"""GET /inbound (replies), /stats (counts), /health (liveness) and /openapi.json."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import falcon

from bridge.apikeys import Scope, owner_of
from bridge.replies.spool import Spool
from bridge.store import Store
from bridge.store.inbound_store import INBOUND_STATUSES
from inbound.http import collection, invalid, paging
from inbound.representations import may_see_numbers, reply_json

log = logging.getLogger(__name__)


class InboundCollection:
    """GET /inbound: replies, newest first, optionally by processing status."""

    auth_scopes: ClassVar[Mapping[str, Scope]] = {"GET": Scope.READ}
    query_parameters = frozenset({"limit", "offset", "status"})

    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base_url = base_url

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit, offset = paging(req)
        status = req.get_param("status")
        if status is not None and status not in INBOUND_STATUSES:
            raise invalid("status", f"status must be one of {', '.join(INBOUND_STATUSES)}")
        # A key without admin: replies threaded to its own messages only (unmatched replies
        # belong to no key).
        owner = owner_of(req.context.api_key)
        page = self.store.list_inbound(status, limit, offset, created_by=owner)
        raw = may_see_numbers(req.context.api_key)
        items = [reply_json(row, raw=raw) for row in page.items]
        resp.media = collection(
            req, self.base_url, items, limit=limit, offset=offset, has_more=page.has_more
        )


class Stats:
    """GET /stats: message counts by status, by sender, and by both (a key without admin: of
    its own messages)."""

    auth_scopes: ClassVar[Mapping[str, Scope]] = {"GET": Scope.READ}

    def __init__(self, store: Store) -> None:
        self.store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        counts = self.store.counts(created_by=owner_of(req.context.api_key))
        by_status: dict[str, int] = {}
        by_sender: dict[str, int] = {}
        for c in counts:
            by_status[c.status] = by_status.get(c.status, 0) + c.count
            by_sender[c.sender_code] = by_sender.get(c.sender_code, 0) + c.count
        resp.media = {
            "total": sum(c.count for c in counts),
            "byStatus": by_status,
            "bySender": by_sender,
            "items": [
                {"sender": c.sender_code, "status": c.status, "count": c.count} for c in counts
            ],
        }


class Health:
    """GET /health: 200 when the database answers reads and takes writes; 503 when it does not
    (no key needed).

    Both probes share one bounded wait (``[inbound] webhook_db_wait_ms``, the webhooks' own),
    so a scrape is answered in about that long whatever the database does. The write probe
    (:meth:`Store.probe_write`) takes the write path and rolls back: a scrape leaves no row.
    Reads working and writes not (SQLite's write lock held by another process, a read-only
    file; Oracle: a row lock, a stuck archiver, a read-only standby) is ``degraded``: every
    webhook is being spooled, so it is a 503 too, with the problem stated.
    """

    def __init__(self, store: Store, spool: Spool, wait_ms: int = 2000) -> None:
        self.store = store
        self.spool = spool
        self.wait_ms = wait_ms

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        body: dict[str, Any] = {"status": "ok", "database": "ok", "engine": self.store.engine}
        with self.store.bounded_wait(self.wait_ms):
            try:
                body["schemaVersion"] = self.store.schema_version()
            except Exception as exc:
                if not self.store.is_unavailable(exc):
                    raise
                log.warning("health: database unavailable: %s", exc)
                body.update(
                    status="unavailable",
                    database="unavailable",
                    schemaVersion=None,
                    problem=f"reads fail: {_first_line(exc)}",
                )
                resp.status = falcon.HTTP_503
            else:
                try:
                    self.store.probe_write()
                except Exception as exc:
                    if not self.store.is_unavailable(exc):
                        raise
                    log.warning("health: database reads work, writes fail: %s", exc)
                    body.update(
                        status="degraded",
                        database="read-only",
                        problem=f"writes fail (webhooks are spooled): {_first_line(exc)}",
                    )
                    resp.status = falcon.HTTP_503
        try:
            body["spooled"] = self.spool.pending()
        except OSError:
            body["spooled"] = None
        resp.media = body


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OpenApiDocument:
    """GET /openapi.json: the API description (no key needed)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document
