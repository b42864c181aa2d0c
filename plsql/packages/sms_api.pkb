create or replace package body sms_api
as
    -- Twilio refuses a message body longer than 1600 characters.
    c_max_body_chars  constant pls_integer := 1600;
    -- E.164: '+', a country code not starting with 0, 7 to 15 digits in all.
    c_e164_pattern    constant varchar2(30) := '^\+[1-9][0-9]{6,14}$';
    -- 2 to 16 letters, digits or inner hyphens (and a digit, checked apart).
    c_reply_code_pattern  constant varchar2(60) := '^[A-Za-z0-9][A-Za-z0-9-]{0,14}[A-Za-z0-9]$';

    -- Timestamps are UTC: the bridge compares next_attempt_at with its own UTC clock.
    function utc_now return timestamp
    is
    begin
        return sys_extract_utc(systimestamp);
    end utc_now;

    -- Every text fits its sms_outbound column, else value_too_long naming the column, so a
    -- PL/SQL caller meets the named error a Python caller does instead of ORA-12899 at the
    -- insert. The first check of enqueue and enqueue_number: the same columns, order, units and
    -- messages as bridge/domain/enqueue_rules.py check_lengths, which Store.enqueue runs before
    -- anything else (a CHAR column counts characters, LENGTH; any other counts bytes, LENGTHB;
    -- sizes from plsql/tables/sms_outbound.sql). NULL and '' are left to the checks after.
    procedure check_lengths(
        p_sender_code      in varchar2,
        p_recipient_type   in varchar2,
        p_recipient_id     in varchar2,
        p_to_number        in varchar2,
        p_reference        in varchar2,
        p_reply_code       in varchar2,
        p_source_system    in varchar2,
        p_correlation_key  in varchar2,
        p_created_by       in varchar2
    )
    is
    begin
        if lengthb(p_sender_code) > 30 then
            sms_err.raise_error(sms_err.c_value_too_long, 'sender_code', '30 bytes');
        end if;
        if lengthb(p_recipient_type) > 30 then
            sms_err.raise_error(sms_err.c_value_too_long, 'recipient_type', '30 bytes');
        end if;
        if lengthb(p_recipient_id) > 64 then
            sms_err.raise_error(sms_err.c_value_too_long, 'recipient_id', '64 bytes');
        end if;
        if lengthb(p_to_number) > 32 then
            sms_err.raise_error(sms_err.c_value_too_long, 'to_number', '32 bytes');
        end if;
        if length(p_reference) > 100 then
            sms_err.raise_error(sms_err.c_value_too_long, 'reference', '100 characters');
        end if;
        if lengthb(p_reply_code) > 20 then
            sms_err.raise_error(sms_err.c_value_too_long, 'reply_code', '20 bytes');
        end if;
        if lengthb(p_source_system) > 30 then
            sms_err.raise_error(sms_err.c_value_too_long, 'source_system', '30 bytes');
        end if;
        if length(p_correlation_key) > 128 then
            sms_err.raise_error(sms_err.c_value_too_long, 'correlation_key', '128 characters');
        end if;
        if lengthb(p_created_by) > 128 then
            sms_err.raise_error(sms_err.c_value_too_long, 'created_by', '128 bytes');
        end if;
    end check_lengths;

    -- The checks that need no data, after the recipient's (step 1 of the order in the spec;
    -- bridge/enqueue_rules.py check_shape makes the same checks in the same order).
    procedure check_arguments(
        p_body             in nvarchar2,
        p_priority         in pls_integer,
        p_send_after       in timestamp,
        p_expires_at       in timestamp,
        p_source_system    in varchar2,
        p_correlation_key  in varchar2,
        p_reply_code       in varchar2,
        p_created_by       in varchar2
    )
    is
    begin
        -- Blank means null or only white space (spaces, tabs, line breaks), as Python's
        -- str.strip() sees it.
        if p_body is null or regexp_like(p_body, '^[[:space:]]+$') then
            sms_err.raise_error(sms_err.c_empty_body);
        end if;
        -- LENGTH2: UTF-16 code units, as SMS and the NVARCHAR2(2000) column count them (an
        -- emoji is two); LENGTH4 would let 1,001-1,600 emoji pass and then fail the insert.
        if length2(p_body) > c_max_body_chars then
            sms_err.raise_error(sms_err.c_body_too_long, to_char(length2(p_body)));
        end if;
        if p_priority is null or p_priority not between 1 and 3 then
            sms_err.raise_error(sms_err.c_bad_priority, to_char(p_priority));
        end if;
        if p_send_after is not null and p_expires_at is not null
           and p_expires_at <= p_send_after then
            sms_err.raise_error(sms_err.c_bad_window);
        end if;
        if (p_source_system is null and p_correlation_key is not null)
           or (p_source_system is not null and p_correlation_key is null) then
            sms_err.raise_error(sms_err.c_correlation_incomplete);
        end if;
        -- 'api:...' is the REST API's namespace (bridge/apikeys.py): the bridge queues there for
        -- an API key with created_by equal to it; any other caller is refused, so an ERP source
        -- system and an API key of the same name never share correlation keys.
        if lower(substr(p_source_system, 1, 4)) = 'api:'
           and (p_created_by is null or p_created_by <> p_source_system) then
            sms_err.raise_error(sms_err.c_reserved_source_system, p_source_system);
        end if;
        -- As the inbound service finds codes in replies (bridge/threading_match.py): a code
        -- it could never find would silently never match by reference.
        if p_reply_code is not null
           and not (regexp_like(p_reply_code, c_reply_code_pattern)
                    and regexp_like(p_reply_code, '[0-9]')) then
            sms_err.raise_error(sms_err.c_bad_reply_code, p_reply_code);
        end if;
    end check_arguments;

    -- The row already queued under this correlation key, or null. Served by the unique index
    -- of sms_outbound_correlation_uk.
    function existing_id(
        p_source_system    in varchar2,
        p_correlation_key  in varchar2
    ) return number
    is
        l_id sms_outbound.id%type;
    begin
        if p_source_system is null then
            return null;
        end if;
        select id
          into l_id
          from sms_outbound
         where source_system = p_source_system
           and correlation_key = p_correlation_key;
        return l_id;
    exception
        when no_data_found then
            return null;
    end existing_id;

    -- A plain read: the sender row is not locked (see the spec) and the bridge may hold it.
    procedure check_sender(p_sender_code in varchar2)
    is
        l_active sms_senders.active%type;
    begin
        select active
          into l_active
          from sms_senders
         where code = p_sender_code;
        if l_active <> 'Y' then
            sms_err.raise_error(sms_err.c_inactive_sender, p_sender_code);
        end if;
    exception
        when no_data_found then
            sms_err.raise_error(sms_err.c_unknown_sender, p_sender_code);
    end check_sender;

    procedure check_recipient(
        p_recipient_type  in varchar2,
        p_recipient_id    in varchar2
    )
    is
        l_found pls_integer;
    begin
        -- Only existence: a recipient without a usable number is still queued, and the bridge
        -- records it as INVALID with the reason, where the HR process can see it.
        select count(*)
          into l_found
          from sms_recipients_v
         where recipient_type = p_recipient_type
           and recipient_id = p_recipient_id
           and rownum = 1;
        if l_found = 0 then
            sms_err.raise_error(sms_err.c_unknown_recipient, p_recipient_type, p_recipient_id);
        end if;
    end check_recipient;

    procedure check_batch(p_batch_id in number)
    is
        l_found pls_integer;
    begin
        select count(*)
          into l_found
          from sms_batches
         where id = p_batch_id;
        if l_found = 0 then
            sms_err.raise_error(sms_err.c_unknown_batch, to_char(p_batch_id));
        end if;
    end check_batch;

    -- Steps 2 and 3 and the insert, shared by enqueue and enqueue_number (their arguments are
    -- checked by then; exactly one of the recipient pair and p_to_number is set).
    function queue(
        p_sender_code      in varchar2,
        p_recipient_type   in varchar2,
        p_recipient_id     in varchar2,
        p_to_number        in varchar2,
        p_body             in nvarchar2,
        p_priority         in pls_integer,
        p_send_after       in timestamp,
        p_expires_at       in timestamp,
        p_reference        in varchar2,
        p_reply_code       in varchar2,
        p_source_system    in varchar2,
        p_correlation_key  in varchar2,
        p_created_by       in varchar2,
        p_batch_id         in number
    ) return number
    is
        l_id   sms_outbound.id%type := existing_id(p_source_system, p_correlation_key);
        l_now  timestamp := utc_now;
    begin
        if l_id is not null then
            return l_id;
        end if;
        check_sender(p_sender_code);
        if p_recipient_id is not null then
            check_recipient(p_recipient_type, p_recipient_id);
        end if;
        if p_batch_id is not null then
            check_batch(p_batch_id);
        end if;

        begin
            insert into sms_outbound (
                sender_code, recipient_type, recipient_id, to_number, body, priority, status,
                reference, reply_code, source_system, correlation_key, send_after, expires_at,
                next_attempt_at, attempts, created_by, created_at, updated_at, batch_id
            ) values (
                p_sender_code, p_recipient_type, p_recipient_id, p_to_number, p_body, p_priority,
                'QUEUED', p_reference, upper(p_reply_code), p_source_system, p_correlation_key,
                p_send_after, p_expires_at, nvl(p_send_after, l_now), 0,
                nvl(p_created_by, sys_context('userenv', 'session_user')), l_now, l_now,
                p_batch_id
            )
            returning id into l_id;
        exception
            when dup_val_on_index then
                -- Another session queued the same correlation key after our check: our insert
                -- waited for its transaction and failed when it committed. Its row is the
                -- answer. Anything else (no correlation key, or an identity value taken by an
                -- explicit insert) is not ours to hide.
                l_id := existing_id(p_source_system, p_correlation_key);
                if l_id is null then
                    raise;
                end if;
                return l_id;
        end;

        -- 'cli' for sms-bridge enqueue (it passes created_by 'cli'), 'api' for every other caller.
        insert into sms_events (outbound_id, event_at, status, source, applied)
        values (l_id, l_now, 'QUEUED', case when p_created_by = 'cli' then 'cli' else 'api' end,
                'Y');
        return l_id;
    end queue;

    function enqueue(
        p_sender_code      in varchar2,
        p_body             in nvarchar2,
        p_recipient_type   in varchar2 default null,
        p_recipient_id     in varchar2 default null,
        p_priority         in pls_integer default 2,
        p_send_after       in timestamp with time zone default null,
        p_expires_at       in timestamp with time zone default null,
        p_reference        in varchar2 default null,
        p_reply_code       in varchar2 default null,
        p_source_system    in varchar2 default null,
        p_correlation_key  in varchar2 default null,
        p_created_by       in varchar2 default null,
        p_batch_id         in number default null
    ) return number
    is
    begin
        check_lengths(
            p_sender_code => p_sender_code,
            p_recipient_type => p_recipient_type, p_recipient_id => p_recipient_id,
            p_to_number => null,
            p_reference => p_reference, p_reply_code => p_reply_code,
            p_source_system => p_source_system, p_correlation_key => p_correlation_key,
            p_created_by => p_created_by);
        if p_recipient_type is null or p_recipient_id is null then
            sms_err.raise_error(sms_err.c_recipient_count);
        end if;
        check_arguments(
            p_body => p_body, p_priority => p_priority,
            p_send_after => sys_extract_utc(p_send_after),
            p_expires_at => sys_extract_utc(p_expires_at),
            p_source_system => p_source_system, p_correlation_key => p_correlation_key,
            p_reply_code => p_reply_code, p_created_by => p_created_by);
        return queue(
            p_sender_code => p_sender_code,
            p_recipient_type => p_recipient_type, p_recipient_id => p_recipient_id,
            p_to_number => null,
            p_body => p_body, p_priority => p_priority,
            p_send_after => sys_extract_utc(p_send_after),
            p_expires_at => sys_extract_utc(p_expires_at),
            p_reference => p_reference, p_reply_code => p_reply_code,
            p_source_system => p_source_system, p_correlation_key => p_correlation_key,
            p_created_by => p_created_by, p_batch_id => p_batch_id);
    end enqueue;

    function enqueue_number(
        p_sender_code      in varchar2,
        p_to_number        in varchar2,
        p_body             in nvarchar2,
        p_priority         in pls_integer default 2,
        p_send_after       in timestamp with time zone default null,
        p_expires_at       in timestamp with time zone default null,
        p_reference        in varchar2 default null,
        p_reply_code       in varchar2 default null,
        p_source_system    in varchar2 default null,
        p_correlation_key  in varchar2 default null,
        p_created_by       in varchar2 default null,
        p_batch_id         in number default null
    ) return number
    is
    begin
        check_lengths(
            p_sender_code => p_sender_code,
            p_recipient_type => null, p_recipient_id => null,
            p_to_number => p_to_number,
            p_reference => p_reference, p_reply_code => p_reply_code,
            p_source_system => p_source_system, p_correlation_key => p_correlation_key,
            p_created_by => p_created_by);
        if p_to_number is null then
            sms_err.raise_error(sms_err.c_recipient_count);
        end if;
        if not regexp_like(p_to_number, c_e164_pattern) then
            sms_err.raise_error(sms_err.c_bad_number, p_to_number);
        end if;
        check_arguments(
            p_body => p_body, p_priority => p_priority,
            p_send_after => sys_extract_utc(p_send_after),
            p_expires_at => sys_extract_utc(p_expires_at),
            p_source_system => p_source_system, p_correlation_key => p_correlation_key,
            p_reply_code => p_reply_code, p_created_by => p_created_by);
        return queue(
            p_sender_code => p_sender_code,
            p_recipient_type => null, p_recipient_id => null,
            p_to_number => p_to_number,
            p_body => p_body, p_priority => p_priority,
            p_send_after => sys_extract_utc(p_send_after),
            p_expires_at => sys_extract_utc(p_expires_at),
            p_reference => p_reference, p_reply_code => p_reply_code,
            p_source_system => p_source_system, p_correlation_key => p_correlation_key,
            p_created_by => p_created_by, p_batch_id => p_batch_id);
    end enqueue_number;

    function begin_batch(
        p_label       in varchar2 default null,
        p_source      in varchar2 default 'PLSQL',
        p_created_by  in varchar2 default null
    ) return number
    is
        l_id      sms_batches.id%type;
        -- A local: a body-only function cannot be called from SQL (PLS-00231).
        l_now     timestamp := utc_now;
        -- Not %type: a longer p_source must reach the check below, not fail the assignment.
        l_source  varchar2(32767) := nvl(p_source, 'PLSQL');
    begin
        -- As Store.create_batch checks (bridge/store/batch_store.py): the source, then the
        -- texts against their sms_batches columns, so no argument meets ORA-02290 (the source
        -- check constraint) or ORA-12899. A source longer than source's 10 bytes is none of
        -- the three either, so this one check covers both.
        if l_source not in ('PLSQL', 'CSV', 'REST') then
            sms_err.raise_error(sms_err.c_bad_batch_source, substr(l_source, 1, 30));
        end if;
        if length(p_label) > 200 then
            sms_err.raise_error(sms_err.c_value_too_long, 'label', '200 characters');
        end if;
        if lengthb(p_created_by) > 128 then
            sms_err.raise_error(sms_err.c_value_too_long, 'created_by', '128 bytes');
        end if;
        insert into sms_batches (source, label, created_by, rejected, created_at)
        values (l_source, p_label,
                nvl(p_created_by, sys_context('userenv', 'session_user')), 0, l_now)
        returning id into l_id;
        return l_id;
    end begin_batch;

    procedure cancel(
        p_id      in number,
        p_reason  in varchar2 default null
    )
    is
        l_now     timestamp := utc_now;
        l_status  sms_outbound.status%type;
    begin
        -- The check and the change are one statement, so no SELECT ... FOR UPDATE is needed:
        -- if a worker is claiming the row at the same moment, this UPDATE waits for the
        -- worker's commit and Oracle re-evaluates "status = 'QUEUED'" against the committed
        -- row (write consistency), so a claimed message is never marked CANCELED.
        update sms_outbound
           set status = 'CANCELED',
               status_reason = substr(p_reason, 1, 400),
               final_at = l_now,
               updated_at = l_now
         where id = p_id
           and status = 'QUEUED';

        if sql%rowcount = 0 then
            l_status := status_of(p_id);
            sms_err.raise_error(sms_err.c_not_cancelable, to_char(p_id), l_status);
        end if;

        insert into sms_events (outbound_id, event_at, status, source, applied, detail)
        values (p_id, l_now, 'CANCELED', 'api', 'Y', substr(p_reason, 1, 1000));
    end cancel;

    function status_of(p_id in number) return varchar2
    is
        l_status sms_outbound.status%type;
    begin
        select status
          into l_status
          from sms_outbound
         where id = p_id;
        return l_status;
    exception
        when no_data_found then
            sms_err.raise_error(sms_err.c_not_found, to_char(p_id));
            -- Not reached (raise_error always raises); tells the compiler this path never
            -- returns without a value.
            raise;
    end status_of;
end sms_api;
/
