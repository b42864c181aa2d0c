-- The sync job's window: SUBMITTED/SENT rows submitted between its give-up age and its
-- threshold. By submitted_at, so rows that never get a delivery report (older than the give-up
-- age) are outside the range scanned instead of in front of it on every run.
create index sms_outbound_sync_ix on sms_outbound (status, submitted_at) compress 1;
