create or replace package test_hr_cert_cp
as
    -- utPLSQL v3 suite for hr_cert_cp (plsql/demo/hr/), the E-Business Suite concurrent-program
    -- wrappers. Not part of plsql/install.txt (it needs utPLSQL); docs/oracle.md says how to
    -- install and run the suites. Needs the default install, demo included. Its fixture is an
    -- employee and a certification with ids 990301 expiring three days from today (the
    -- wrappers use today's date, as the concurrent manager runs them). Every test rolls back
    -- (utPLSQL's default): queue_reminders runs with p_commit 'N', and the error paths tested
    -- return before any work.

    --%suite(hr_cert_cp: concurrent-program wrappers of the HR jobs)
    --%suitepath(sms_bridge)

    --%beforeall
    procedure create_fixtures;

    --%test(queue_reminders queues the reminder and reports it in errbuf with retcode 0 or 1)
    procedure queue_reminders_reports;

    --%test(a days parameter that is not a whole number is retcode 2 naming it, nothing queued)
    procedure bad_days_is_an_error;

    --%test(a negative days parameter is retcode 2)
    procedure negative_days_is_an_error;

    --%test(a limit that is not a whole number is retcode 2 naming it)
    procedure bad_limit_is_an_error;
end test_hr_cert_cp;
/
