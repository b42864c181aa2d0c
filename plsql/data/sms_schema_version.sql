-- Record schema version 1. MERGE inserts it only when missing, so running the install again
-- keeps the first installed_at. The COMMIT makes the row durable whatever the runner does
-- afterwards (every DDL before it has committed implicitly already).
merge into sms_schema_version v
using (
    select 1 as version,
           'sms tables, recipients view, sms_err, sms_api' as description
      from dual
) s
   on (v.version = s.version)
 when not matched then
      insert (version, description, installed_at)
      values (s.version, s.description, sys_extract_utc(systimestamp));

commit;
