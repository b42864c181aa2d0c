"""GET /inbound (replies), /stats (counts), /health (liveness) and /openapi.json."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import falcon

from bridge.apikeys import Scope
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
        page = self.store.list_inbound(status, limit, offset)
        raw = may_see_numbers(req.context.api_key)
        items = [reply_json(row, raw=raw) for row in page.items]
        resp.media = collection(
            req, self.base_url, items, limit=limit, offset=offset, has_more=page.has_more
        )


class Stats:
    """GET /stats: message counts by status, by sender, and by both."""

    auth_scopes: ClassVar[Mapping[str, Scope]] = {"GET": Scope.READ}

    def __init__(self, store: Store) -> None:
        self.store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        counts = self.store.counts()
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
    """GET /health: 200 when the database answers, 503 when it does not (no key needed)."""

    def __init__(self, store: Store, spool: Spool) -> None:
        self.store = store
        self.spool = spool

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        body: dict[str, Any] = {"status": "ok", "database": "ok", "engine": self.store.engine}
        try:
            body["schemaVersion"] = self.store.schema_version()
        except Exception as exc:
            if not self.store.is_unavailable(exc):
                raise
            log.warning("health: database unavailable: %s", exc)
            body.update(status="unavailable", database="unavailable", schemaVersion=None)
            resp.status = falcon.HTTP_503
        try:
            body["spooled"] = self.spool.pending()
        except OSError:
            body["spooled"] = None
        resp.media = body


class OpenApiDocument:
    """GET /openapi.json: the API description (no key needed)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document
