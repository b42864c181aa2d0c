"""A worker process for the concurrent-claim test: claims until the queue is empty.

Prints each claimed id on its own line. Run as ``python -m tests.integration.claimer DB SENDER``.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from bridge.config import DatabaseSettings
from bridge.store import open_store


def main(db_path: str, sender: str, worker: str, start_at: float) -> None:
    store = open_store(DatabaseSettings(url=f"sqlite:///{db_path}"))
    while time.time() < start_at:  # both processes start claiming at the same instant
        time.sleep(0.001)
    empty_rounds = 0
    while empty_rounds < 3:
        batch = store.claim_batch(sender, 7, datetime.now(UTC), lease_seconds=60, worker=worker)
        empty_rounds = 0 if batch else empty_rounds + 1
        for message in batch:
            print(message.id, flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))
