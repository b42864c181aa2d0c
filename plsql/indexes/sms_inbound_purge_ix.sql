-- The retention job's backlog of replies: handled ones not purged yet whose processed_at is
-- before the cut-off, walked as sms_outbound_purge_ix walks the messages. ERROR replies (and a
-- claimed NEW one) carry processed_at too and are in the range, but never purged: the keyset
-- passes each once a run.
create index sms_inbound_purge_ix on sms_inbound (purged_at, processed_at, id) compress 1;
