-- A batch's summary counts its messages by status; without this it would read the whole
-- history. Also the foreign key's index (no full lock of sms_outbound when a batch row goes).
create index sms_outbound_batch_ix on sms_outbound (batch_id, status);
