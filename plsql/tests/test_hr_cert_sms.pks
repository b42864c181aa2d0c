create or replace package test_hr_cert_sms
as
    -- utPLSQL v3 suite for hr_cert_sms (plsql/demo/hr/). Not part of plsql/install.txt (it
    -- needs utPLSQL); docs/oracle.md says how to install and run the suites. It needs the
    -- default install, demo included (hr_demo_* tables and hr_cert_sms). Its fixtures are
    -- employees and certifications with ids 990201.. expiring in 2099, so the demo's own rows
    -- never fall inside the windows it queues; it makes sure an active 'HR' sender exists.
    -- Every test rolls back (utPLSQL's default --%rollback(auto)); hr_cert_sms commits only
    -- in process_replies, which this suite therefore does not call.

    --%suite(hr_cert_sms: certification reminders and the replies to them)
    --%suitepath(sms_bridge)

    --%beforeall
    procedure create_fixtures;

    --%test(queue_expiring queues one reminder per expiring certification, once per expiry date)
    procedure queue_expiring_queues_once;

    --%test(queue_expiring skips confirmed certifications and those outside the window)
    procedure queue_expiring_skips_others;

    --%test(a new expiry date is a new reminder)
    procedure new_expiry_date_queues_again;

    --%test(the reminder quotes the certification id as its reply code)
    procedure reminder_text_carries_code;

    --%test(the procedure form reports queued and skipped counts)
    procedure queue_expiring_reports_counts;

    --%test(queue_expiring does not commit)
    procedure queue_expiring_does_not_commit;

    --%test(YES to the matched reminder confirms the renewal)
    procedure yes_to_reminder_acknowledges;

    --%test(YES wrapped in invisible characters and a CJK full stop confirms the renewal)
    procedure yes_with_invisible_confirms;

    --%test(DONE with the code, without a matched reminder, confirms the renewal)
    procedure quoted_code_acknowledges;

    --%test(a question flags the certification with the reply for the manager)
    procedure question_flags;

    --%test(a reply matching no certification changes nothing)
    procedure unmatched_does_nothing;

    --%test(the code of another employee's certification is not taken)
    procedure other_employees_code_is_ignored;

    --%test(a later reply does not undo a confirmation)
    procedure confirmation_stands;

    -- The same replies as bridge/hr/certs.py's tests (tests/hr/test_hr_certs.py,
    -- test_long_digit_runs_in_a_reply), so the package and its Python twin read them alike.

    --%test(a run of 101 digits is no code and raises nothing; the code after it confirms)
    procedure hundred_one_digits_are_skipped;

    --%test(a run of 11 digits is no code; the code after it confirms)
    procedure eleven_digits_are_skipped;

    --%test(11 digits that start with a code are not that code)
    procedure eleven_digits_are_not_a_prefix;

    --%test(a skipped run is one of the five numbers tried)
    procedure skipped_run_counts_as_tried;

    --%test(a body that is one run of digits, as long as a body can be, raises nothing)
    procedure longest_digit_run_is_skipped;

    --%test(an unknown reply id raises no_data_found)
    --%throws(no_data_found)
    procedure unknown_reply;
end test_hr_cert_sms;
/
