create or replace package body sms_err
as
    function message_of(p_number in pls_integer) return varchar2
    is
    begin
        return case p_number
            when c_recipient_count        then m_recipient_count
            when c_unknown_sender         then m_unknown_sender
            when c_inactive_sender        then m_inactive_sender
            when c_empty_body             then m_empty_body
            when c_body_too_long          then m_body_too_long
            when c_bad_priority           then m_bad_priority
            when c_unknown_recipient      then m_unknown_recipient
            when c_bad_number             then m_bad_number
            when c_not_found              then m_not_found
            when c_not_cancelable         then m_not_cancelable
            when c_bad_window             then m_bad_window
            when c_correlation_incomplete then m_correlation_incomplete
            when c_bad_reply_code         then m_bad_reply_code
            when c_value_too_long         then m_value_too_long
            when c_missing_value          then m_missing_value
            when c_reserved_source_system then m_reserved_source_system
            when c_unknown_batch          then m_unknown_batch
            when c_bad_batch_source       then m_bad_batch_source
        end;
    end message_of;

    -- An argument as it appears in a message: 'null' when missing (as Python's str(None) reads
    -- 'None': visibly missing), cut to 200 characters so a runaway value (a 4000-character
    -- "number") cannot overflow the message and turn a named error into ORA-06502.
    function shown(p_arg in varchar2) return varchar2
    is
    begin
        return nvl(substr(p_arg, 1, 200), 'null');
    end shown;

    -- Replace the first %s of p_text only (REPLACE would fill every placeholder with one value).
    function fill_first(p_text in varchar2, p_arg in varchar2) return varchar2
    is
        l_at pls_integer := instr(p_text, '%s');
    begin
        if l_at = 0 then
            return p_text;
        end if;
        return substr(p_text, 1, l_at - 1) || shown(p_arg) || substr(p_text, l_at + 2);
    end fill_first;

    function format_message(
        p_number  in pls_integer,
        p_arg1    in varchar2 default null,
        p_arg2    in varchar2 default null
    ) return varchar2
    is
        l_template varchar2(200) := message_of(p_number);
        l_at       pls_integer := instr(l_template, '%s');
    begin
        if l_template is null or l_at = 0 then
            return l_template;
        end if;
        -- Fill the second placeholder in the remainder after the first one, so a '%s' inside
        -- p_arg1 is never taken for a placeholder.
        return substr(l_template, 1, l_at - 1) || shown(p_arg1)
               || fill_first(substr(l_template, l_at + 2), p_arg2);
    end format_message;

    procedure raise_error(
        p_number  in pls_integer,
        p_arg1    in varchar2 default null,
        p_arg2    in varchar2 default null
    )
    is
        l_message varchar2(4000) := format_message(p_number, p_arg1, p_arg2);
    begin
        if l_message is null then
            raise value_error;
        end if;
        -- keeperrorstack false: this error replaces any earlier ones on the stack, so the
        -- caller's message starts with this ORA-200xx line. Oracle still appends ORA-06512
        -- lines (where it was raised) when it leaves PL/SQL unhandled; bridge.errors.from_oracle
        -- reads the first line only and maps it back to the same Python class.
        raise_application_error(p_number, l_message, false);
    end raise_error;
end sms_err;
/
