-- DBMS_SCHEDULER jobs of the HR certification reminders. NOT part of the default install
-- (plsql/install.txt): creating jobs needs the CREATE JOB privilege, which the default install
-- does not ask for. Run this file as the schema owner after `sms-bridge db install`:
--     grant create job to smsbridge;   -- as a DBA, once
-- Re-running it is harmless: each job is dropped (if it exists) and created again, so a
-- changed definition here is applied, and its enabled state is kept. Dropping uses
-- force => true, which stops a run in progress: both jobs are transactional (a stopped run
-- rolls back) and idempotent (the next run does the same work), so nothing is lost or done
-- twice.
--
-- Schedule time zone: the calendars below have no start_date, so DBMS_SCHEDULER evaluates
-- them in its DEFAULT_TIMEZONE attribute. Set it to a region name once, so 07:00 is local
-- time and follows daylight saving:
--     exec dbms_scheduler.set_scheduler_attribute('default_timezone', 'Europe/Paris')

-- HR_CERT_QUEUE: every day at 07:00, queue the reminders of certifications expiring in the
-- next 14 days. queue_expiring does not commit (it is meant for business transactions), so
-- the job commits. The bridge sends the reminders within the HR sender's quiet hours.
declare
    -- A new job is enabled; a re-created one keeps the state the site gave it.
    l_enabled boolean := true;
begin
    -- Drop if it exists (USER_SCHEDULER_JOBS rather than catching ORA-27475, so the job's
    -- enabled state can be read first).
    for l_job in (select enabled from user_scheduler_jobs where job_name = 'HR_CERT_QUEUE') loop
        l_enabled := l_job.enabled = 'TRUE';
        dbms_scheduler.drop_job(job_name => 'HR_CERT_QUEUE', force => true);
    end loop;
    dbms_scheduler.create_job(
        job_name        => 'HR_CERT_QUEUE',
        job_type        => 'PLSQL_BLOCK',
        job_action      => 'declare l_count pls_integer; '
                           || 'begin l_count := hr_cert_sms.queue_expiring(14); commit; end;',
        repeat_interval => 'FREQ=DAILY;BYHOUR=7;BYMINUTE=0;BYSECOND=0',
        enabled         => l_enabled,
        auto_drop       => false,
        comments        => 'SMS reminders for certifications expiring within 14 days '
                           || '(hr_cert_sms.queue_expiring)');
end;
/

-- HR_CERT_REPLIES: every 5 minutes, apply the NEW replies to HR messages
-- (hr_cert_sms.process_replies commits itself).
-- Use this job OR the bridge's reply dispatcher (sms_keywords '*' / 'HR' HANDLER row of
-- demo/hr/hr_keywords.sql), not both. Both at once would not apply a reply twice (each
-- reply is taken by an update of its NEW row), but they would compete for the same rows and
-- two places would need watching. So the job is created DISABLED: a site without the
-- dispatcher enables it once (re-running this file keeps it enabled), and deactivates the
-- keyword row:
--     exec dbms_scheduler.enable('HR_CERT_REPLIES')
--     update sms_keywords set active = 'N' where keyword = '*' and sender_code = 'HR';
--     commit;
declare
    -- A new job is disabled (see above); a re-created one keeps the state the site gave it,
    -- so re-running this file never turns the job on or off behind the site's back.
    l_enabled boolean := false;
begin
    for l_job in (select enabled from user_scheduler_jobs where job_name = 'HR_CERT_REPLIES') loop
        l_enabled := l_job.enabled = 'TRUE';
        dbms_scheduler.drop_job(job_name => 'HR_CERT_REPLIES', force => true);
    end loop;
    dbms_scheduler.create_job(
        job_name        => 'HR_CERT_REPLIES',
        job_type        => 'PLSQL_BLOCK',
        job_action      => 'begin hr_cert_sms.process_replies(100); end;',
        repeat_interval => 'FREQ=MINUTELY;INTERVAL=5',
        enabled         => l_enabled,
        auto_drop       => false,
        comments        => 'Apply SMS replies to HR certifications (hr_cert_sms.process_replies);'
                           || ' enable only where the bridge''s dispatcher does not run');
end;
/
