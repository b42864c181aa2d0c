-- What the status-sync job moved, for the error digest (every 15 minutes): events by source
-- and time, so the digest never scans the whole event history.
create index sms_events_source_ix on sms_events (source, event_at);
