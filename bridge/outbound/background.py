"""A scheduled job that runs on a thread of its own, one run at a time.

The worker's loop is one thread: claims, sends, recovery and the scheduler's jobs take turns.
A job that may take minutes (the first opt-out sync reads up to 13 months of Twilio's history,
page by page) would stop sending meanwhile; run as a BackgroundJob it does not. A tick while
the previous run is still going does nothing (the next tick after it ends runs it again).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundJob:
    def __init__(self, name: str, run: Callable[[], object]) -> None:
        self.name = name
        self.__name__ = name.replace("-", "_")  # how schedule names the job in its listing
        self._run = run
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __call__(self) -> None:
        """The scheduler's tick: start a run unless one is under way."""
        with self._lock:
            if self.running:
                log.info("%s: the previous run is still going", self.name)
                return
            # Daemon: a stopping worker does not wait for it. Its window was taken in
            # sms_job_runs; the next run's look-back overlap covers what it did not finish.
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
