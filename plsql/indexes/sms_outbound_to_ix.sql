-- Reply threading: the latest outbound message to the number a reply comes from.
create index sms_outbound_to_ix on sms_outbound (to_number, created_at);
