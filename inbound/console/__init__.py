"""The operator console at /console: server-rendered pages (Jinja2, no JavaScript build).

``add_console(app, store=..., settings=..., clock=...)`` mounts it on the inbound app; see
docs/console.md for what it shows, who may sign in and how sessions work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import falcon

from bridge.config import Settings
from bridge.replies.spool import Spool
from bridge.store import Store
from inbound.console import resources as r
from inbound.console.session import Sessions, load_secret
from inbound.console.views import STATIC, environment, error_meanings

_ID = "int(min=1, max=999999999999999)"


def add_console(
    app: falcon.App[Any, Any],
    *,
    store: Store,
    settings: Settings,
    clock: Callable[[], datetime],
    spool: Spool | None = None,
) -> None:
    inbound = settings.inbound
    sessions = Sessions(
        load_secret(inbound.spool_dir), secure=inbound.public_url.lower().startswith("https:")
    )
    console = r.Console(
        store=store,
        settings=settings,
        clock=clock,
        sessions=sessions,
        env=environment(),
        spool=spool or Spool(inbound.spool_dir),
        meanings=error_meanings(),
    )
    base = r.BASE
    app.add_route(base, r.Overview(console))
    app.add_route(f"{base}/login", r.Login(console))
    app.add_route(f"{base}/logout", r.Logout(console))
    app.add_route(f"{base}/messages", r.Messages(console))
    app.add_route(f"{base}/messages/{{message_id:{_ID}}}", r.MessageItem(console))
    app.add_route(f"{base}/messages/{{message_id:{_ID}}}/cancel", r.MessageCancel(console))
    app.add_route(f"{base}/messages/{{message_id:{_ID}}}/requeue", r.MessageRequeue(console))
    app.add_route(f"{base}/conversations", r.Conversations(console))
    app.add_route(f"{base}/replies", r.Replies(console))
    app.add_route(f"{base}/replies/{{reply_id:{_ID}}}/reprocess", r.ReplyReprocess(console))
    app.add_route(f"{base}/optouts", r.Optouts(console))
    app.add_route(f"{base}/senders", r.Senders(console))
    app.add_route(f"{base}/senders/{{code}}", r.SenderEdit(console))
    app.add_route(f"{base}/keywords", r.KeywordEdit(console))
    app.add_static_route(f"{base}/static", str(STATIC))
