"""The worker's Prometheus metrics, and the exporter ``[bridge] metrics_port`` turns on.

``WORKER`` is the one set of this process (``sms-bridge run`` is one process; gunicorn's
multiprocess files are the inbound service's business, not this one's): the worker, the runner
and recovery count into it, and :func:`serve` publishes it at ``http://<host>:<port>/metrics``
(prometheus_client's own HTTP server, on its own thread, every interface). Off by default.

Labels stay bounded: senders are rows of sms_senders, outcomes are the classification's
actions, and a Twilio error code is only set on the outcomes that carry one (never on a
submitted create).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bridge.domain.policy import Action, Outcome
from bridge.errors import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")

# A create answers within [twilio] timeout (10 s by default; twice that with the connect).
CREATE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 20.0)
# The outcome label of each action (what the worker does with the answer).
OUTCOMES = {
    Action.SUBMITTED: "submitted",
    Action.RETRY: "retry",
    Action.UNKNOWN: "unknown",
    Action.SUPPRESS: "suppressed",
    Action.INVALID: "invalid",
    Action.FAIL: "failed",
    Action.STOP: "credentials_rejected",
}


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.claims = Counter(
            "sms_bridge_worker_claims",
            "Messages claimed (moved to SENDING).",
            ["sender"],
            registry=r,
        )
        self.rate_limit_waits = Counter(
            "sms_bridge_worker_rate_limit_waits",
            "Claim rounds in which a sender had due messages and got none: its token bucket"
            " ([sms_senders] mps) was empty (or another worker took them).",
            ["sender"],
            registry=r,
        )
        self.creates = Counter(
            "sms_bridge_worker_creates",
            "Twilio creates by outcome; error_code is Twilio's code (or the HTTP status) of a"
            " refused create, empty otherwise.",
            ["outcome", "error_code"],
            registry=r,
        )
        self.create_seconds = Histogram(
            "sms_bridge_worker_create_duration_seconds",
            "Time of one Twilio create (the request and its answer).",
            buckets=CREATE_BUCKETS,
            registry=r,
        )
        self.reconciliations = Counter(
            "sms_bridge_worker_reconciliations",
            "Creates of unknown outcome looked up at Twilio, by result (found, requeued,"
            " failed, deferred).",
            ["result"],
            registry=r,
        )
        self.last_loop = Gauge(
            "sms_bridge_worker_last_loop_timestamp_seconds",
            "When the worker's loop last went round (Unix time).",
            registry=r,
        )
        self.started = Gauge(
            "sms_bridge_worker_start_timestamp_seconds",
            "When this worker process started its loop (Unix time).",
            registry=r,
        )
        self._credentials = _Flag(
            "sms_bridge_worker_credentials_broken",
            "1 while Twilio rejects the credentials (20003): sending is stopped.",
        )
        r.register(self._credentials)

    # -- what the worker, the runner and recovery call --------------------------------------

    def claimed(self, sender: str, count: int) -> None:
        """One claim round of a ready sender (it had due messages)."""
        if count:
            self.claims.labels(sender).inc(count)
        else:
            self.rate_limit_waits.labels(sender).inc()

    def timed(self, call: Callable[..., T], *args: object) -> T:
        """Run a create (in a send thread) and observe how long it took."""
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.create_seconds.observe(time.perf_counter() - started)

    async def timed_async(self, create: Awaitable[T]) -> T:
        """Await a create (on the worker's event loop) and observe how long it took."""
        started = time.perf_counter()
        try:
            return await create
        finally:
            self.create_seconds.observe(time.perf_counter() - started)

    def outcome(self, outcome: Outcome) -> None:
        label = OUTCOMES.get(outcome.action, str(outcome.action).lower())
        code = "" if outcome.action in (Action.SUBMITTED, Action.UNKNOWN) else outcome.code
        self.creates.labels(label, "" if code is None else str(code)).inc()

    def reconciled(self, found: int, requeued: int, failed: int, deferred: int) -> None:
        for result, n in (
            ("found", found),
            ("requeued", requeued),
            ("failed", failed),
            ("deferred", deferred),
        ):
            if n:
                self.reconciliations.labels(result).inc(n)

    def loop(self) -> None:
        self.last_loop.set_to_current_time()

    def watch_credentials(self, broken: Callable[[], bool]) -> None:
        """Where the credentials flag is read at scrape time (the runner's current worker)."""
        self._credentials.read = broken


class _Flag(Collector):
    def __init__(self, name: str, documentation: str) -> None:
        self.name, self.documentation = name, documentation
        self.read: Callable[[], bool] = lambda: False

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.name, self.documentation, value=1 if self.read() else 0)


WORKER = WorkerMetrics()


def serve(port: int | None, metrics: WorkerMetrics = WORKER) -> bool:
    """Start the exporter on ``port`` (None or 0: off); False when off. A port already taken
    fails here, at start, in one line (ConfigError)."""
    if not port:
        return False
    try:
        start_http_server(port, registry=metrics.registry)
    except OSError as exc:
        raise ConfigError(
            f"[bridge] metrics_port = {port}: cannot listen there ({exc.strerror or exc})"
        ) from None
    metrics.started.set_to_current_time()
    metrics.loop()
    log.info("metrics at http://0.0.0.0:%d/metrics", port)
    return True
