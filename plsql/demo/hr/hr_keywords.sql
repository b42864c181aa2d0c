-- Route replies to the HR sender to the certification handler: keyword '*' means any reply
-- to this sender that no other rule claims (the bridge's dispatcher applies STOP/START/HELP
-- and the sender's own keyword rules first; those replies never reach this handler). The
-- dispatcher calls hr_cert_sms.on_reply with the reply's id and marks it PROCESSED, or ERROR
-- if the handler raises.
--
-- Inserted only when missing: a site's change survives a re-install, e.g. active = 'N' on a
-- site that runs the HR_CERT_REPLIES job (demo/hr/hr_cert_jobs.sql) instead of the
-- dispatcher. The HR sender itself (sms_senders, code 'HR') is site data and is not created
-- here: its number, rate and quiet hours belong to the site (docs/plsql-api.md).
merge into sms_keywords k
using (
    select '*' as keyword,
           'HR' as sender_code,
           'HANDLER' as action,
           'hr_cert_sms.on_reply' as handler
      from dual
) s
   on (k.keyword = s.keyword and k.sender_code = s.sender_code)
 when not matched then
      insert (keyword, sender_code, action, handler, active)
      values (s.keyword, s.sender_code, s.action, s.handler, 'Y');

-- Durable whatever the runner does next (as data/sms_schema_version.sql).
commit;
