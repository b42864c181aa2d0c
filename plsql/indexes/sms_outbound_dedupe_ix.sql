-- A sender's dedupe window (bridge/store/send_gate.py, DEDUPE_EARLIER): the earlier message of
-- this sender to this number submitted within the window. Read once per message while the send
-- gate's row lock is held, so every worker waits for it: by number, sender and submitted_at it
-- is a short range scan instead of the number's whole history (created_at cannot bound it: a
-- scheduled message is submitted long after it was queued).
create index sms_outbound_dedupe_ix on sms_outbound (to_number, sender_code, submitted_at) compress 2;
