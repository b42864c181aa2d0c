create or replace package body hr_cert_sms
as
    -- At most this many numbers of a reply are tried as reply codes (a reply quoting a phone
    -- number or a long list should not turn into a long series of lookups).
    c_max_codes_tried  constant pls_integer := 5;
    -- ASCII digits as bridge/hr/certs.py reads them (Python's [0-9]), listed rather than a
    -- range: Oracle reads a range such as [0-9] by NLS_SORT, and a linguistic sort may take
    -- other scripts' digits into it (which TO_NUMBER then refuses).
    -- Every cert_id fits NUMBER(10); a longer run of digits is not a reply code.
    c_code_pattern     constant varchar2(30) := '^[0123456789]{1,10}$';
    c_digit_run        constant varchar2(20) := '[0123456789]+';

    -- The reminder text. Month names in English whatever the session's NLS_DATE_LANGUAGE (a
    -- job's session takes the database default), and the same text the embedded (Python)
    -- mode writes, so both engines send the same reminder.
    function reminder_body(
        p_full_name  in varchar2,
        p_cert_name  in varchar2,
        p_expires_on in date,
        p_cert_id    in number
    ) return nvarchar2
    is
        -- The first word of the full name ('there' for a blank one, as bridge/hr_certs.py).
        l_first_name hr_demo_employees.full_name%type
            := nvl(regexp_substr(p_full_name, '[^[:space:]]+'), 'there');
    begin
        return 'Hi ' || l_first_name || ', your ' || p_cert_name
               || ' certification expires on '
               || to_char(p_expires_on, 'DD Mon YYYY', 'nls_date_language=english')
               || '. Reply YES ' || lpad(to_char(p_cert_id), greatest(2, length(to_char(p_cert_id))), '0')
               || ' when renewed. Reply HELP for help, STOP to opt out.';
    end reminder_body;

    procedure queue_expiring(
        p_days_ahead  in  pls_integer default 14,
        p_today       in  date default trunc(sysdate),
        p_queued      out pls_integer,
        p_skipped     out pls_integer
    )
    is
        -- Whole days: a p_today with a time of day still covers all of its day.
        l_from  date := trunc(nvl(p_today, sysdate));
        l_id    sms_outbound.id%type;
    begin
        -- All or nothing: if a reminder fails for a reason other than an unknown recipient,
        -- undo this run's reminders too, so the caller's transaction is as before the call
        -- (PL/SQL does not roll back a called unit's work when an exception leaves it).
        -- First statement, so the handler below always has a savepoint to roll back to.
        savepoint hr_cert_sms_queue_expiring;
        p_queued := 0;
        p_skipped := 0;
        if p_days_ahead is null or p_days_ahead < 0 then
            raise value_error;  -- a caller's bug: no window to look at
        end if;

        -- hr_demo_certifications_exp_ix (status, expires_on) serves the filter.
        -- "expires_on < next day" rather than "<= last day" keeps a DATE with a time of day
        -- on the last day inside the window.
        for l_cert in (
            select c.cert_id, c.cert_name, c.expires_on, c.employee_id,
                   c.reminder_outbound_id, e.full_name
              from hr_demo_certifications c
              join hr_demo_employees e on e.employee_id = c.employee_id
             where c.status = 'ACTIVE'
               and c.expires_on >= l_from
               and c.expires_on < l_from + p_days_ahead + 1
             order by c.expires_on, c.cert_id
        ) loop
            begin
                l_id := sms_api.enqueue(
                    p_sender_code     => c_sender_code,
                    p_recipient_type  => 'EMPLOYEE',
                    p_recipient_id    => to_char(l_cert.employee_id),
                    p_body            => reminder_body(l_cert.full_name, l_cert.cert_name,
                                                       l_cert.expires_on, l_cert.cert_id),
                    p_priority        => 2,
                    p_reference       => c_reference_tag || to_char(l_cert.cert_id),
                    -- At least two digits (a reply code has 2 to 16 characters, sms_api); lpad
                    -- alone would cut a longer id to two.
                    p_reply_code      => lpad(to_char(l_cert.cert_id),
                                              greatest(2, length(to_char(l_cert.cert_id))), '0'),
                    p_source_system   => c_source_system,
                    -- One reminder per certification and expiry date: renewing with a new
                    -- date makes a new key, running again on the same day does not.
                    p_correlation_key => 'cert-' || to_char(l_cert.cert_id) || '-'
                                         || to_char(l_cert.expires_on, 'YYYY-MM-DD'));
            exception
                when sms_err.e_unknown_recipient then
                    -- The employee is not in sms_recipients_v (e.g. a site's view excludes
                    -- them): nothing was inserted (sms_api raises before inserting). Skip
                    -- this certification, keep reminding the others.
                    l_id := null;
                    p_skipped := p_skipped + 1;
                    dbms_output.put_line('hr_cert_sms.queue_expiring: certification '
                        || l_cert.cert_id || ' skipped: ' || sqlerrm);
            end;

            if l_id is not null then
                -- Newly queued when the id differs from the one already stored. The condition
                -- is in the UPDATE, not only in the cursor's snapshot: if another run stored
                -- the same id meanwhile, Oracle re-reads the committed row (write consistency)
                -- and this run neither writes nor counts it a second time.
                update hr_demo_certifications
                   set reminder_outbound_id = l_id
                 where cert_id = l_cert.cert_id
                   and (reminder_outbound_id is null or reminder_outbound_id <> l_id);
                p_queued := p_queued + sql%rowcount;
            end if;
        end loop;
    exception
        when others then
            rollback to savepoint hr_cert_sms_queue_expiring;
            raise;
    end queue_expiring;

    function queue_expiring(
        p_days_ahead  in pls_integer default 14,
        p_today       in date default trunc(sysdate)
    ) return pls_integer
    is
        l_queued   pls_integer;
        l_skipped  pls_integer;
    begin
        queue_expiring(
            p_days_ahead => p_days_ahead, p_today => p_today,
            p_queued => l_queued, p_skipped => l_skipped);
        return l_queued;
    end queue_expiring;

    -- The certification a reminder was about: reference 'CERT-<cert_id>' of an HR message.
    -- Null when the reply was not matched to a message, the message is not an HR
    -- certification reminder, or the certification no longer exists.
    function cert_of_reminder(p_outbound_id in number) return number
    is
        l_reference  sms_outbound.reference%type;
        -- As long as the reference (100 characters, of any width): the rest of it may be
        -- anything a caller of sms_api wrote, not only digits.
        l_code       sms_outbound.reference%type;
        l_cert_id    hr_demo_certifications.cert_id%type;
    begin
        if p_outbound_id is null then
            return null;
        end if;
        select reference
          into l_reference
          from sms_outbound
         where id = p_outbound_id
           and sender_code = c_sender_code;
        if l_reference is null or substr(l_reference, 1, length(c_reference_tag))
                                  <> c_reference_tag then
            return null;
        end if;
        l_code := substr(l_reference, length(c_reference_tag) + 1);
        if not regexp_like(l_code, c_code_pattern) then
            return null;
        end if;
        select cert_id
          into l_cert_id
          from hr_demo_certifications
         where cert_id = to_number(l_code);
        return l_cert_id;
    exception
        when no_data_found then
            return null;
    end cert_of_reminder;

    -- The first number quoted in the reply that is the cert_id of one of the replying
    -- employee's certifications. Only the recipient's own certifications: a code alone,
    -- from a number we cannot tie to the employee, is not enough to change an HR record.
    -- As bridge/hr/certs.py quoted_codes: the first c_max_codes_tried runs of digits, a run
    -- of more than 10 digits skipped (it still counts as one of them).
    function cert_of_quoted_code(
        p_body            in nvarchar2,
        p_recipient_type  in varchar2,
        p_recipient_id    in varchar2
    ) return number
    is
        -- A run of digits, however long: a body of only digits fits (at most 32767 bytes as
        -- a PL/SQL NVARCHAR2, one byte per digit here), so no reply raises ORA-06502.
        l_code     varchar2(32767);
        l_cert_id  hr_demo_certifications.cert_id%type;
    begin
        if p_body is null or p_recipient_type is null or p_recipient_type <> 'EMPLOYEE'
           or p_recipient_id is null then
            return null;
        end if;
        for l_nth in 1 .. c_max_codes_tried loop
            l_code := to_char(regexp_substr(p_body, c_digit_run, 1, l_nth));
            exit when l_code is null;
            if regexp_like(l_code, c_code_pattern) then
                begin
                    -- By primary key; the employee compared as text, as sms_recipients_v
                    -- exposes it (no TO_NUMBER of a recipient id that may not be numeric).
                    select cert_id
                      into l_cert_id
                      from hr_demo_certifications
                     where cert_id = to_number(l_code)
                       and to_char(employee_id) = p_recipient_id;
                    return l_cert_id;
                exception
                    when no_data_found then
                        null;  -- not theirs, or no such certification: try the next number
                end;
            end if;
        end loop;
        return null;
    end cert_of_quoted_code;

    -- YES, DONE or RENEWED as the first word. The word is the first run of letters, so the
    -- white space, punctuation, digits and emoji around it do not matter: "yes", " Yes! ",
    -- "DONE.", "Yes,4821", "4821 YES" and "Renewed, thanks" all confirm; "Not done" and "Y"
    -- do not. (bridge/hr_certs.py first_word reads it the same way.)
    function is_confirmation(p_body in nvarchar2) return boolean
    is
        l_word nvarchar2(2000);
    begin
        l_word := upper(regexp_substr(p_body, '[[:alpha:]]+'));
        return nvl(l_word in (n'YES', n'DONE', n'RENEWED'), false);
    end is_confirmation;

    procedure on_reply(p_inbound_id in number)
    is
        l_reply    sms_inbound%rowtype;
        l_cert_id  hr_demo_certifications.cert_id%type;
    begin
        -- NO_DATA_FOUND for an unknown id propagates: the dispatcher records it as ERROR.
        select * into l_reply from sms_inbound where id = p_inbound_id;

        l_cert_id := cert_of_reminder(l_reply.outbound_id);
        if l_cert_id is null then
            l_cert_id := cert_of_quoted_code(
                l_reply.body, l_reply.recipient_type, l_reply.recipient_id);
        end if;
        if l_cert_id is null then
            -- Unmatched: never guess. The manager digest lists the reply as unmatched.
            return;
        end if;

        -- Each update is one conditional statement (no SELECT ... FOR UPDATE): a
        -- certification already confirmed stays confirmed with its first acknowledgement.
        if is_confirmation(l_reply.body) then
            update hr_demo_certifications
               set status = 'RENEWAL_CONFIRMED',
                   acknowledged_at = sys_extract_utc(systimestamp),
                   acknowledged_inbound_id = l_reply.id
             where cert_id = l_cert_id
               and status <> 'RENEWAL_CONFIRMED';
        else
            -- A question, a "not yet", a picture without text: the manager looks at it. The
            -- latest such reply is kept; the digest shows them all.
            update hr_demo_certifications
               set status = 'FLAGGED',
                   flagged_reason = nvl(l_reply.body, n'(reply without text)')
             where cert_id = l_cert_id
               and status <> 'RENEWAL_CONFIRMED';
        end if;
    end on_reply;

    procedure process_replies(p_limit in pls_integer default 100)
    is
        l_limit   pls_integer := least(greatest(nvl(p_limit, 100), 1), 1000);
        l_marked  boolean;
        l_error   varchar2(1000);
    begin
        -- Not sms_inbound_api.next_batch: it returns the oldest NEW replies of every sender,
        -- and replies for other programs stay NEW, so once p_limit of them piled up this job
        -- would never reach an HR reply. The same index (sms_inbound_status_ix: status, id)
        -- serves this filtered read. An HR reply is one sent to the HR sender's number, or
        -- one matched to an HR message (a sender using a Messaging Service has no from_number).
        for l_reply in (
            select i.id
              from sms_inbound i
             where i.status = 'NEW'
               and (i.to_number in (select s.from_number
                                      from sms_senders s
                                     where s.code = c_sender_code)
                    or i.outbound_id in (select o.id
                                           from sms_outbound o
                                          where o.sender_code = c_sender_code))
             order by i.id
             fetch first l_limit rows only
        ) loop
            savepoint hr_cert_sms_reply;
            begin
                -- Take the reply first: the update locks it and changes it only while it is
                -- NEW, so a concurrent run (or the bridge's dispatcher) that took it already
                -- makes this one skip it instead of applying it twice.
                sms_inbound_api.mark_processed(l_reply.id, l_marked, 'PROCESSED');
                if l_marked then
                    on_reply(l_reply.id);
                end if;
            exception
                when others then
                    l_error := substr('hr_cert_sms.on_reply: ' || sqlerrm, 1, 1000);
                    -- Undo the handler's partial work and the PROCESSED mark, then record the
                    -- error on the reply: nothing retries it silently (an administrator sets
                    -- it back to NEW after fixing the cause).
                    rollback to savepoint hr_cert_sms_reply;
                    sms_inbound_api.mark_processed(l_reply.id, l_marked, 'ERROR', l_error);
            end;
        end loop;
        commit;
    end process_replies;
end hr_cert_sms;
/
