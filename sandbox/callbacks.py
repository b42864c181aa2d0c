"""Signed webhook POSTs (status callbacks and inbound replies), sent the way Twilio sends them.

Status callbacks go through a few worker threads. Each message's callbacks always land on the same
worker (chosen by SID), so they are POSTed in the order they were queued; out-of-order delivery is
therefore only what the fault setting asks for, never an accident of thread scheduling. Nothing is
retried: Twilio does not retry a status callback the receiver failed to take.

Each webhook is signed with the auth token of the account it is about (its ``AccountSid``
parameter: the message's account, or the owner of the number a reply was sent to).
"""

from __future__ import annotations

import queue
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sandbox.signing import compute_signature
from sandbox.state import Store, random_hex

RESPONSE_BODY_LIMIT = 2000


@dataclass(frozen=True)
class CallbackJob:
    generation: int
    kind: str  # "status" or "inbound"
    url: str
    params: dict[str, str]
    sid: str
    idempotency_token: str
    duplicate: bool = False


def make_job(generation: int, kind: str, url: str, params: dict[str, str], sid: str) -> CallbackJob:
    return CallbackJob(generation, kind, url, params, sid, random_hex(32))


class CallbackSender:
    def __init__(
        self,
        store: Store,
        auth_token: str,
        workers: int,
        timeout: float,
        tokens: Mapping[str, str] | None = None,
    ) -> None:
        self._store = store
        self._auth_token = auth_token  # the main account's: signs what names no known account
        self._tokens = dict(tokens or {})  # account SID -> auth token
        self._timeout = timeout
        # Loopback receivers must never be reached through an HTTP proxy from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._queues: list[queue.Queue[CallbackJob | None]] = [
            queue.Queue() for _ in range(max(1, workers))
        ]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for index, jobs in enumerate(self._queues):
            thread = threading.Thread(
                target=self._work, args=(jobs,), name=f"sandbox-callbacks-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 2.0) -> None:
        for jobs in self._queues:
            jobs.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def submit(self, job: CallbackJob) -> None:
        self._queues[zlib.crc32(job.sid.encode()) % len(self._queues)].put(job)

    def pending(self) -> int:
        return sum(jobs.qsize() for jobs in self._queues)

    def _work(self, jobs: queue.Queue[CallbackJob | None]) -> None:
        while (job := jobs.get()) is not None:
            if job.generation == self._store.generation:  # dropped if the sandbox was reset
                self.post(job)

    def post(self, job: CallbackJob) -> dict[str, Any]:
        """POST one signed webhook now, record it and what the receiver answered."""
        token = self._tokens.get(job.params.get("AccountSid", ""), self._auth_token)
        signature = compute_signature(token, job.url, job.params)
        request = urllib.request.Request(
            job.url,
            data=urlencode(job.params).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
                "X-Twilio-Signature": signature,
                "I-Twilio-Idempotency-Token": job.idempotency_token,
            },
        )
        entry: dict[str, Any] = {
            "kind": job.kind,
            "sid": job.sid,
            "url": job.url,
            "params": job.params,
            "signature": signature,
            "idempotency_token": job.idempotency_token,
            "duplicate": job.duplicate,
            "sent_at": datetime.now(UTC).isoformat(),
            "response_status": None,
            "response_body": None,
            "error": None,
        }
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                entry["response_status"] = response.status
                entry["response_body"] = _text(response.read(RESPONSE_BODY_LIMIT))
        except urllib.error.HTTPError as exc:
            entry["response_status"] = exc.code
            entry["response_body"] = _text(exc.read(RESPONSE_BODY_LIMIT))
            exc.close()
        except (OSError, ValueError) as exc:  # refused, timed out, reset, bad URL
            entry["error"] = f"{type(exc).__name__}: {exc}"
        if job.generation == self._store.generation:  # a reset meanwhile: not this run's record
            self._store.log_callback(entry)
        return entry


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")
