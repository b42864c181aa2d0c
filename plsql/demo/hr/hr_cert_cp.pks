create or replace package hr_cert_cp
authid definer
as
    -- Oracle E-Business Suite concurrent-program wrappers for the HR certification jobs, so a
    -- site that runs its batch work through Standard Request Submission (schedules, request
    -- sets, the request log and output) queues the reminders and applies the replies the same
    -- way. docs/oracle.md shows how to register them (executable, program, parameters).
    -- Use these OR the DBMS_SCHEDULER jobs of hr_cert_jobs.sql for the same work, not both.
    --
    -- Both follow the concurrent manager's contract for a PL/SQL stored-procedure executable:
    --   errbuf  OUT: one line for the request's completion text;
    --   retcode OUT: '0' normal, '1' warning, '2' error (the request ends Completed/Normal,
    --                Warning or Error). They never raise: an error is retcode '2' with the
    --                error text in errbuf, after the run's work has been rolled back.
    -- Parameters come as text (a concurrent program passes every parameter as a string); a
    -- value that is not a whole number is retcode '2' naming the parameter.
    -- They write to the request log through FND_FILE when it exists (an EBS database), else to
    -- DBMS_OUTPUT (this package compiles and runs outside EBS too: FND_FILE is called through
    -- dynamic PL/SQL).

    -- Queue the reminders of ACTIVE certifications expiring within p_days_ahead days from
    -- today (hr_cert_sms.queue_expiring) and commit. Warning when some employees are not
    -- known recipients (sms_recipients_v): their certifications are skipped and listed in
    -- the log. p_commit 'N' leaves the transaction to the caller (tests; a caller that owns
    -- it); the concurrent program registers only p_days_ahead.
    procedure queue_reminders(
        errbuf        out varchar2,
        retcode       out varchar2,
        p_days_ahead  in  varchar2 default '14',
        p_commit      in  varchar2 default 'Y'
    );

    -- Apply up to p_limit NEW replies to HR messages (hr_cert_sms.process_replies, which
    -- commits itself). Warning when replies of this run ended in ERROR (the log says how
    -- many; each one's error text is on its sms_inbound row).
    procedure process_replies(
        errbuf    out varchar2,
        retcode   out varchar2,
        p_limit   in  varchar2 default '100'
    );

    -- The completion codes, public so tests and callers name them alike.
    c_normal   constant varchar2(1) := '0';
    c_warning  constant varchar2(1) := '1';
    c_error    constant varchar2(1) := '2';
end hr_cert_cp;
/
