-- A number's conversation (the operator console) and who wrote lately: replies by their sender.
create index sms_inbound_from_ix on sms_inbound (from_number, received_at);
