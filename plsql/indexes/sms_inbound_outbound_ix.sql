-- Replies to a message; also indexes the foreign key to sms_outbound.
create index sms_inbound_outbound_ix on sms_inbound (outbound_id);
