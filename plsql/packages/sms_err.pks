create or replace package sms_err
authid definer
as
    -- The named errors of the SMS API, shared with Python: every name, number and message here
    -- equals bridge/errors.py ERROR_SPECS (tests/plsql/test_plsql_error_parity.py keeps them
    -- equal), so a caller sees the same error from PL/SQL, the CLI or the REST API.
    --
    -- For each error <name>:
    --   c_<name>  its number, for raise_error and for utPLSQL's --%throws;
    --   e_<name>  an exception bound to that number, for WHEN clauses in calling code;
    --   m_<name>  its message template; %s placeholders are filled left to right.
    -- PRAGMA EXCEPTION_INIT takes a literal, hence each number written twice (the parity test
    -- checks both).
    --
    -- Callers catch e.g.:
    --     exception when sms_err.e_unknown_recipient then ...

    c_recipient_count         constant pls_integer := -20001;
    e_recipient_count         exception;
    pragma exception_init(e_recipient_count, -20001);
    m_recipient_count         constant varchar2(200) :=
        'exactly one recipient is required: a recipient type and id, or a number';

    c_unknown_sender          constant pls_integer := -20002;
    e_unknown_sender          exception;
    pragma exception_init(e_unknown_sender, -20002);
    m_unknown_sender          constant varchar2(200) := 'unknown sender %s';

    c_inactive_sender         constant pls_integer := -20003;
    e_inactive_sender         exception;
    pragma exception_init(e_inactive_sender, -20003);
    m_inactive_sender         constant varchar2(200) := 'sender %s is not active';

    c_empty_body              constant pls_integer := -20004;
    e_empty_body              exception;
    pragma exception_init(e_empty_body, -20004);
    m_empty_body              constant varchar2(200) := 'the message body is empty';

    c_body_too_long           constant pls_integer := -20005;
    e_body_too_long           exception;
    pragma exception_init(e_body_too_long, -20005);
    m_body_too_long           constant varchar2(200) :=
        'the message body has %s characters; at most 1600 are allowed';

    c_bad_priority            constant pls_integer := -20006;
    e_bad_priority            exception;
    pragma exception_init(e_bad_priority, -20006);
    m_bad_priority            constant varchar2(200) :=
        'priority %s is not 1 (urgent), 2 (transactional) or 3 (bulk)';

    c_unknown_recipient       constant pls_integer := -20007;
    e_unknown_recipient       exception;
    pragma exception_init(e_unknown_recipient, -20007);
    m_unknown_recipient       constant varchar2(200) := 'unknown recipient %s %s';

    c_bad_number              constant pls_integer := -20008;
    e_bad_number              exception;
    pragma exception_init(e_bad_number, -20008);
    m_bad_number              constant varchar2(200) := '%s is not an E.164 phone number';

    c_not_found               constant pls_integer := -20009;
    e_not_found               exception;
    pragma exception_init(e_not_found, -20009);
    m_not_found               constant varchar2(200) := 'no message with id %s';

    c_not_cancelable          constant pls_integer := -20010;
    e_not_cancelable          exception;
    pragma exception_init(e_not_cancelable, -20010);
    m_not_cancelable          constant varchar2(200) :=
        'message %s is %s and can no longer be canceled';

    c_bad_window              constant pls_integer := -20011;
    e_bad_window              exception;
    pragma exception_init(e_bad_window, -20011);
    m_bad_window              constant varchar2(200) := 'expires_at is not after send_after';

    c_correlation_incomplete  constant pls_integer := -20012;
    e_correlation_incomplete  exception;
    pragma exception_init(e_correlation_incomplete, -20012);
    m_correlation_incomplete  constant varchar2(200) :=
        'source_system and correlation_key must be given together';

    c_bad_reply_code          constant pls_integer := -20013;
    e_bad_reply_code          exception;
    pragma exception_init(e_bad_reply_code, -20013);
    m_bad_reply_code          constant varchar2(200) :=
        'reply code %s is not 2 to 16 letters, digits or inner hyphens with at least one digit';

    -- A text longer than its column, and NULL (or '') for a NOT NULL one: the bridge checks
    -- every text against the columns before it binds it (bridge/domain/column_sizes.py).
    c_value_too_long          constant pls_integer := -20014;
    e_value_too_long          exception;
    pragma exception_init(e_value_too_long, -20014);
    m_value_too_long          constant varchar2(200) := '%s is too long: at most %s';

    c_missing_value           constant pls_integer := -20015;
    e_missing_value           exception;
    pragma exception_init(e_missing_value, -20015);
    m_missing_value           constant varchar2(200) := '%s must not be empty';

    -- 'api:...' source systems are the REST API's (its keys' correlation keys): sms_api.enqueue
    -- accepts one only with p_created_by equal to it, as the bridge queues for an API key.
    c_reserved_source_system  constant pls_integer := -20016;
    e_reserved_source_system  exception;
    pragma exception_init(e_reserved_source_system, -20016);
    m_reserved_source_system  constant varchar2(200) :=
        'source system %s is reserved for the REST API (api:...): use another source system';

    -- p_batch_id names no row of sms_batches (sms_api.begin_batch returns the ids).
    c_unknown_batch           constant pls_integer := -20017;
    e_unknown_batch           exception;
    pragma exception_init(e_unknown_batch, -20017);
    m_unknown_batch           constant varchar2(200) := 'unknown batch %s';

    -- p_source of sms_api.begin_batch is not one of sms_batches.source's values (PLSQL, CSV,
    -- REST; a longer text is none of them either).
    c_bad_batch_source        constant pls_integer := -20018;
    e_bad_batch_source        exception;
    pragma exception_init(e_bad_batch_source, -20018);
    m_bad_batch_source        constant varchar2(200) := 'batch source %s is not PLSQL, CSV or REST';

    -- The message template of an error number above; null for any other number.
    function message_of(p_number in pls_integer) return varchar2;

    -- The template with its %s placeholders filled left to right by p_arg1, p_arg2 (a null
    -- argument reads 'null'; arguments are cut to 200 characters).
    function format_message(
        p_number  in pls_integer,
        p_arg1    in varchar2 default null,
        p_arg2    in varchar2 default null
    ) return varchar2;

    -- Raise error p_number with its formatted message (raise_application_error). An unknown
    -- number raises ORA-06502 (value_error) instead: a bug in the caller, not a user error.
    procedure raise_error(
        p_number  in pls_integer,
        p_arg1    in varchar2 default null,
        p_arg2    in varchar2 default null
    );
end sms_err;
/
