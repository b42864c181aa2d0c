create or replace package body test_hr_cert_sms
as
    -- A day far from the demo data, so only the fixtures below expire in the windows queued.
    c_today        constant date := date '2099-06-01';
    c_hr_number    constant varchar2(32) := '+15005550100';
    c_ada          constant number := 990201;   -- employee with three certifications
    c_bob          constant number := 990202;   -- another employee
    c_forklift     constant number := 990201;   -- Ada's, expires in 3 days: reminded
    c_first_aid    constant number := 990202;   -- Ada's, expires in 20 days: outside 14
    c_crane        constant number := 990203;   -- Ada's, in 5 days, already confirmed
    c_welding      constant number := 990204;   -- Bob's, expires in 10 days: reminded

    g_sid_counter  pls_integer := 0;

    function utc_now return timestamp
    is
    begin
        return sys_extract_utc(systimestamp);
    end utc_now;

    function cert(p_cert_id in number) return hr_demo_certifications%rowtype
    is
        l_row hr_demo_certifications%rowtype;
    begin
        select * into l_row from hr_demo_certifications where cert_id = p_cert_id;
        return l_row;
    end cert;

    -- Rows another session can see (a committed row counts, our uncommitted insert does not).
    function committed_rows(p_id in number) return number
    is
        pragma autonomous_transaction;
        l_count number;
    begin
        select count(*) into l_count from sms_outbound where id = p_id;
        commit;  -- ends the autonomous transaction (it changed nothing)
        return l_count;
    end committed_rows;

    -- A reply as the inbound service stores it: NEW, first word in keyword, matched to
    -- p_outbound_id when given (REFERENCE), else unmatched (NONE).
    function reply(
        p_body         in nvarchar2,
        p_employee_id  in number,
        p_outbound_id  in number default null
    ) return number
    is
        l_id sms_inbound.id%type;
    begin
        g_sid_counter := g_sid_counter + 1;
        insert into sms_inbound (
            message_sid, from_number, to_number, body, keyword, outbound_id, match_method,
            recipient_type, recipient_id, status, received_at
        ) values (
            'SMut_hr_cert_' || to_char(g_sid_counter), '+15005550201', c_hr_number, p_body,
            upper(regexp_substr(p_body, '[^[:space:]]+')), p_outbound_id,
            case when p_outbound_id is null then 'NONE' else 'REFERENCE' end,
            'EMPLOYEE', to_char(p_employee_id), 'NEW', sys_extract_utc(systimestamp)
        )
        returning id into l_id;
        return l_id;
    end reply;

    procedure create_fixtures
    is
    begin
        -- The HR sender is site data: use the site's row if there is one, active for the
        -- suite (the change rolls back with it).
        merge into sms_senders s
        using (select 'HR' as code from dual) n
           on (s.code = n.code)
         when matched then
              update set active = 'Y'
         when not matched then
              insert (code, description, from_number, created_at)
              values (n.code, 'utPLSQL HR sender', c_hr_number, sys_extract_utc(systimestamp));

        insert into hr_demo_employees (employee_id, full_name, mobile_number, time_zone, email)
        values (c_ada, 'Ada Lovelace', '+15005550201', 'Europe/London', 'ada@example.com');
        insert into hr_demo_employees (employee_id, full_name, mobile_number, time_zone, email)
        values (c_bob, 'Bob Other', '+15005550202', 'America/Chicago', 'bob@example.com');

        insert into hr_demo_certifications (cert_id, employee_id, cert_name, expires_on)
        values (c_forklift, c_ada, 'Forklift', c_today + 3);
        insert into hr_demo_certifications (cert_id, employee_id, cert_name, expires_on)
        values (c_first_aid, c_ada, 'First aid', c_today + 20);
        insert into hr_demo_certifications (
            cert_id, employee_id, cert_name, expires_on, status, acknowledged_at
        ) values (
            c_crane, c_ada, 'Crane', c_today + 5, 'RENEWAL_CONFIRMED', sys_extract_utc(systimestamp)
        );
        insert into hr_demo_certifications (cert_id, employee_id, cert_name, expires_on)
        values (c_welding, c_bob, 'Welding', c_today + 10);
    end create_fixtures;

    procedure queue_expiring_queues_once
    is
        l_first   pls_integer;
        l_second  pls_integer;
        l_rows    number;
        l_id      number;
    begin
        l_first := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        l_second := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        ut.expect(l_first).to_equal(2);
        ut.expect(l_second).to_equal(0);

        select count(*) into l_rows
          from sms_outbound
         where source_system = 'HR_CERT'
           and correlation_key in ('cert-990201-2099-06-04', 'cert-990204-2099-06-11');
        ut.expect(l_rows).to_equal(2);

        select id into l_id
          from sms_outbound
         where source_system = 'HR_CERT' and correlation_key = 'cert-990201-2099-06-04';
        ut.expect(cert(c_forklift).reminder_outbound_id).to_equal(l_id);
        ut.expect(cert(c_welding).reminder_outbound_id).to_be_not_null();
    end queue_expiring_queues_once;

    procedure queue_expiring_skips_others
    is
        l_count pls_integer;
    begin
        l_count := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        ut.expect(cert(c_crane).reminder_outbound_id).to_be_null();
        ut.expect(cert(c_first_aid).reminder_outbound_id).to_be_null();
        -- The window includes its last day: first aid expires on day 20.
        l_count := hr_cert_sms.queue_expiring(p_days_ahead => 20, p_today => c_today);
        ut.expect(l_count).to_equal(1);
        ut.expect(cert(c_first_aid).reminder_outbound_id).to_be_not_null();
        ut.expect(cert(c_crane).reminder_outbound_id).to_be_null();
    end queue_expiring_skips_others;

    procedure new_expiry_date_queues_again
    is
        l_count  pls_integer;
        l_old    number;
    begin
        l_count := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        l_old := cert(c_forklift).reminder_outbound_id;
        update hr_demo_certifications set expires_on = c_today + 4 where cert_id = c_forklift;
        l_count := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        ut.expect(l_count).to_equal(1);
        ut.expect(cert(c_forklift).reminder_outbound_id).not_to_equal(l_old);
    end new_expiry_date_queues_again;

    procedure reminder_text_carries_code
    is
        l_count     pls_integer;
        l_row       sms_outbound%rowtype;
        l_reminder  sms_outbound.id%type;
    begin
        l_count := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        -- Into a variable first: SQL cannot call cert, a function of this body (PLS-00231).
        l_reminder := cert(c_forklift).reminder_outbound_id;
        select * into l_row from sms_outbound where id = l_reminder;
        ut.expect(to_char(l_row.body)).to_equal(
            'Hi Ada, your Forklift certification expires on 04 Jun 2099. '
            || 'Reply YES 990201 when renewed. Reply HELP for help, STOP to opt out.');
        ut.expect(l_row.reply_code).to_equal('990201');
        ut.expect(l_row.reference).to_equal('CERT-990201');
        ut.expect(l_row.sender_code).to_equal('HR');
        ut.expect(l_row.recipient_type).to_equal('EMPLOYEE');
        ut.expect(l_row.recipient_id).to_equal('990201');
        ut.expect(l_row.priority).to_equal(2);
        ut.expect(l_row.status).to_equal('QUEUED');
    end reminder_text_carries_code;

    procedure queue_expiring_reports_counts
    is
        l_queued   pls_integer;
        l_skipped  pls_integer;
    begin
        hr_cert_sms.queue_expiring(
            p_days_ahead => 14, p_today => c_today, p_queued => l_queued, p_skipped => l_skipped);
        ut.expect(l_queued).to_equal(2);
        ut.expect(l_skipped).to_equal(0);
    end queue_expiring_reports_counts;

    procedure queue_expiring_does_not_commit
    is
        l_count pls_integer;
    begin
        l_count := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        ut.expect(committed_rows(cert(c_forklift).reminder_outbound_id)).to_equal(0);
    end queue_expiring_does_not_commit;

    procedure yes_to_reminder_acknowledges
    is
        l_count    pls_integer;
        l_before   timestamp;
        l_inbound  number;
        l_row      hr_demo_certifications%rowtype;
    begin
        l_count := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        l_inbound := reply(n' Yes! ', c_ada, cert(c_forklift).reminder_outbound_id);
        l_before := utc_now;
        hr_cert_sms.on_reply(l_inbound);
        l_row := cert(c_forklift);
        ut.expect(l_row.status).to_equal('RENEWAL_CONFIRMED');
        ut.expect(l_row.acknowledged_inbound_id).to_equal(l_inbound);
        ut.expect(l_row.acknowledged_at).to_be_between(l_before, utc_now);
        -- The handler leaves the reply to its caller (the dispatcher marks it).
        select count(*) into l_count from sms_inbound where id = l_inbound and status = 'NEW';
        ut.expect(l_count).to_equal(1);
    end yes_to_reminder_acknowledges;

    -- Issue 11: U+FEFF before, U+200B, U+00A0 and U+3002 after. is_confirmation reads the first
    -- run of letters, so none of them is part of the word (as in bridge/hr/certs.py).
    procedure yes_with_invisible_confirms
    is
        l_count    pls_integer;
        l_inbound  number;
    begin
        l_count := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        l_inbound := reply(unistr('\FEFF') || n'YES' || unistr('\200B\00A0\3002'), c_ada,
                           cert(c_forklift).reminder_outbound_id);
        hr_cert_sms.on_reply(l_inbound);
        ut.expect(cert(c_forklift).status).to_equal('RENEWAL_CONFIRMED');
        ut.expect(cert(c_forklift).acknowledged_inbound_id).to_equal(l_inbound);
    end yes_with_invisible_confirms;

    procedure quoted_code_acknowledges
    is
        l_inbound number := reply(n'done 990201', c_ada);
    begin
        hr_cert_sms.on_reply(l_inbound);
        ut.expect(cert(c_forklift).status).to_equal('RENEWAL_CONFIRMED');
        ut.expect(cert(c_forklift).acknowledged_inbound_id).to_equal(l_inbound);
    end quoted_code_acknowledges;

    procedure question_flags
    is
        l_count    pls_integer;
        l_inbound  number;
        l_row      hr_demo_certifications%rowtype;
    begin
        l_count := hr_cert_sms.queue_expiring(p_days_ahead => 14, p_today => c_today);
        l_inbound := reply(n'Can I renew online?', c_ada, cert(c_forklift).reminder_outbound_id);
        hr_cert_sms.on_reply(l_inbound);
        l_row := cert(c_forklift);
        ut.expect(l_row.status).to_equal('FLAGGED');
        ut.expect(to_char(l_row.flagged_reason)).to_equal('Can I renew online?');
        ut.expect(l_row.acknowledged_at).to_be_null();
        ut.expect(l_row.acknowledged_inbound_id).to_be_null();
    end question_flags;

    procedure unmatched_does_nothing
    is
        l_inbound number := reply(n'YES', c_ada);
    begin
        hr_cert_sms.on_reply(l_inbound);
        ut.expect(cert(c_forklift).status).to_equal('ACTIVE');
        ut.expect(cert(c_first_aid).status).to_equal('ACTIVE');
        ut.expect(cert(c_welding).status).to_equal('ACTIVE');
    end unmatched_does_nothing;

    procedure other_employees_code_is_ignored
    is
        -- Ada quotes Bob's certification.
        l_inbound number := reply(n'YES 990204', c_ada);
    begin
        hr_cert_sms.on_reply(l_inbound);
        ut.expect(cert(c_welding).status).to_equal('ACTIVE');
        ut.expect(cert(c_welding).acknowledged_inbound_id).to_be_null();
    end other_employees_code_is_ignored;

    procedure confirmation_stands
    is
        l_yes       number := reply(n'YES 990201', c_ada);
        l_question  number;
    begin
        hr_cert_sms.on_reply(l_yes);
        l_question := reply(n'Where do I send the certificate? 990201', c_ada);
        hr_cert_sms.on_reply(l_question);
        ut.expect(cert(c_forklift).status).to_equal('RENEWAL_CONFIRMED');
        ut.expect(cert(c_forklift).acknowledged_inbound_id).to_equal(l_yes);
    end confirmation_stands;

    procedure hundred_one_digits_are_skipped
    is
        -- Before the fix: ORA-06502 (101 digits into a varchar2(100)), the reply ended ERROR.
        l_inbound number := reply(n'YES ' || rpad(n'9', 101, n'9') || n' 990201', c_ada);
    begin
        hr_cert_sms.on_reply(l_inbound);
        ut.expect(cert(c_forklift).status).to_equal('RENEWAL_CONFIRMED');
        ut.expect(cert(c_forklift).acknowledged_inbound_id).to_equal(l_inbound);
    end hundred_one_digits_are_skipped;

    procedure eleven_digits_are_skipped
    is
        l_inbound number := reply(n'DONE 12345678901 990201', c_ada);
    begin
        hr_cert_sms.on_reply(l_inbound);
        ut.expect(cert(c_forklift).status).to_equal('RENEWAL_CONFIRMED');
        ut.expect(cert(c_forklift).acknowledged_inbound_id).to_equal(l_inbound);
    end eleven_digits_are_skipped;

    procedure eleven_digits_are_not_a_prefix
    is
        l_inbound number := reply(n'YES 99020100000', c_ada);
    begin
        hr_cert_sms.on_reply(l_inbound);
        ut.expect(cert(c_forklift).status).to_equal('ACTIVE');
        ut.expect(cert(c_forklift).acknowledged_inbound_id).to_be_null();
    end eleven_digits_are_not_a_prefix;

    procedure skipped_run_counts_as_tried
    is
        -- Runs 1 to 4 name no certification of Ada's, the fifth is skipped: 990201 is the
        -- sixth number, beyond c_max_codes_tried.
        l_inbound number := reply(n'1 2 3 4 12345678901 990201', c_ada);
    begin
        hr_cert_sms.on_reply(l_inbound);
        ut.expect(cert(c_forklift).status).to_equal('ACTIVE');
    end skipped_run_counts_as_tried;

    procedure longest_digit_run_is_skipped
    is
        -- sms_inbound.body is NVARCHAR2(2000): 'YES ' and 1996 digits fill it. (The keyword
        -- of the fixture's reply is its first word, YES, which sms_inbound.keyword holds.)
        l_inbound number := reply(n'YES ' || rpad(n'9', 1996, n'9'), c_ada);
    begin
        hr_cert_sms.on_reply(l_inbound);
        ut.expect(cert(c_forklift).status).to_equal('ACTIVE');
        ut.expect(cert(c_first_aid).status).to_equal('ACTIVE');
    end longest_digit_run_is_skipped;

    procedure unknown_reply
    is
    begin
        hr_cert_sms.on_reply(-1);
    end unknown_reply;
end test_hr_cert_sms;
/
