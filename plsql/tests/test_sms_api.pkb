create or replace package body test_sms_api
as
    c_sender           constant varchar2(30) := 'UT_SMS_ACTIVE';
    c_inactive_sender  constant varchar2(30) := 'UT_SMS_INACTIVE';
    c_employee_id      constant number := 990001;
    c_recipient_type   constant varchar2(30) := 'EMPLOYEE';
    c_recipient_id     constant varchar2(64) := '990001';

    function utc_now return timestamp
    is
    begin
        return sys_extract_utc(systimestamp);
    end utc_now;

    -- A message queued to the fixture recipient with defaults everywhere else.
    function queue_one return number
    is
    begin
        return sms_api.enqueue(
            p_sender_code => c_sender,
            p_body => 'Your certification expires soon. Reply YES when renewed.',
            p_recipient_type => c_recipient_type,
            p_recipient_id => c_recipient_id);
    end queue_one;

    -- Rows another session can see: a committed row counts, our uncommitted insert does not.
    function committed_rows(p_id in number) return number
    is
        pragma autonomous_transaction;
        l_count number;
    begin
        select count(*) into l_count from sms_outbound where id = p_id;
        commit;  -- ends the autonomous transaction (it changed nothing)
        return l_count;
    end committed_rows;

    procedure create_fixtures
    is
        l_now timestamp := utc_now;
    begin
        insert into sms_senders (code, description, from_number, created_at)
        values (c_sender, 'utPLSQL active sender', '+15005550006', l_now);
        insert into sms_senders (code, description, from_number, active, created_at)
        values (c_inactive_sender, 'utPLSQL inactive sender', '+15005550007', 'N', l_now);
        insert into hr_demo_employees (employee_id, full_name, mobile_number, time_zone, email)
        values (c_employee_id, 'Una Test', '+15005550001', 'Europe/Paris', 'una@example.com');
    end create_fixtures;

    procedure enqueue_queues_row
    is
        l_before  timestamp := utc_now;
        l_id      number := queue_one;
        l_row     sms_outbound%rowtype;
        l_events  number;
    begin
        select * into l_row from sms_outbound where id = l_id;
        ut.expect(l_row.status).to_equal('QUEUED');
        ut.expect(l_row.sender_code).to_equal(c_sender);
        ut.expect(l_row.recipient_type).to_equal(c_recipient_type);
        ut.expect(l_row.recipient_id).to_equal(c_recipient_id);
        ut.expect(l_row.to_number).to_be_null();
        ut.expect(l_row.priority).to_equal(2);
        ut.expect(l_row.attempts).to_equal(0);
        ut.expect(l_row.next_attempt_at).to_equal(l_row.created_at);
        ut.expect(l_row.updated_at).to_equal(l_row.created_at);
        ut.expect(l_row.created_at).to_be_between(l_before, utc_now);
        select count(*) into l_events
          from sms_events
         where outbound_id = l_id and status = 'QUEUED' and source = 'api' and applied = 'Y';
        ut.expect(l_events).to_equal(1);
    end enqueue_queues_row;

    procedure enqueue_from_cli_is_a_cli_event
    is
        l_id      number;
        l_source  sms_events.source%type;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'from a shell',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_created_by => 'cli');
        select source into l_source from sms_events where outbound_id = l_id;
        ut.expect(l_source).to_equal('cli');
    end enqueue_from_cli_is_a_cli_event;

    procedure enqueue_send_after_is_next_attempt
    is
        -- A local time with its zone: stored as the same instant in UTC.
        l_send_after  timestamp with time zone
            := from_tz(cast(trunc(sysdate) + 3 as timestamp), 'Asia/Tokyo');
        l_id          number;
        l_next        timestamp;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'later',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_send_after => l_send_after, p_expires_at => l_send_after + interval '1' day);
        select next_attempt_at into l_next from sms_outbound where id = l_id;
        ut.expect(l_next).to_equal(sys_extract_utc(l_send_after));
        ut.expect(l_next).to_equal(cast(trunc(sysdate) + 3 as timestamp) - interval '9' hour);
    end enqueue_send_after_is_next_attempt;

    procedure enqueue_does_not_commit
    is
        l_id number := queue_one;
    begin
        ut.expect(committed_rows(l_id)).to_equal(0);
    end enqueue_does_not_commit;

    procedure enqueue_number_queues_row
    is
        l_id   number;
        l_row  sms_outbound%rowtype;
    begin
        l_id := sms_api.enqueue_number(
            p_sender_code => c_sender, p_to_number => '+447700900123', p_body => 'hello',
            p_priority => 1);
        select * into l_row from sms_outbound where id = l_id;
        ut.expect(l_row.to_number).to_equal('+447700900123');
        ut.expect(l_row.recipient_type).to_be_null();
        ut.expect(l_row.recipient_id).to_be_null();
        ut.expect(l_row.priority).to_equal(1);
        ut.expect(l_row.status).to_equal('QUEUED');
    end enqueue_number_queues_row;

    procedure correlation_key_is_idempotent
    is
        l_first   number;
        l_second  number;
        l_rows    number;
    begin
        l_first := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'once',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_source_system => 'UT', p_correlation_key => 'cert-42');
        l_second := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'once',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_source_system => 'UT', p_correlation_key => 'cert-42');
        ut.expect(l_second).to_equal(l_first);
        select count(*) into l_rows
          from sms_outbound
         where source_system = 'UT' and correlation_key = 'cert-42';
        ut.expect(l_rows).to_equal(1);
        select count(*) into l_rows from sms_events where outbound_id = l_first;
        ut.expect(l_rows).to_equal(1);
    end correlation_key_is_idempotent;

    procedure correlation_key_wins_over_data_checks
    is
        l_first   number;
        l_second  number;
    begin
        l_first := sms_api.enqueue_number(
            p_sender_code => c_sender, p_to_number => '+15005550009', p_body => 'once',
            p_source_system => 'UT', p_correlation_key => 'retry-1');
        update sms_senders set active = 'N' where code = c_sender;
        l_second := sms_api.enqueue_number(
            p_sender_code => c_sender, p_to_number => '+15005550009', p_body => 'once',
            p_source_system => 'UT', p_correlation_key => 'retry-1');
        ut.expect(l_second).to_equal(l_first);
    end correlation_key_wins_over_data_checks;

    procedure recipient_id_missing
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x', p_recipient_type => c_recipient_type);
    end recipient_id_missing;

    procedure number_missing
    is
        l_id number;
    begin
        l_id := sms_api.enqueue_number(p_sender_code => c_sender, p_to_number => null,
                                       p_body => 'x');
    end number_missing;

    procedure unknown_sender
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => 'UT_NO_SUCH_SENDER', p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id);
    end unknown_sender;

    procedure inactive_sender
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_inactive_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id);
    end inactive_sender;

    procedure null_body
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => null,
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id);
    end null_body;

    procedure blank_body
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => '  ' || chr(10) || chr(9) || ' ',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id);
    end blank_body;

    procedure body_too_long
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => rpad('x', 1601, 'x'),
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id);
    end body_too_long;

    procedure body_of_1600_is_accepted
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => rpad('x', 1600, 'x'),
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id);
        ut.expect(sms_api.status_of(l_id)).to_equal('QUEUED');
    end body_of_1600_is_accepted;

    procedure priority_out_of_range
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x', p_priority => 4,
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id);
    end priority_out_of_range;

    procedure priority_null
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x', p_priority => null,
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id);
    end priority_null;

    procedure unknown_recipient
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => '-1');
    end unknown_recipient;

    procedure bad_number
    is
        l_id number;
    begin
        l_id := sms_api.enqueue_number(
            p_sender_code => c_sender, p_to_number => '15005550006', p_body => 'x');
    end bad_number;

    procedure bad_window
    is
        l_at  timestamp with time zone := systimestamp + interval '1' hour;
        l_id  number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_send_after => l_at, p_expires_at => l_at);
    end bad_window;

    procedure correlation_incomplete
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_correlation_key => 'k-1');
    end correlation_incomplete;

    procedure reserved_source_system
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_source_system => 'API:HR_CERT', p_correlation_key => 'k-1');
    end reserved_source_system;

    procedure api_namespace_as_the_key
    is
        l_id      number;
        l_source  sms_outbound.source_system%type;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_source_system => 'api:HR_CERT', p_correlation_key => 'k-1',
            p_created_by => 'api:HR_CERT');
        select source_system into l_source from sms_outbound where id = l_id;
        ut.expect(l_source).to_equal('api:HR_CERT');
    end api_namespace_as_the_key;

    procedure bad_reply_code
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_reply_code => 'YES');
    end bad_reply_code;

    procedure reply_code_upper_cased
    is
        l_id    number;
        l_code  sms_outbound.reply_code%type;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'Reply YES hr-2291',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_reply_code => 'hr-2291');
        select reply_code into l_code from sms_outbound where id = l_id;
        ut.expect(l_code).to_equal('HR-2291');
    end reply_code_upper_cased;

    procedure error_message_is_filled
    is
        l_id number;
    begin
        begin
            l_id := sms_api.enqueue(
                p_sender_code => c_sender, p_body => 'x',
                p_recipient_type => c_recipient_type, p_recipient_id => '-1');
            ut.fail('unknown_recipient was not raised');
        exception
            when sms_err.e_unknown_recipient then
                ut.expect(sqlerrm).to_equal('ORA-20007: unknown recipient EMPLOYEE -1');
        end;
        begin
            sms_api.cancel(-1);
            ut.fail('not_found was not raised');
        exception
            when sms_err.e_not_found then
                ut.expect(sqlerrm).to_equal('ORA-20009: no message with id -1');
        end;
    end error_message_is_filled;

    procedure format_message_keeps_arguments
    is
    begin
        ut.expect(sms_err.format_message(sms_err.c_not_cancelable, '%s', 'SENT'))
            .to_equal('message %s is SENT and can no longer be canceled');
        ut.expect(sms_err.format_message(sms_err.c_empty_body, 'ignored'))
            .to_equal(sms_err.m_empty_body);
        ut.expect(sms_err.message_of(-20999)).to_be_null();
    end format_message_keeps_arguments;

    procedure cancel_queued
    is
        l_id      number := queue_one;
        l_row     sms_outbound%rowtype;
        l_events  number;
    begin
        sms_api.cancel(l_id, 'certificate renewed');
        select * into l_row from sms_outbound where id = l_id;
        ut.expect(l_row.status).to_equal('CANCELED');
        ut.expect(l_row.status_reason).to_equal('certificate renewed');
        ut.expect(l_row.final_at).to_be_not_null();
        ut.expect(l_row.updated_at).to_equal(l_row.final_at);
        select count(*) into l_events
          from sms_events
         where outbound_id = l_id and status = 'CANCELED' and source = 'api';
        ut.expect(l_events).to_equal(1);
    end cancel_queued;

    procedure cancel_sending
    is
        l_id number := queue_one;
    begin
        update sms_outbound set status = 'SENDING' where id = l_id;
        sms_api.cancel(l_id);
    end cancel_sending;

    procedure cancel_twice
    is
        l_id number := queue_one;
    begin
        sms_api.cancel(l_id);
        sms_api.cancel(l_id);
    end cancel_twice;

    procedure cancel_unknown
    is
    begin
        sms_api.cancel(-1);
    end cancel_unknown;

    procedure status_of_reads_status
    is
        l_id number := queue_one;
    begin
        ut.expect(sms_api.status_of(l_id)).to_equal('QUEUED');
        sms_api.cancel(l_id);
        ut.expect(sms_api.status_of(l_id)).to_equal('CANCELED');
    end status_of_reads_status;

    procedure status_of_unknown
    is
        l_status varchar2(12);
    begin
        l_status := sms_api.status_of(-1);
    end status_of_unknown;

    procedure batch_ties_its_messages
    is
        l_batch   number;
        l_id      number;
        l_row     sms_batches%rowtype;
        l_filed   number;
    begin
        l_batch := sms_api.begin_batch(p_label => 'ut nightly run');
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'batched',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_batch_id => l_batch);
        select * into l_row from sms_batches where id = l_batch;
        ut.expect(l_row.source).to_equal('PLSQL');
        ut.expect(l_row.label).to_equal('ut nightly run');
        ut.expect(l_row.created_by).to_equal(sys_context('userenv', 'session_user'));
        ut.expect(l_row.rejected).to_equal(0);
        select batch_id into l_filed from sms_outbound where id = l_id;
        ut.expect(l_filed).to_equal(l_batch);
    end batch_ties_its_messages;

    procedure unknown_batch
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_batch_id => -1);
    end unknown_batch;

    procedure batch_source_unknown
    is
        l_batch number;
    begin
        l_batch := sms_api.begin_batch(p_source => 'SQLPLUS');
    end batch_source_unknown;

    procedure batch_source_lower_case
    is
        l_batch number;
    begin
        l_batch := sms_api.begin_batch(p_source => 'csv');
    end batch_source_lower_case;

    procedure batch_source_too_long
    is
        l_batch number;
    begin
        l_batch := sms_api.begin_batch(p_source => 'PLSQL-NIGHTLY-RUN');
    end batch_source_too_long;

    procedure batch_sources_accepted
    is
        l_sources  sys.odcivarchar2list := sys.odcivarchar2list('PLSQL', 'CSV', 'REST');
        l_batch    number;
        l_source   sms_batches.source%type;
    begin
        for i in 1 .. l_sources.count loop
            l_batch := sms_api.begin_batch(p_source => l_sources(i));
            select source into l_source from sms_batches where id = l_batch;
            ut.expect(l_source).to_equal(l_sources(i));
        end loop;
        l_batch := sms_api.begin_batch(p_source => null);
        select source into l_source from sms_batches where id = l_batch;
        ut.expect(l_source).to_equal('PLSQL');
    end batch_sources_accepted;

    procedure batch_label_too_long
    is
        l_batch number;
    begin
        l_batch := sms_api.begin_batch(p_label => rpad('x', 201, 'x'));
    end batch_label_too_long;

    procedure batch_created_by_too_long
    is
        l_batch number;
    begin
        l_batch := sms_api.begin_batch(p_created_by => rpad('x', 129, 'x'));
    end batch_created_by_too_long;

    procedure batch_error_messages
    is
        l_batch number;
    begin
        begin
            l_batch := sms_api.begin_batch(p_source => 'SQLPLUS');
            ut.fail('bad_batch_source was not raised');
        exception
            when sms_err.e_bad_batch_source then
                ut.expect(sqlerrm)
                    .to_equal('ORA-20018: batch source SQLPLUS is not PLSQL, CSV or REST');
        end;
        begin
            l_batch := sms_api.begin_batch(p_created_by => rpad('x', 129, 'x'));
            ut.fail('value_too_long was not raised');
        exception
            when sms_err.e_value_too_long then
                ut.expect(sqlerrm)
                    .to_equal('ORA-20014: created_by is too long: at most 128 bytes');
        end;
        -- A 128-byte creator fits.
        l_batch := sms_api.begin_batch(p_created_by => rpad('x', 128, 'x'));
        ut.expect(l_batch).to_be_not_null();
    end batch_error_messages;

    procedure reference_too_long
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_reference => rpad('r', 101, 'r'));
    end reference_too_long;

    procedure reference_counts_characters
    is
        l_id         number;
        l_reference  sms_outbound.reference%type;
    begin
        -- 100 characters, 200 bytes in AL32UTF8: within 100 CHAR, so LENGTHC, not LENGTHB.
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_reference => rpad(unistr('\00e9'), 100, unistr('\00e9')));
        select reference into l_reference from sms_outbound where id = l_id;
        ut.expect(length(l_reference)).to_equal(100);
    end reference_counts_characters;

    procedure source_system_too_long
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_source_system => rpad('S', 31, 'S'), p_correlation_key => 'k1');
    end source_system_too_long;

    procedure correlation_key_too_long
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_source_system => 'UT', p_correlation_key => rpad('k', 129, 'k'));
    end correlation_key_too_long;

    procedure created_by_too_long
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
            p_created_by => rpad('u', 129, 'u'));
    end created_by_too_long;

    procedure number_created_by_too_long
    is
        l_id number;
    begin
        l_id := sms_api.enqueue_number(
            p_sender_code => c_sender, p_to_number => '+15005550001', p_body => 'x',
            p_created_by => rpad('u', 129, 'u'));
    end number_created_by_too_long;

    procedure sender_code_too_long
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => rpad('S', 31, 'S'), p_body => 'x',
            p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id);
    end sender_code_too_long;

    procedure lengths_before_recipient_count
    is
        l_id number;
    begin
        l_id := sms_api.enqueue(
            p_sender_code => c_sender, p_body => 'x', p_reference => rpad('r', 101, 'r'));
    end lengths_before_recipient_count;

    procedure length_error_messages
    is
        l_id number;
    begin
        begin
            l_id := sms_api.enqueue(
                p_sender_code => c_sender, p_body => 'x',
                p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
                p_reference => rpad('r', 101, 'r'));
            ut.fail('value_too_long was not raised');
        exception
            when sms_err.e_value_too_long then
                ut.expect(sqlerrm)
                    .to_equal('ORA-20014: reference is too long: at most 100 characters');
        end;
        begin
            l_id := sms_api.enqueue(
                p_sender_code => c_sender, p_body => 'x',
                p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
                p_source_system => rpad('S', 31, 'S'), p_correlation_key => 'k1');
            ut.fail('value_too_long was not raised');
        exception
            when sms_err.e_value_too_long then
                ut.expect(sqlerrm)
                    .to_equal('ORA-20014: source_system is too long: at most 30 bytes');
        end;
        begin
            l_id := sms_api.enqueue(
                p_sender_code => c_sender, p_body => 'x',
                p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
                p_source_system => 'UT', p_correlation_key => rpad('k', 129, 'k'));
            ut.fail('value_too_long was not raised');
        exception
            when sms_err.e_value_too_long then
                ut.expect(sqlerrm)
                    .to_equal('ORA-20014: correlation_key is too long: at most 128 characters');
        end;
        begin
            l_id := sms_api.enqueue(
                p_sender_code => c_sender, p_body => 'x',
                p_recipient_type => c_recipient_type, p_recipient_id => c_recipient_id,
                p_created_by => rpad('u', 129, 'u'));
            ut.fail('value_too_long was not raised');
        exception
            when sms_err.e_value_too_long then
                ut.expect(sqlerrm).to_equal('ORA-20014: created_by is too long: at most 128 bytes');
        end;
    end length_error_messages;
end test_sms_api;
/
