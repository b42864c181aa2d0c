-- The ready set. The claim (status = 'QUEUED' and sender_code = :s and next_attempt_at <= :now,
-- ordered by priority, id) and the idle "anything ready?" probe read only this index's QUEUED
-- range, so their cost does not grow with the history of final rows. COMPRESS 2 stores each
-- (status, sender_code) prefix once per leaf block: most of the index is a few such prefixes.
-- id before next_attempt_at: the claim's ORDER BY priority, id then follows the index and
-- stops after n rows, instead of reading and sorting every waiting row (bench/claim_scaling).
create index sms_outbound_ready_ix
    on sms_outbound (status, sender_code, priority, id, next_attempt_at)
    compress 2;
