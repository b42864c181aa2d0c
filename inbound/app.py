"""The inbound service's composition root: Twilio webhooks and the /sms REST API on Falcon.

``create_app(settings, store, ...)`` builds the app from what it is given (tests pass their own
store, clock and spool); ``get_app()`` is the one place that reads the environment and opens
the database, called by gunicorn in each worker (``inbound.app:get_app()``), so nothing
happens at import time and every worker process owns its own connections.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

import falcon

from bridge.config import Settings, config_path, load_settings, validate
from bridge.errors import ConfigError
from bridge.replies.spool import Spool
from bridge.store import Store, open_store
from inbound.api_batches import BatchItem, SmsBatch
from inbound.api_cost import CostReport
from inbound.api_misc import Health, InboundCollection, OpenApiDocument, Stats
from inbound.api_sms import SmsCancel, SmsCollection, SmsItem
from inbound.auth import ApiKeyAuth
from inbound.console import add_console
from inbound.http import ApiError, KnownQueryParameters, error_body, serialize_error
from inbound.metrics import InboundMetrics
from inbound.openapi import openapi_document
from inbound.outage import OutageBreaker
from inbound.signature import TwilioSignature
from inbound.webhooks import InboundWebhook, StatusWebhook

log = logging.getLogger(__name__)


def check_settings(settings: Settings) -> None:
    """What serving webhooks needs beyond settings that are consistent (which load_settings
    already checked; checked again here for settings built in code): the auth token, without
    which no signature can be verified. Other commands run without one."""
    validate(settings)
    if settings.inbound.verify_signatures and not settings.twilio.auth_token:
        raise ConfigError(
            f"[twilio] auth_token in {settings.source} is required to verify webhook signatures"
            " (SMS_BRIDGE_TWILIO_AUTH_TOKEN or SMS_BRIDGE_TWILIO_AUTH_TOKEN_FILE)"
        )


def create_app(
    settings: Settings,
    store: Store,
    *,
    clock: Callable[[], datetime] | None = None,
    spool: Spool | None = None,
) -> falcon.App[falcon.Request, falcon.Response]:
    check_settings(settings)
    # The store's clock (the database's on Oracle) unless a test brings its own.
    clock = clock or store.now
    inbound = settings.inbound
    if not inbound.verify_signatures:
        log.warning(
            "!!! TWILIO SIGNATURE VERIFICATION IS OFF (development_mode) !!! Anyone who can"
            " reach %s can forge inbound SMS, STOP requests and delivery receipts.",
            inbound.public_url,
        )
    # Request and webhook metrics, spool appends counted (inbound/metrics.py; GET /metrics).
    metrics = InboundMetrics(settings, store, spool or Spool(inbound.spool_dir), clock)
    spool = metrics.spool
    base_url = inbound.public_url.rstrip("/")
    middleware: list[Any] = [
        metrics.middleware(),  # first: it times every request, also those refused early
        TwilioSignature(
            inbound.public_url,
            settings.twilio.auth_token.reveal(),
            tokens_by_sid=settings.twilio.tokens_by_sid(),
            verify=inbound.verify_signatures,
            trust_forwarded_headers=inbound.trust_forwarded_headers,
            max_body_bytes=inbound.max_body_bytes,
        ),
        ApiKeyAuth(store, clock),
        KnownQueryParameters(),
    ]
    app = falcon.App(middleware=middleware)
    app.set_error_serializer(serialize_error)
    app.add_error_handler(Exception, _unexpected_error(store))

    webhook_args = (store, inbound, spool, clock)
    # A form's AccountSid must be one of this bridge's accounts (none in development: not
    # checked); the signature middleware has already refused one it has no token for.
    accounts = settings.twilio.account_sids()
    breaker = OutageBreaker()  # one per process: both webhooks learn of an outage together
    app.add_route(
        "/twilio/inbound", InboundWebhook(*webhook_args, account_sids=accounts, breaker=breaker)
    )
    app.add_route(
        "/twilio/status", StatusWebhook(*webhook_args, account_sids=accounts, breaker=breaker)
    )
    app.add_route("/sms", SmsCollection(store, base_url, inbound.max_body_bytes, clock))
    app.add_route("/sms/batch", SmsBatch(store, base_url, clock))
    app.add_route("/batches/{batch_id:int(min=1, max=999999999999999)}", BatchItem(store, base_url))
    app.add_route("/sms/{message_id:int(min=1, max=999999999999999)}", SmsItem(store, base_url))
    app.add_route(
        "/sms/{message_id:int(min=1, max=999999999999999)}/cancel", SmsCancel(store, clock)
    )
    app.add_route("/inbound", InboundCollection(store, base_url))
    app.add_route("/stats", Stats(store))
    app.add_route("/reports/cost", CostReport(store, clock))
    app.add_route("/health", Health(store, spool, inbound.webhook_db_wait_ms))
    app.add_route("/openapi.json", OpenApiDocument(openapi_document(base_url)))
    app.add_route("/metrics", metrics.resource())
    add_console(app, store=store, settings=settings, clock=clock, spool=spool)
    return app


def _unexpected_error(
    store: Store,
) -> Callable[[falcon.Request, falcon.Response, BaseException, dict[str, Any]], None]:
    """503 when the database is down (the client may retry), 500 with a log line otherwise."""

    def handle(
        req: falcon.Request, resp: falcon.Response, exc: BaseException, params: dict[str, Any]
    ) -> None:
        if store.is_unavailable(exc):
            log.warning("%s %s: database unavailable: %s", req.method, req.path, exc)
            error = ApiError(503, "database_unavailable", "the database is unavailable; retry")
            resp.set_header("Retry-After", "30")
        else:
            log.exception("%s %s failed", req.method, req.path)
            error = ApiError(500, "internal_error", "internal error; see the service log")
        resp.status = error.status
        resp.media = error_body(error)

    return handle


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    """gunicorn's entry point: settings from the file and environment, the configured store."""
    environ = dict(os.environ)
    settings = load_settings(config_path(None, environ), environ)
    store = open_store(settings.database, client_identifier=f"sms-bridge-inbound-{os.getpid()}")
    # Webhooks bound their whole database wait (inbound.webhooks); a pooled connection held by
    # threads stuck on a hung database must not be waited for longer than that either.
    store.dialect.limit_connection_wait(settings.inbound.webhook_db_wait_ms)
    return create_app(settings, store)
