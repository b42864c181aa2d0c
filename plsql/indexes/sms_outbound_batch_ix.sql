-- A batch's summary counts its messages; without this it would read the whole history. Also
-- the foreign key's index (no table lock of sms_outbound when a batch row changes). batch_id
-- alone: rows without a batch get no entry, and status changes never touch it.
create index sms_outbound_batch_ix on sms_outbound (batch_id);
