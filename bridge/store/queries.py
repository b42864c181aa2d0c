"""Named SQL that SQLite and Oracle both accept (``:name`` binds, no engine functions).

Timestamps are always bound from Python (UTC), never taken from the database clock, so tests
control time. Engine-specific SQL lives in the dialect modules.
"""

from __future__ import annotations

GET_MESSAGE = "SELECT * FROM sms_outbound WHERE id = :id"

GET_MESSAGE_BY_SID = "SELECT * FROM sms_outbound WHERE provider_sid = :sid"

FIND_BY_CORRELATION = """
SELECT id FROM sms_outbound
 WHERE source_system = :source_system AND correlation_key = :correlation_key
"""

GET_SENDER = "SELECT * FROM sms_senders WHERE code = :code"

BATCH_OF_KEYS = """
SELECT batch_id FROM sms_outbound
 WHERE source_system = :source_system AND correlation_key IN ({keys})
"""

STATUSES_OF = "SELECT id, status FROM sms_outbound WHERE id IN ({ids})"

BATCH_EXISTS = "SELECT id FROM sms_batches WHERE id = :id"

INSERT_BATCH = """
INSERT INTO sms_batches (source, label, created_by, rejected, created_at)
VALUES (:source, :label, :created_by, 0, :now)
"""

GET_BATCH = "SELECT * FROM sms_batches WHERE id = :id"

ADD_BATCH_REJECTED = (
    "UPDATE sms_batches SET rejected = rejected + CAST(:n AS NUMBER) WHERE id = :id"
)

# A batch's messages grouped by where they ended (bridge.domain.batches.summarize); read
# through sms_outbound_batch_ix.
BATCH_STATUS_COUNTS = """
SELECT status,
       CASE WHEN duplicate_of IS NULL THEN 0 ELSE 1 END AS duplicate,
       CASE WHEN provider_sid IS NULL THEN 0 ELSE 1 END AS has_sid,
       COUNT(*) AS n
  FROM sms_outbound
 WHERE batch_id = :id
 GROUP BY status,
          CASE WHEN duplicate_of IS NULL THEN 0 ELSE 1 END,
          CASE WHEN provider_sid IS NULL THEN 0 ELSE 1 END
"""

LIST_SENDERS = "SELECT * FROM sms_senders ORDER BY code"

INSERT_SENDER = """
INSERT INTO sms_senders (code, description, from_number, messaging_service_sid, mps,
                         quiet_start, quiet_end, default_time_zone, help_text, active,
                         validity_seconds, line_type_lookup, twilio_account,
                         dedupe_window_seconds, tokens, tokens_at, created_at)
VALUES (:code, :description, :from_number, :messaging_service_sid, :mps,
        :quiet_start, :quiet_end, :default_time_zone, :help_text, :active,
        :validity_seconds, :line_type_lookup, :twilio_account,
        :dedupe_window_seconds, 0, NULL, :now)
"""

UPDATE_SENDER = """
UPDATE sms_senders
   SET description = :description, from_number = :from_number,
       messaging_service_sid = :messaging_service_sid, mps = :mps,
       quiet_start = :quiet_start, quiet_end = :quiet_end,
       default_time_zone = :default_time_zone, help_text = :help_text, active = :active,
       validity_seconds = :validity_seconds, line_type_lookup = :line_type_lookup,
       twilio_account = :twilio_account, dedupe_window_seconds = :dedupe_window_seconds
 WHERE code = :code
"""

UPDATE_SENDER_TOKENS = """
UPDATE sms_senders SET tokens = :tokens, tokens_at = :now WHERE code = :code
"""

GET_RECIPIENT = """
SELECT recipient_type, recipient_id, display_name, mobile_number, time_zone, manager_email
  FROM sms_recipients_v
 WHERE recipient_type = :recipient_type AND recipient_id = :recipient_id
"""

FIND_RECIPIENTS_BY_NUMBER = """
SELECT recipient_type, recipient_id, display_name, mobile_number, time_zone, manager_email
  FROM sms_recipients_v
 WHERE mobile_number = :phone
"""

INSERT_OUTBOUND = """
INSERT INTO sms_outbound (sender_code, recipient_type, recipient_id, to_number, body, priority,
                          status, reference, reply_code, source_system, correlation_key,
                          send_after, expires_at, next_attempt_at, attempts, created_by,
                          created_at, updated_at, batch_id)
VALUES (:sender_code, :recipient_type, :recipient_id, :to_number, :body, :priority,
        'QUEUED', :reference, :reply_code, :source_system, :correlation_key,
        :send_after, :expires_at, :next_attempt_at, 0, :created_by, :now, :now, :batch_id)
"""

INSERT_EVENT = """
INSERT INTO sms_events (outbound_id, event_at, status, provider_status, error_code, source,
                        applied, detail)
VALUES (:outbound_id, :event_at, :status, :provider_status, :error_code, :source,
        :applied, :detail)
"""

# A status callback's event, with its key (unique: a replayed callback is refused).
INSERT_CALLBACK_EVENT = """
INSERT INTO sms_events (outbound_id, event_at, status, provider_status, error_code, source,
                        applied, detail, callback_key)
VALUES (:outbound_id, :event_at, :status, :provider_status, :error_code, :source,
        :applied, :detail, :callback_key)
"""

LIST_EVENTS = "SELECT * FROM sms_events WHERE outbound_id = :outbound_id ORDER BY id"

CANCEL = """
UPDATE sms_outbound
   SET status = 'CANCELED', status_reason = :reason, final_at = :now, updated_at = :now
 WHERE id = :id AND status = 'QUEUED'
"""

MARK_SENDING = """
UPDATE sms_outbound
   SET status = 'SENDING', attempts = attempts + 1, claimed_by = :worker, claimed_at = :now,
       lease_until = :lease_until, updated_at = :now
 WHERE id = :id AND status = 'QUEUED'
"""

MARK_SUBMITTED = """
UPDATE sms_outbound
   SET status = 'SUBMITTED', provider_sid = :provider_sid, provider_status = :provider_status,
       to_number = :to_number, num_segments = :num_segments, encoding = :encoding,
       submitted_at = :now, lease_until = NULL, updated_at = :now
 WHERE id = :id AND status = 'SENDING'
"""

# Binds that stand in COALESCE (or arithmetic) are CAST to their column's type: the driver
# binds None as VARCHAR2, and COALESCE does not convert it as NVL would (ORA-00932 against a
# NUMBER column). Texts go to VARCHAR2(4000): the CAST fixes the type, the column keeps its own
# length check. :now is always a datetime, bound as TIMESTAMP (tests/store/sql_checks.py).
#
# Forward-only: the caller passes the set of statuses the new one may replace.
MOVE_STATUS = """
UPDATE sms_outbound
   SET status = :status,
       provider_status = COALESCE(CAST(:provider_status AS VARCHAR2(4000)), provider_status),
       error_code = COALESCE(CAST(:error_code AS NUMBER), error_code),
       error_message = COALESCE(CAST(:error_message AS VARCHAR2(4000)), error_message),
       provider_sid = COALESCE(provider_sid, CAST(:provider_sid AS VARCHAR2(4000))),
       submitted_at = COALESCE(submitted_at, :now),
       final_at = :final_at, lease_until = NULL, updated_at = :now
 WHERE id = :id AND status IN ({allowed})
"""

REQUEUE = """
UPDATE sms_outbound
   SET status = 'QUEUED', next_attempt_at = :next_attempt_at, status_reason = :reason,
       attempts = attempts - CAST(:uncount AS NUMBER),
       error_code = COALESCE(CAST(:error_code AS NUMBER), error_code),
       lease_until = NULL, claimed_by = NULL,
       updated_at = :now
 WHERE id = :id AND status = 'SENDING'
"""

RELEASE_CLAIM = """
UPDATE sms_outbound
   SET status = 'QUEUED', attempts = attempts - 1, lease_until = NULL, claimed_by = NULL,
       updated_at = :now
 WHERE id = :id AND status = 'SENDING' AND claimed_by = :worker
"""

FINALIZE = """
UPDATE sms_outbound
   SET status = :status, status_reason = :reason, error_code = :error_code,
       error_message = :error_message,
       to_number = COALESCE(CAST(:to_number AS VARCHAR2(4000)), to_number),
       num_segments = COALESCE(CAST(:num_segments AS NUMBER), num_segments),
       encoding = COALESCE(CAST(:encoding AS VARCHAR2(4000)), encoding),
       final_at = :now, lease_until = NULL, updated_at = :now
 WHERE id = :id AND status IN ('QUEUED', 'SENDING')
"""

EXPIRED_LEASES = """
SELECT * FROM sms_outbound
 WHERE status = 'SENDING' AND lease_until <= :now
 ORDER BY id
"""

# Rows still waiting for their outcome, submitted before :before, least recently checked first
# (the job touches updated_at of a row it polled without news), so a few rows that never get a
# report cannot take every run's slots. SENT rows are given up after :give_up (some carriers
# never report delivery); SUBMITTED ones never are (a worker stopped for days must not leave
# them stuck). The dialect appends its page clause.
STALE_SUBMISSIONS = """
SELECT * FROM sms_outbound
 WHERE ((status = 'SUBMITTED' AND submitted_at < :before)
     OR (status = 'SENT' AND submitted_at < :before AND submitted_at >= :give_up))
   AND updated_at < :before
 ORDER BY updated_at, id
"""

TOUCH_SYNCED = """
UPDATE sms_outbound SET updated_at = :now WHERE id = :id AND status IN ('SUBMITTED', 'SENT')
"""


READY_SENDERS = """
SELECT DISTINCT sender_code FROM sms_outbound
 WHERE status = 'QUEUED' AND next_attempt_at <= :now
"""

GET_JOB_RUN = "SELECT last_run_at FROM sms_job_runs WHERE job_name = :job"

# Conditional on the value read: of several workers, one moves it, the others update nothing.
TAKE_JOB_RUN = """
UPDATE sms_job_runs SET last_run_at = :now, run_by = :worker
 WHERE job_name = :job AND last_run_at = :seen
"""

COUNTS_BY_STATUS_AND_SENDER = """
SELECT sender_code, status, COUNT(*) AS n
  FROM sms_outbound
 GROUP BY sender_code, status
 ORDER BY sender_code, status
"""

GET_INBOUND_BY_SID = "SELECT * FROM sms_inbound WHERE message_sid = :message_sid"

GET_OPTOUT_STATE = """
SELECT scope, state, changed_at FROM sms_optouts
 WHERE phone_number = :phone_number AND scope IN (:scope, '*')
"""

SCHEMA_VERSION = "SELECT MAX(version) AS v FROM sms_schema_version"

# Both counts from the (status, next_attempt_at) index: what waits, and what of it is due.
QUEUE_DEPTH = """
SELECT COUNT(*) AS queued,
       COALESCE(SUM(CASE WHEN next_attempt_at <= :now THEN 1 ELSE 0 END), 0) AS due
  FROM sms_outbound
 WHERE status = 'QUEUED'
"""

END_LEASE = """
UPDATE sms_outbound SET lease_until = :lease_until, updated_at = :now
 WHERE id = :id AND status = 'SENDING'
"""

RENEW_EXPIRED_LEASE = """
UPDATE sms_outbound SET lease_until = :lease_until, claimed_by = :worker, updated_at = :now
 WHERE id = :id AND status = 'SENDING' AND lease_until <= :now
"""

ERRORS_SINCE = """
SELECT * FROM sms_outbound
 WHERE status IN ('FAILED', 'UNDELIVERED', 'INVALID')
   AND final_at >= :since AND final_at < :until
 ORDER BY sender_code, error_code, id
"""

# Every row whose create may be in flight or of unknown outcome (bridge.domain.twins): few (the
# workers' concurrency and the unknown outcomes waiting for recovery), read through the
# (status, next_attempt_at) index whatever Oracle's statistics say of status; the numbers are
# matched in Python, so this is one statement text for every batch.
UNRESOLVED = """
SELECT /*+ INDEX(sms_outbound sms_outbound_due_ix) */
       id, to_number, body, lease_until, claimed_by
  FROM sms_outbound
 WHERE status = 'SENDING' AND to_number IS NOT NULL
"""

# Only while the claim is still this worker's: a row recovery took over is not sent from here.
RECORD_PREPARED = """
UPDATE sms_outbound
   SET to_number = :to_number, num_segments = :num_segments, encoding = :encoding,
       updated_at = :now
 WHERE id = :id AND status = 'SENDING' AND claimed_by = :worker
"""

# The sender's dedupe window (bridge.store.send_gate): the earliest message of this sender
# with the same number and text that Twilio accepted within the window (and did not refuse).
DEDUPE_EARLIER = """
SELECT MIN(id) AS id
  FROM sms_outbound
 WHERE to_number = :to_number AND sender_code = :sender_code AND id <> :id
   AND status IN ('SUBMITTED', 'SENT', 'DELIVERED')
   AND submitted_at >= :since AND body = :body
"""

DEDUPE_SUPPRESS = """
UPDATE sms_outbound
   SET status = 'SUPPRESSED', status_reason = :reason, duplicate_of = :duplicate_of,
       final_at = :now, lease_until = NULL, updated_at = :now
 WHERE id = :id AND status = 'SENDING' AND claimed_by = :worker
"""

REPLIES_FOR_DIGEST = """
SELECT i.id, i.received_at, i.body, i.from_number, i.match_method, i.outbound_id,
       o.reference, o.body AS outbound_body, r.display_name, r.manager_email
  FROM sms_inbound i
  LEFT JOIN sms_outbound o ON o.id = i.outbound_id
  LEFT JOIN sms_recipients_v r
    ON r.recipient_type = i.recipient_type AND r.recipient_id = i.recipient_id
 WHERE i.received_at >= :since AND i.received_at < :until
 ORDER BY i.received_at, i.id
"""
