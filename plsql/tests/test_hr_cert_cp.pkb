create or replace package body test_hr_cert_cp
as
    c_employee  constant number := 990301;
    c_cert      constant number := 990301;

    procedure create_fixtures
    is
    begin
        merge into sms_senders s
        using (select 'HR' as code from dual) n
           on (s.code = n.code)
         when matched then
              update set active = 'Y'
         when not matched then
              insert (code, description, from_number, created_at)
              values (n.code, 'utPLSQL HR sender', '+15005550006', sys_extract_utc(systimestamp));
        insert into hr_demo_employees (employee_id, full_name, mobile_number, time_zone, email)
        values (c_employee, 'Cora Wrapper', '+15005550301', 'Europe/London', 'cora@example.com');
        insert into hr_demo_certifications (cert_id, employee_id, cert_name, expires_on)
        values (c_cert, c_employee, 'Scaffolding', trunc(sysdate) + 3);
    end create_fixtures;

    function reminder_of_fixture return number
    is
        l_id number;
    begin
        select reminder_outbound_id into l_id from hr_demo_certifications where cert_id = c_cert;
        return l_id;
    end reminder_of_fixture;

    procedure queue_reminders_reports
    is
        l_errbuf   varchar2(4000);
        l_retcode  varchar2(10);
    begin
        hr_cert_cp.queue_reminders(l_errbuf, l_retcode, p_days_ahead => '7', p_commit => 'N');
        -- 1 (warning) only if the demo's own data has a certification of a non-recipient.
        ut.expect(l_retcode in (hr_cert_cp.c_normal, hr_cert_cp.c_warning)).to_be_true();
        ut.expect(l_errbuf).to_be_like('% reminder(s) queued, % skipped %window 7 day(s)');
        ut.expect(reminder_of_fixture()).not_to_be_null();
    end queue_reminders_reports;

    procedure bad_days_is_an_error
    is
        l_errbuf   varchar2(4000);
        l_retcode  varchar2(10);
    begin
        hr_cert_cp.queue_reminders(l_errbuf, l_retcode, p_days_ahead => '7 days', p_commit => 'N');
        ut.expect(l_retcode).to_equal(hr_cert_cp.c_error);
        ut.expect(l_errbuf).to_be_like('p_days_ahead: ''7 days'' is not a whole number%');
        ut.expect(reminder_of_fixture()).to_be_null();
    end bad_days_is_an_error;

    procedure negative_days_is_an_error
    is
        l_errbuf   varchar2(4000);
        l_retcode  varchar2(10);
    begin
        hr_cert_cp.queue_reminders(l_errbuf, l_retcode, p_days_ahead => '-1', p_commit => 'N');
        ut.expect(l_retcode).to_equal(hr_cert_cp.c_error);
        ut.expect(reminder_of_fixture()).to_be_null();
    end negative_days_is_an_error;

    procedure bad_limit_is_an_error
    is
        l_errbuf   varchar2(4000);
        l_retcode  varchar2(10);
    begin
        hr_cert_cp.process_replies(l_errbuf, l_retcode, p_limit => 'all');
        ut.expect(l_retcode).to_equal(hr_cert_cp.c_error);
        ut.expect(l_errbuf).to_be_like('p_limit: ''all'' is not a whole number%');
    end bad_limit_is_an_error;
end test_hr_cert_cp;
/
