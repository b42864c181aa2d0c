"""GET /metrics: the inbound service's Prometheus metrics, in the text exposition format.

Three sources, all read when Prometheus scrapes:

- what every gunicorn worker process counted (webhooks by route and outcome, their latency,
  API requests by route, method and status): prometheus_client's multiprocess mode, where each
  process writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (deploy/gunicorn.conf.py
  makes it per run) and a :class:`MultiProcessCollector` adds them up, so a count is right
  whichever worker answers the scrape. Without that directory (tests, a single process) the
  values live in this process;
- the queue, read from the database (:class:`QueueCollector`, ``Store.queue_snapshot``: index
  reads in one read-only transaction; a scrape never writes);
- the spool directory (entries waiting for replay, entries rejected for a human).

Labels stay bounded: routes are Falcon's URI templates, never raw paths (``unmatched`` when no
route matched), methods outside the usual few are ``other``. /metrics takes no API key (it has
no ``auth_scopes``); ``[inbound] metrics_networks`` restricts it to listed networks (403 for
others), and by default everyone who reaches the service may read it.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import values as prometheus_values
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from bridge.config import Settings
from bridge.replies.spool import REJECTED, ReplayReport, Spool, SpoolEntry
from bridge.store import Store
from bridge.store.metrics_store import QUEUE_STATUSES
from inbound.http import ApiError

log = logging.getLogger(__name__)

WEBHOOK_ROUTES = frozenset({"/twilio/inbound", "/twilio/status"})
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Webhooks answer within 5 s (they spool after [inbound] webhook_db_wait_ms).
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
API_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_CONVERTER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")
# Set by MeteredSpool.append during a request: its webhook was spooled, not processed.
_spooled: contextvars.ContextVar[bool] = contextvars.ContextVar("sms_bridge_spooled", default=False)


def multiprocess_mode() -> bool:
    """Whether prometheus_client keeps values in files (it decides once, at its import, from
    PROMETHEUS_MULTIPROC_DIR): then /metrics must add up every process's files."""
    return bool(prometheus_values.ValueClass.__name__ != "MutexValue")


class InboundMetrics:
    """The service's metrics: build one per app (``create_app``), then add
    :meth:`middleware` first in the middleware list and :meth:`resource` at /metrics."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        spool: Spool,
        clock: Callable[[], datetime],
    ) -> None:
        self.multiprocess = multiprocess_mode()
        # What a scrape reads. In multiprocess mode the metrics below are kept out of it (their
        # values go to this process's files, which the MultiProcessCollector reads with every
        # other process's); otherwise they are registered in it.
        self.registry = CollectorRegistry()
        own = None if self.multiprocess else self.registry
        if self.multiprocess:
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        self.webhooks = Counter(
            "sms_bridge_webhooks",
            "Twilio webhooks answered, by route and outcome (ok, spooled, rejected, forbidden,"
            " error).",
            ["route", "outcome"],
            registry=own,
        )
        self.webhook_seconds = Histogram(
            "sms_bridge_webhook_duration_seconds",
            "Time to answer a Twilio webhook, by route.",
            ["route"],
            buckets=WEBHOOK_BUCKETS,
            registry=own,
        )
        self.spool_appends = Counter(
            "sms_bridge_spool_appends",
            "Webhooks written to the spool because the database was unavailable, by kind.",
            ["kind"],
            registry=own,
        )
        self.requests = Counter(
            "sms_bridge_api_requests",
            "Requests other than Twilio webhooks (REST API, /health, console, /metrics), by"
            " route template, method and HTTP status.",
            ["route", "method", "status"],
            registry=own,
        )
        self.request_seconds = Histogram(
            "sms_bridge_api_request_duration_seconds",
            "Time to answer a request other than a Twilio webhook, by route template.",
            ["route"],
            buckets=API_BUCKETS,
            registry=own,
        )
        self.spool = MeteredSpool(spool, self.spool_appends)
        self.registry.register(
            QueueCollector(store, clock, wait_ms=settings.inbound.webhook_db_wait_ms)
        )
        self.registry.register(SpoolCollector(spool))
        self.networks = parse_networks(settings.inbound.metrics_networks)
        self.trust_forwarded = settings.inbound.trust_forwarded_headers

    def middleware(self) -> RequestMetrics:
        return RequestMetrics(self)

    def resource(self) -> MetricsResource:
        return MetricsResource(self)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        if route in WEBHOOK_ROUTES:
            self.webhooks.labels(route, webhook_outcome(status, _spooled.get())).inc()
            self.webhook_seconds.labels(route).observe(seconds)
            return
        method = method if method in METHODS else "other"
        self.requests.labels(route, method, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def route_label(template: str | None) -> str:
    """Falcon's URI template without its converters (``/sms/{message_id}``), or
    ``unmatched`` when no route matched: never the raw path, whose values are unbounded."""
    return _CONVERTER.sub(r"{\1}", template) if template else "unmatched"


def webhook_outcome(status: int, spooled: bool) -> str:
    if status < 400:
        return "spooled" if spooled else "ok"
    if status in (401, 403):
        return "forbidden"  # a bad signature (or AccountSid)
    return "rejected" if status < 500 else "error"


class RequestMetrics:
    """Middleware, first in the list: it times every request, even one an earlier check
    refuses (a bad signature is 403 before the resource runs)."""

    def __init__(self, metrics: InboundMetrics) -> None:
        self.metrics = metrics

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.metrics_started = time.perf_counter()
        _spooled.set(False)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        started = getattr(req.context, "metrics_started", None)
        seconds = time.perf_counter() - started if started is not None else 0.0
        route = route_label(req.uri_template)
        self.metrics.observe(route, req.method, resp.status_code, seconds)


class MetricsResource:
    """GET /metrics. No ``auth_scopes``: never an API key; ``metrics_networks`` may restrict it."""

    def __init__(self, metrics: InboundMetrics) -> None:
        self.metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        networks = self.metrics.networks
        if networks and not address_allowed(
            client_address(req, trust_forwarded=self.metrics.trust_forwarded), networks
        ):
            raise ApiError(
                403,
                "forbidden",
                "/metrics is not open to this address ([inbound] metrics_networks)",
            )
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = self.metrics.exposition()


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(texts: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in texts)


def client_address(req: falcon.Request, *, trust_forwarded: bool) -> str:
    """The peer's address; behind a trusted reverse proxy ([inbound] trust_forwarded_headers),
    the last X-Forwarded-For hop: the address the proxy itself saw (earlier hops are the
    client's word)."""
    if trust_forwarded:
        forwarded = req.get_header("X-Forwarded-For")
        if forwarded and forwarded.split(",")[-1].strip():
            return forwarded.split(",")[-1].strip()
    return str(req.remote_addr or "")


def address_allowed(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in networks)


class MeteredSpool(Spool):
    """The app's spool, counting its appends (and marking the request as spooled)."""

    def __init__(self, inner: Spool, appends: Counter) -> None:
        super().__init__(inner.directory)
        self.inner = inner
        self.appends = appends

    def append(
        self,
        kind: str,
        form: Mapping[str, Sequence[str]],
        received_at: datetime,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SpoolEntry:
        entry = self.inner.append(kind, form, received_at, query=query, headers=headers)
        self.appends.labels(kind if kind in ("inbound", "status") else "other").inc()
        _spooled.set(True)
        return entry

    def pending(self) -> int:
        return self.inner.pending()

    def replay(
        self,
        apply: Callable[[SpoolEntry], bool | None],
        is_unavailable: Callable[[BaseException], bool],
    ) -> ReplayReport:
        return self.inner.replay(apply, is_unavailable)


class SpoolCollector(Collector):
    """The spool's files, read at scrape time (shared by every worker process)."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "sms_bridge_spool_entries",
            "Webhooks in the spool waiting for replay into the database.",
        )
        rejected = GaugeMetricFamily(
            "sms_bridge_spool_rejected_entries",
            "Spool entries that could not be applied, kept in rejected.jsonl for a human.",
        )
        try:
            pending.add_metric([], self.spool.pending())
            path = self.spool.directory / REJECTED
            rejected.add_metric([], _count_lines(path) if path.exists() else 0)
        except OSError as exc:
            log.warning("/metrics: cannot read the spool in %s: %s", self.spool.directory, exc)
            return
        yield pending
        yield rejected


def _count_lines(path: Any) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


class QueueCollector(Collector):
    """The queue as the database has it now (``Store.queue_snapshot``), at every scrape.

    Bounded like a webhook ([inbound] webhook_db_wait_ms): a database that is down or hung
    makes ``sms_bridge_queue_up`` 0, never a scrape that hangs or fails."""

    def __init__(self, store: Store, clock: Callable[[], datetime], *, wait_ms: int) -> None:
        self.store = store
        self.clock = clock
        self.wait_ms = wait_ms

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "sms_bridge_queue_up", "1 if this scrape could read the queue from the database."
        )
        took = GaugeMetricFamily(
            "sms_bridge_queue_read_duration_seconds", "Time this scrape took to read the queue."
        )
        started = time.perf_counter()
        try:
            with self.store.bounded_wait(self.wait_ms):
                snapshot = self.store.queue_snapshot(self.clock())
        except Exception as exc:
            if not self.store.is_unavailable(exc):
                log.exception("/metrics: reading the queue failed")
            else:
                log.warning("/metrics: database unavailable: %s", exc)
            up.add_metric([], 0)
            took.add_metric([], time.perf_counter() - started)
            yield up
            yield took
            return
        up.add_metric([], 1)
        took.add_metric([], time.perf_counter() - started)
        yield up
        yield took
        depth = GaugeMetricFamily(
            "sms_bridge_queue_messages",
            f"Messages by status ({', '.join(QUEUE_STATUSES)}), sender and priority.",
            labels=["status", "sender", "priority"],
        )
        for (status, sender, priority), n in sorted(snapshot.depth.items()):
            depth.add_metric([status, sender, str(priority)], n)
        due = GaugeMetricFamily(
            "sms_bridge_queue_due_messages",
            "QUEUED messages due now (next attempt at or before now), by sender.",
            labels=["sender"],
        )
        age = GaugeMetricFamily(
            "sms_bridge_queue_oldest_due_age_seconds",
            "How long the oldest due QUEUED message of each sender has been due (0: none due).",
            labels=["sender"],
        )
        for sender in sorted(set(snapshot.senders) | set(snapshot.due)):
            found = snapshot.due.get(sender)
            due.add_metric([sender], found.count if found else 0)
            waited = (snapshot.now - found.oldest).total_seconds() if found else 0.0
            age.add_metric([sender], max(waited, 0.0))
        yield depth
        yield due
        yield age
