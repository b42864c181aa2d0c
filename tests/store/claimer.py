"""A worker process for the concurrent-claim test: claims until the queue is empty.

Run as ``python -m tests.store.claimer DB SENDER WORKER``. It opens the store, prints
``ready`` and waits for a line on stdin, so the test can release both processes at once
whatever their start-up times (a deadline on the wall clock is not enough on a loaded CI
machine: one process could drain the queue before the other had finished importing). Then it
prints each claimed id on its own line.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from bridge.config import DatabaseSettings
from bridge.store import open_store

BATCH = 7
# Stands in for the send that follows each claim in the real worker; without it the first
# process released could finish the queue while the other is still being scheduled.
WORK_SECONDS = 0.002


def main(db_path: str, sender: str, worker: str) -> None:
    store = open_store(DatabaseSettings(url=f"sqlite:///{db_path}"))
    print("ready", flush=True)
    sys.stdin.readline()  # the barrier: the test writes one line to both processes
    empty_rounds = 0
    while empty_rounds < 3:
        batch = store.claim_batch(sender, BATCH, datetime.now(UTC), lease_seconds=60, worker=worker)
        empty_rounds = 0 if batch else empty_rounds + 1
        for message in batch:
            print(message.id, flush=True)
        time.sleep(WORK_SECONDS)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
