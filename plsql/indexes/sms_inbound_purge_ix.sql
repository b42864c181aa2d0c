-- The retention job's backlog of replies: processed ones not purged yet whose processed_at is
-- before the cut-off (see sms_outbound_purge_ix); replies not handled yet are not indexed.
create index sms_inbound_purge_ix on sms_inbound (purged_at, processed_at) compress 1;
