create or replace package sms_api
authid definer
as
    -- Queue outbound SMS from PL/SQL, inside the caller's own transaction.
    --
    -- Nothing here commits: the row becomes visible to the bridge when the caller commits, and
    -- disappears with the caller's rollback, so no SMS is sent for a business transaction that
    -- failed. Nothing here locks anything but the row it inserts (or, in cancel, the row it
    -- cancels): no DBMS_ALERT (a signaller holds the alert's lock until it commits, which
    -- would serialize every ERP transaction that queues an SMS), no DBMS_LOCK, no SELECT ... FOR
    -- UPDATE on sms_senders (the bridge holds that row while it meters a sender's rate, and an
    -- ERP transaction must never wait for the bridge). The bridge finds new rows by polling an
    -- index of the ready set.
    --
    -- Definer's rights: callers need EXECUTE on sms_api (and on sms_err to catch its named
    -- exceptions), not privileges on the tables.
    --
    -- p_send_after and p_expires_at carry their time zone and are stored in UTC: pass
    -- systimestamp + interval '1' hour, or from_tz(t, 'Europe/Paris') for a local time. A
    -- TIMESTAMP or DATE without a zone is read in the session's time zone (Oracle's implicit
    -- conversion), so prefer values with a zone.
    --
    -- Errors (named in sms_err, numbers -20001 .. -20018), checked in this order:
    --   0. lengths: value_too_long for the first text longer than its sms_outbound column, in
    --      this order: p_sender_code (30 bytes), p_recipient_type (30 bytes), p_recipient_id
    --      (64 bytes), p_to_number (32 bytes), p_reference (100 characters), p_reply_code
    --      (20 bytes), p_source_system (30 bytes), p_correlation_key (128 characters),
    --      p_created_by (128 bytes); the message names the column, as the bridge's does
    --      ('reference is too long: at most 100 characters');
    --   1. arguments alone: recipient_count, bad_number (enqueue_number), empty_body (null or
    --      only white space), body_too_long (more than 1600 characters, counted as SMS
    --      counts them: UTF-16 units, an emoji is two), bad_priority, bad_window, correlation_incomplete,
    --      reserved_source_system (p_source_system starting 'api:', in any case: the REST
    --      API's namespace, only with p_created_by equal to it), bad_reply_code (not 2-16 letters,
    --      digits or inner hyphens with a digit: replies could never quote it);
    --   2. idempotency: when (p_source_system, p_correlation_key) already names a row, its id is
    --      returned and nothing else is checked or written, so a retried call gets the same
    --      answer even if the sender or the recipient changed in between;
    --   3. data: unknown_sender, inactive_sender, unknown_recipient (not in sms_recipients_v),
    --      unknown_batch (p_batch_id not returned by begin_batch).
    -- A call that raises has inserted nothing.

    -- Queue a message to a recipient of sms_recipients_v (recipient type + id); the mobile
    -- number is resolved when the message is sent. p_body is NVARCHAR2 so any character
    -- survives whatever the database character set (bind it as NVARCHAR from clients).
    -- p_priority: 1 urgent (ignores quiet hours), 2 transactional, 3 bulk.
    -- p_reply_code: a code quoted in the body ("reply YES 4821") that matches replies to it.
    -- p_created_by defaults to the session user. Returns sms_outbound.id.
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
    ) return number;

    -- Queue a message to a raw E.164 number ('+' and 7 to 15 digits). For trusted callers
    -- only: grant EXECUTE on sms_api to code you trust with arbitrary numbers.
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
    ) return number;

    -- Open a batch: the messages a run queues with p_batch_id => the returned id are counted
    -- together (sms-bridge report --batch ID, GET /batches/{id}: attempted, submitted,
    -- delivered, invalid, unsubscribed, duplicate, failed). Like enqueue it commits nothing and
    -- locks nothing but its own new row; the batch and its messages appear when the caller
    -- commits. p_source: 'PLSQL' (the default), 'CSV' or 'REST' (the bridge's own imports).
    -- p_label: free text shown with the summary (e.g. the concurrent request id), up to 200
    -- characters. p_created_by defaults to the session user.
    -- Errors, in this order: bad_batch_source (p_source not 'PLSQL', 'CSV' or 'REST', case
    -- included; null is 'PLSQL'), value_too_long ('label is too long: at most 200
    -- characters', 'created_by is too long: at most 128 bytes').
    function begin_batch(
        p_label       in varchar2 default null,
        p_source      in varchar2 default 'PLSQL',
        p_created_by  in varchar2 default null
    ) return number;

    -- Cancel a QUEUED message (status CANCELED, final, with an event). A message the bridge
    -- has already claimed (SENDING) or sent can no longer be canceled: not_cancelable.
    -- Unknown id: not_found.
    procedure cancel(
        p_id      in number,
        p_reason  in varchar2 default null
    );

    -- The message's status (sms_outbound.status). Unknown id: not_found.
    function status_of(p_id in number) return varchar2;
end sms_api;
/
