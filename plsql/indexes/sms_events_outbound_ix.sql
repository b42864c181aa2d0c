-- A message's events in order; also indexes the foreign key to sms_outbound.
create index sms_events_outbound_ix on sms_events (outbound_id, id);
