"""What GET /metrics reads from the database when Prometheus scrapes (inbound/metrics.py).

Reads only, in one read-only transaction (a scrape never writes: tests/metrics prove it on a
database file), and bounded by the indexes whatever the history holds:

- the depth of the queue per status x sender x priority, for the statuses a message passes
  through before its outcome (QUEUED, SENDING, SUBMITTED): a range of
  ``sms_outbound_ready_ix (status, sender_code, priority, id, next_attempt_at)`` that reads
  the index alone and never the final rows;
- per sender, how many QUEUED messages are due and when the oldest of them became due: the
  QUEUED range of the same index (``next_attempt_at`` is in it);
- the senders, so that a sender with nothing due shows 0 rather than no series at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bridge.store.rows import StoreBase

# The statuses counted as the queue (never the final ones: their count grows with history).
QUEUE_STATUSES = ("QUEUED", "SENDING", "SUBMITTED")

METRICS_QUEUE_DEPTH = """
SELECT status, sender_code, priority, COUNT(*) AS n
  FROM sms_outbound
 WHERE status IN ('QUEUED', 'SENDING', 'SUBMITTED')
 GROUP BY status, sender_code, priority
"""

METRICS_OLDEST_DUE = """
SELECT sender_code, COUNT(*) AS n, MIN(next_attempt_at) AS next_attempt_at
  FROM sms_outbound
 WHERE status = 'QUEUED' AND next_attempt_at <= :now
 GROUP BY sender_code
"""

METRICS_SENDER_CODES = "SELECT code, active FROM sms_senders ORDER BY code"


@dataclass(frozen=True)
class DueMessages:
    count: int
    oldest: datetime  # when the oldest due message became due (next_attempt_at)


@dataclass(frozen=True)
class QueueSnapshot:
    now: datetime
    # (status, sender_code, priority) -> messages
    depth: dict[tuple[str, str, int], int] = field(default_factory=dict)
    # sender_code -> due QUEUED messages (senders with none are absent)
    due: dict[str, DueMessages] = field(default_factory=dict)
    # sender_code -> active
    senders: dict[str, bool] = field(default_factory=dict)


class MetricsStoreMixin(StoreBase):
    def queue_snapshot(self, now: datetime) -> QueueSnapshot:
        """The queue as GET /metrics shows it, read in one read-only transaction."""
        with self.dialect.transaction("metrics", write=False) as tx:
            depth_rows = tx.rows(METRICS_QUEUE_DEPTH)
            due_rows = tx.rows(METRICS_OLDEST_DUE, {"now": now})
            sender_rows = tx.rows(METRICS_SENDER_CODES)
        snapshot = QueueSnapshot(now=now)
        for r in depth_rows:
            key = (str(r["status"]), str(r["sender_code"]), int(r["priority"]))
            snapshot.depth[key] = int(r["n"])
        for r in due_rows:
            oldest = r["next_attempt_at"]
            if isinstance(oldest, datetime):
                snapshot.due[str(r["sender_code"])] = DueMessages(int(r["n"]), oldest)
        for r in sender_rows:
            snapshot.senders[str(r["code"])] = r["active"] == "Y"
        return snapshot
