-- The bridge's periodic jobs that must run once for all workers (the error digest, the
-- managers' reply digests): the last run of each, taken with a conditional update, so several
-- workers never send a digest twice and a restarted worker's window starts where the last run
-- ended (nothing falls between two digests). One row, 'send-gate', is no job: workers lock it
-- (FOR UPDATE) for the moment they record a message's number before its create, so that two
-- identical messages are never both in doubt at Twilio (docs/architecture.md).
create table sms_job_runs (
    job_name      varchar2(30)    not null,
    last_run_at   timestamp(6)    not null,
    run_by        varchar2(128),
    constraint sms_job_runs_pk primary key (job_name)
);
