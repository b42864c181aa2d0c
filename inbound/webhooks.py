"""Twilio's webhooks: inbound SMS and delivery status callbacks.

Both are thin: the signature middleware has verified and parsed the form, the work is in
:mod:`bridge.replies.processing` (shared with the spool replay), which first checks the form is
shaped as Twilio's (:mod:`bridge.replies.webhook_form`: a valid signature does not prove where
one field ends and the next begins). When the database is
unreachable the webhook is spooled durably and acknowledged, because Twilio gives up on a
webhook after a few failed attempts and the reply would be lost; while it keeps failing, the
process's webhooks are spooled at once and one a second probes it (:mod:`inbound.outage`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime
from xml.sax.saxutils import escape

import falcon

from bridge.config import InboundSettings
from bridge.domain.keywords import Action, classify
from bridge.domain.phone import mask as mask_number
from bridge.errors import ColumnValueError
from bridge.replies.processing import (
    DEFAULT_HELP,
    IDEMPOTENCY_HEADER,
    BadWebhook,
    Form,
    check_reply,
    check_status,
    first,
    parse_row_id,
    receive_reply,
    receive_status,
)
from bridge.replies.spool import Spool
from bridge.store import Store
from inbound.http import ApiError
from inbound.outage import OutageBreaker

log = logging.getLogger(__name__)

TWIML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def twiml(message: str | None = None) -> str:
    """An empty response (no reply SMS), or one <Message>."""
    if message is None:
        return f"{XML_DECLARATION}<Response/>"
    return f"{XML_DECLARATION}<Response><Message>{escape(message)}</Message></Response>"


class _Webhook:
    twilio_signed = True
    kind = ""  # the spool entry's kind: "inbound" or "status"

    def __init__(
        self,
        store: Store,
        settings: InboundSettings,
        spool: Spool,
        clock: Callable[[], datetime],
        *,
        account_sids: Collection[str] = (),
        breaker: OutageBreaker | None = None,
    ) -> None:
        self.store = store
        # Every configured account's SID: a form's AccountSid must be one (none: not checked).
        self.account_sids = account_sids
        self.settings = settings
        self.spool = spool
        self.clock = clock
        # Shared by the process's webhooks (create_app passes one to both).
        self.breaker = breaker or OutageBreaker()

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form: Form = req.context.form
        resp.content_type = TWIML_TYPE
        try:
            if not self.breaker.may_try():
                # The database failed a moment ago: spool at once (checked first, as the
                # database path would), and leave the probing to one request a second.
                self.check(form)
                self._spool(req, form, f"not tried: {self.breaker.reason}")
                resp.text = self.spooled_answer(form)
                return
            # Bounded as a whole: whatever the database does (its write lock held for
            # minutes, a hung Oracle, a full pool), this webhook waits for it at most
            # webhook_db_wait_ms in total, then spools and is answered 200. The bound is this
            # request's own (a context variable): concurrent webhooks do not add up waits.
            with self.store.bounded_wait(self.settings.webhook_db_wait_ms):
                resp.text = self.work(req, form)
            self.breaker.succeeded()
        except (BadWebhook, ColumnValueError) as exc:
            # A form not shaped as Twilio's (bridge.replies.webhook_form), a field longer than
            # its column or empty where one is required: refused, written nowhere, never
            # spooled (replaying it would fail). Checked before the database is read.
            raise ApiError(400, "bad_webhook", str(exc)) from None
        except Exception as exc:
            if not self.store.is_unavailable(exc):
                raise
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            self.breaker.failed(reason)
            self._spool(req, form, reason)
            resp.text = self.spooled_answer(form)

    def check(self, form: Form) -> None:
        raise NotImplementedError

    def work(self, req: falcon.Request, form: Form) -> str:
        """Apply the webhook through the database; the TwiML answer."""
        raise NotImplementedError

    def spooled_answer(self, form: Form) -> str:
        return twiml()

    def _spool(self, req: falcon.Request, form: Form, reason: str) -> None:
        token = req.get_header(IDEMPOTENCY_HEADER)
        headers = {IDEMPOTENCY_HEADER: token} if token else None
        entry = self.spool.append(self.kind, form, self.clock(), query=_query(req), headers=headers)
        log.error(
            "database unavailable (%s): %s webhook %s from %s spooled as %s",
            reason,
            self.kind,
            first(form, "MessageSid"),
            mask_number(first(form, "From")),
            entry.id,
        )


class InboundWebhook(_Webhook):
    """POST /twilio/inbound: a reply from a handset."""

    kind = "inbound"

    def check(self, form: Form) -> None:
        check_reply(form, account_sids=self.account_sids)

    def work(self, req: falcon.Request, form: Form) -> str:
        outcome = receive_reply(
            self.store,
            form,
            self.clock(),
            thread_window_hours=self.settings.thread_window_hours,
            account_sids=self.account_sids,
        )
        # STOP/START get an empty response: Twilio sends the carrier-mandated confirmation.
        return twiml(outcome.help_text)

    def spooled_answer(self, form: Form) -> str:
        # The sender's own help text is in the database we cannot reach: the generic one
        # still gives the handset an answer to HELP, as carriers require.
        spooled_help = classify(first(form, "Body"), opted_out=False).action is Action.HELP
        return twiml(DEFAULT_HELP if spooled_help else None)


class StatusWebhook(_Webhook):
    """POST /twilio/status?id=<our row id>: a delivery status callback."""

    kind = "status"
    query_parameters = frozenset({"id"})

    def check(self, form: Form) -> None:
        check_status(form, account_sids=self.account_sids)

    def work(self, req: falcon.Request, form: Form) -> str:
        receive_status(
            self.store,
            form,
            parse_row_id(req.get_param("id")),
            self.clock(),
            account_sids=self.account_sids,
            idempotency_token=req.get_header(IDEMPOTENCY_HEADER),
        )
        return twiml()


def _query(req: falcon.Request) -> dict[str, str]:
    return {k: v for k, v in req.params.items() if isinstance(v, str)}
