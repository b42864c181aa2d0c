-- The retention job's backlog (bridge/store/retention_store.py): final messages not purged yet
-- whose final_at is before the cut-off. purged_at leads, so the daily run range-scans the
-- unpurged (NULL) entries by final_at instead of walking the primary key through every row it
-- purged on earlier days; id last, so its pages (ORDER BY final_at, id, keyset past the last
-- row) follow the index with no sort. Rows not final yet (final_at NULL) are never due.
create index sms_outbound_purge_ix on sms_outbound (purged_at, final_at, id) compress 1;
