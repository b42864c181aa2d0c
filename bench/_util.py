"""Small helpers shared by benchmarks: percentiles, keep-alive HTTP load, process CPU/RSS.

Benchmarks print figures; they never pass or fail on time.
"""

from __future__ import annotations

import http.client
import multiprocessing
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for an empty list)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class LoadResult:
    requests: int
    errors: int
    elapsed: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def _thread_loop(
    url: str, request: Request, deadline: float, budget: int, out: list[float], errs: list[int]
) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        for _ in range(budget):
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            try:
                conn.request(request.method, request.path, request.body, request.headers)
                response = conn.getresponse()
                response.read()
                ok = response.status < 400
            except (OSError, http.client.HTTPException):
                conn.close()  # reconnect on the next round
                ok = False
            out.append((time.perf_counter() - started) * 1000)
            if not ok:
                errs.append(1)
    finally:
        conn.close()


def _process_load(
    url: str, request: Request, threads: int, seconds: float, budget: int
) -> tuple[list[float], int]:
    deadline = time.monotonic() + seconds
    per_thread = max(1, budget // threads)
    outs: list[list[float]] = [[] for _ in range(threads)]
    errs: list[list[int]] = [[] for _ in range(threads)]
    workers = [
        threading.Thread(
            target=_thread_loop, args=(url, request, deadline, per_thread, outs[i], errs[i])
        )
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return [x for o in outs for x in o], sum(len(e) for e in errs)


def run_load(
    url: str,
    request: Request,
    *,
    processes: int,
    threads: int,
    seconds: float,
    max_requests: int,
) -> LoadResult:
    """Closed-loop load: processes x threads keep-alive connections, each sending requests back
    to back until ``seconds`` pass or the share of ``max_requests`` is used."""
    budget = max(1, max_requests // processes)
    context = multiprocessing.get_context("fork")
    started = time.monotonic()
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [
            pool.submit(_process_load, url, request, threads, seconds, budget)
            for _ in range(processes)
        ]
        results = [f.result() for f in futures]
    elapsed = time.monotonic() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    return LoadResult(len(latencies), sum(e for _, e in results), elapsed, latencies)


class ProcessMeter:
    """CPU seconds and RSS of a process tree (e.g. gunicorn's arbiter and its worker)."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)

    def _tree(self) -> list[psutil.Process]:
        return [self.root, *self.root.children(recursive=True)]

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self._tree():
            times = proc.cpu_times()
            total += times.user + times.system
        return total

    def rss_mb(self) -> float:
        return sum(p.memory_info().rss for p in self._tree()) / 2**20
