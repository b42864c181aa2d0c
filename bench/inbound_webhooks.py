"""Benchmark: signed inbound webhooks at a steady rate into the inbound service on SQLite.

    .venv/bin/python bench/inbound_webhooks.py [--rates 50,100,200,...] [--seconds 5]

Starts gunicorn (2 gthread workers, deploy/gunicorn.conf.py) twice on fresh SQLite databases:
once with the real app (``inbound.app:get_app()``: Falcon, signature middleware, keyword,
threading, opt-out), once
with the same handler written as a minimal Flask app, the framework of Twilio's quickstarts
(same signature check with RequestValidator, same ``receive_reply``, same TwiML), so the
difference is the framework and our middleware, not the work. For each rate it sends
pre-signed webhooks open-loop (on a fixed schedule, whatever the answers do: latency counts
from the scheduled time, so a server falling behind shows as latency rather than as a slower
client) and prints p50/p99 and errors. "Sustained" means zero errors and at least 95% of the
target rate achieved. Prints figures; never passes or fails on time.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-auth-token-0123456789abcdef"
SENDER_NUMBER = "+15005550006"


def flask_app() -> Any:
    """The baseline (gunicorn imports this): Twilio's quickstart shape, our handler inside."""
    from flask import Flask, Response, abort, request
    from twilio.request_validator import RequestValidator

    from bridge.config import config_path, load_settings
    from bridge.replies.processing import receive_reply
    from bridge.store import open_store
    from inbound.webhooks import twiml

    settings = load_settings(config_path(None, os.environ), os.environ)
    store = open_store(settings.database)
    validator = RequestValidator(settings.twilio.auth_token.reveal())
    public_url = settings.inbound.public_url.rstrip("/")
    app = Flask("baseline")

    @app.post("/twilio/inbound")
    def inbound() -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(f"{public_url}{request.path}", request.form, signature):
            abort(403)
        form = {k: request.form.getlist(k) for k in request.form}
        outcome = receive_reply(
            store,
            form,
            datetime.now(UTC),
            thread_window_hours=settings.inbound.thread_window_hours,
        )
        return Response(twiml(outcome.help_text), mimetype="text/xml")

    @app.get("/health")
    def health() -> dict[str, str]:
        store.schema_version()
        return {"status": "ok"}

    return app


@dataclass
class Step:
    rate: int
    sent: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def achieved(self) -> float:
        return self.sent / self.seconds

    @property
    def sustained(self) -> bool:
        return self.errors == 0 and self.achieved >= 0.95 * self.rate

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(path: Path) -> None:
    from bridge.config import DatabaseSettings
    from bridge.domain.models import Sender
    from bridge.store import open_store

    store = open_store(DatabaseSettings(url=f"sqlite:///{path}"))
    now = datetime.now(UTC)
    store.install(now)
    store.save_sender(
        Sender(code="HR", from_number=SENDER_NUMBER, mps=10, help_text="HR help"), now
    )
    store.close()


class Server:
    def __init__(self, name: str, target: str, workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        db = workdir / f"{name}.db"
        prepare_database(db)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
        env.update(
            SMS_BRIDGE_DATABASE_URL=f"sqlite:///{db}",
            SMS_BRIDGE_INBOUND_PUBLIC_URL=self.url,
            SMS_BRIDGE_INBOUND_SPOOL_DIR=str(workdir / f"{name}-spool"),
            SMS_BRIDGE_TWILIO_AUTH_TOKEN=TOKEN,
            SMS_BRIDGE_SERVE_BIND=f"127.0.0.1:{self.port}",
            SMS_BRIDGE_SERVE_WORKERS="2",
            SMS_BRIDGE_SERVE_ACCESS_LOG="",
            SMS_BRIDGE_SERVE_LOG_LEVEL="warning",
            PYTHONPATH=f"{ROOT}:{ROOT / 'bench'}",
        )
        self.log = (workdir / f"{name}.log").open("w")
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                target,
            ],
            cwd=workdir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not start; see {workdir / (name + '.log')}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def signed_bodies(url: str, count: int, run: str) -> list[tuple[bytes, str]]:
    from twilio.request_validator import RequestValidator
    from werkzeug.datastructures import MultiDict

    validator = RequestValidator(TOKEN)
    bodies = []
    for n in range(count):
        form = [
            # Shaped as Twilio's (SM + 32 hex): the webhook refuses anything else.
            ("MessageSid", "SM" + hashlib.md5(f"{run}:{n}".encode()).hexdigest()),
            ("AccountSid", "AC" + "0" * 32),
            ("From", f"+1415555{n % 10000:04d}"),
            ("To", SENDER_NUMBER),
            ("Body", "YES 4821" if n % 3 else "done, thanks"),
            ("NumMedia", "0"),
            ("FromCity", ""),
        ]
        signature = validator.compute_signature(f"{url}/twilio/inbound", MultiDict(form))
        bodies.append((urlencode(form).encode(), signature))
    return bodies


def run_step(server: Server, rate: int, seconds: float, run: str) -> Step:
    total = int(rate * seconds)
    bodies = signed_bodies(server.url, total, run)
    local = threading.local()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def send(item: tuple[bytes, str], scheduled: float) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        body, signature = item
        ok = False
        try:
            conn.request(
                "POST",
                "/twilio/inbound",
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                },
            )
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            conn.close()
            local.conn = None
        elapsed = time.perf_counter() - scheduled
        with lock:
            latencies.append(elapsed)
            if not ok:
                errors[0] += 1

    start = time.perf_counter() + 0.05
    with ThreadPoolExecutor(max_workers=64) as pool:
        for n, item in enumerate(bodies):
            scheduled = start + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, item, scheduled)
    elapsed = time.perf_counter() - start
    return Step(rate, total, errors[0], elapsed, latencies)


def benchmark(
    name: str, target: str, workdir: Path, rates: list[int], seconds: float
) -> list[Step]:
    server = Server(name, target, workdir)
    steps = []
    try:
        run_step(server, 20, 1, f"{name[:2]}W")  # warm-up: imports, connections, caches
        for i, rate in enumerate(rates):
            step = run_step(server, rate, seconds, f"{name[:2]}{i:02d}")
            steps.append(step)
            print(
                f"{name:<8} {rate:>5}/s  achieved {step.achieved:7.1f}/s  "
                f"p50 {step.percentile(0.50):7.1f} ms  p99 {step.percentile(0.99):7.1f} ms  "
                f"errors {step.errors:>4}  {'ok' if step.sustained else 'NOT sustained'}",
                flush=True,
            )
            if step.errors > step.sent // 10:
                break  # far past saturation: higher rates tell nothing more
    finally:
        server.stop()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="50,100,200,300,400,600")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}, {args.seconds:g} s per rate")
    with tempfile.TemporaryDirectory(prefix="sms-bench-") as tmp:
        results = {
            "falcon": benchmark("falcon", "inbound.app:get_app()", Path(tmp), rates, args.seconds),
            "flask": benchmark(
                "flask", "inbound_webhooks:flask_app()", Path(tmp), rates, args.seconds
            ),
        }
    print("\nsummary (highest rate sustained with zero errors; p50/p99 at that rate):")
    for name, steps in results.items():
        good = [s for s in steps if s.sustained]
        if good:
            best = max(good, key=lambda s: s.rate)
            print(
                f"  {name:<8} {best.rate}/s  p50 {best.percentile(0.5):.1f} ms  "
                f"p99 {best.percentile(0.99):.1f} ms"
            )
        else:
            print(f"  {name:<8} no rate sustained")
        low = steps[0] if steps else None
        if low:
            print(
                f"           at {low.rate}/s: p50 {low.percentile(0.5):.1f} ms, "
                f"p99 {low.percentile(0.99):.1f} ms, median of all "
                f"{statistics.median(low.latencies) * 1000:.1f} ms"
            )


if __name__ == "__main__":
    main()
