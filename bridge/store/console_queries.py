"""Named SQL of the operator console (bridge/store/console_store.py), valid on both engines.

``:name`` binds only, every instant bound from Python, and no bind standing where Oracle would
have to guess its type (tests/store/test_typed_binds.py checks every literal here). Aggregated
timestamps keep a timestamp column's name (``AS created_at``) so that the SQLite dialect reads
them back as datetimes, as it does the columns themselves.
"""

from __future__ import annotations

HOURS = 24

# Queue depth per sender and priority: every QUEUED row, those due now, and the oldest due
# one (its creation time and its id).
QUEUE_BY_SENDER = """
SELECT sender_code, priority, COUNT(*) AS queued,
       SUM(CASE WHEN next_attempt_at <= :now THEN 1 ELSE 0 END) AS due,
       MIN(CASE WHEN next_attempt_at <= :now THEN created_at END) AS created_at,
       MIN(CASE WHEN next_attempt_at <= :now THEN id END) AS oldest_id
  FROM sms_outbound
 WHERE status = 'QUEUED'
 GROUP BY sender_code, priority
 ORDER BY sender_code, priority
"""


def _hour_columns() -> str:
    parts = []
    for h in range(HOURS):
        window = f":h{h} AND {{column}} < :h{h + 1}"
        parts.append(
            f"SUM(CASE WHEN submitted_at >= {window.format(column='submitted_at')}"
            f" THEN 1 ELSE 0 END) AS s{h},"
            f" SUM(CASE WHEN status = 'DELIVERED' AND final_at >= "
            f"{window.format(column='final_at')} THEN 1 ELSE 0 END) AS d{h},"
            f" SUM(CASE WHEN status IN ('FAILED', 'UNDELIVERED') AND final_at >= "
            f"{window.format(column='final_at')} THEN 1 ELSE 0 END) AS f{h}"
        )
    return ",\n       ".join(parts)


# Submitted (by submitted_at), delivered and failed (by final_at) per hour, h0 the oldest:
# one pass over the rows, the buckets bound as instants (no engine-specific date arithmetic).
# created_since (a week before h0) lets sms_outbound_created_ix bound the scan; a message
# created earlier than that and sent in the last day is left out of the chart.
HOURLY = (
    "SELECT "
    + _hour_columns()
    + "\n  FROM sms_outbound WHERE created_at >= :created_since"
    + " AND (submitted_at >= :h0 OR final_at >= :h0)"
)

# Both bounded by created_at too (sms_outbound_created_ix), so an overview never scans the
# whole history: a message created more than CREATED_SLACK before the window is left out.
CREATED_SLACK_DAYS = 7

TOP_ERRORS = """
SELECT error_code, COUNT(*) AS n, MAX(error_message) AS error_message
  FROM sms_outbound
 WHERE created_at >= :created_since AND error_code IS NOT NULL AND updated_at >= :since
 GROUP BY error_code
 ORDER BY COUNT(*) DESC, error_code
"""

# Workers that claimed something recently: the lease holder named on the rows.
WORKERS = """
SELECT claimed_by, COUNT(*) AS n, MAX(claimed_at) AS claimed_at
  FROM sms_outbound
 WHERE created_at >= :created_since AND claimed_by IS NOT NULL AND claimed_at >= :since
 GROUP BY claimed_by
 ORDER BY MAX(claimed_at) DESC
"""

CONVERSATION_OUTBOUND = """
SELECT * FROM sms_outbound WHERE to_number = :phone ORDER BY created_at, id
"""

CONVERSATION_INBOUND = """
SELECT * FROM sms_inbound WHERE from_number = :phone ORDER BY received_at, id
"""

# The people who wrote lately: one row per number, the latest reply first.
RECENT_CORRESPONDENTS = """
SELECT from_number, COUNT(*) AS n, MAX(received_at) AS received_at, MAX(id) AS last_id
  FROM sms_inbound
 WHERE received_at >= :since
 GROUP BY from_number
 ORDER BY MAX(received_at) DESC, from_number
"""

# Replies that need a person: NEW ones, ERROR ones, and those the threading could not tie to
# one message (AMBIGUOUS, NONE) that nothing processed yet.
REPLIES_NEW = "SELECT * FROM sms_inbound WHERE status = 'NEW' ORDER BY id DESC"
REPLIES_ERROR = "SELECT * FROM sms_inbound WHERE status = 'ERROR' ORDER BY id DESC"
REPLIES_FLAGGED = """
SELECT * FROM sms_inbound
 WHERE match_method IN ('AMBIGUOUS', 'NONE') AND status IN ('NEW', 'ERROR')
 ORDER BY id DESC
"""

# An ERROR reply back to NEW, untaken: the dispatcher runs its handler again.
REPROCESS_REPLY = """
UPDATE sms_inbound SET status = 'NEW', error_message = NULL, processed_at = NULL
 WHERE id = :id AND status = 'ERROR'
"""

OPTOUTS_ALL = "SELECT * FROM sms_optouts ORDER BY changed_at DESC, phone_number, scope"
OPTOUTS_SEARCH = """
SELECT * FROM sms_optouts
 WHERE phone_number LIKE :pattern OR scope LIKE :pattern OR source LIKE :pattern
 ORDER BY changed_at DESC, phone_number, scope
"""

KEYWORDS = "SELECT * FROM sms_keywords ORDER BY keyword, sender_code"

UPDATE_KEYWORD = """
UPDATE sms_keywords SET action = :action, handler = :handler, reply_text = :reply_text,
       active = :active
 WHERE keyword = :keyword AND sender_code = :sender_code
"""

INSERT_KEYWORD = """
INSERT INTO sms_keywords (keyword, sender_code, action, handler, reply_text, active)
VALUES (:keyword, :sender_code, :action, :handler, :reply_text, :active)
"""

# An event on a row that does not move it (applied = N): the console's requeue link.
NOTE_EVENT = """
INSERT INTO sms_events (outbound_id, event_at, status, source, applied, detail)
VALUES (:outbound_id, :now, :status, 'api', 'N', :detail)
"""
