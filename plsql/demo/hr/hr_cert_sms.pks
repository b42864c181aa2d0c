create or replace package hr_cert_sms
authid definer
as
    -- The HR certification-reminder use case over the demo tables (hr_demo_certifications,
    -- hr_demo_employees): remind employees by SMS before a certification expires, and record
    -- what they answer. It is demo code in the sense that it reads the demo tables (so it
    -- lives under plsql/demo/ and `db install --no-demo` skips it); as a pattern it is what a
    -- site writes against its own HR tables.
    --
    -- Flow:
    --   1. queue_expiring (daily, job HR_CERT_QUEUE) queues one reminder per ACTIVE
    --      certification about to expire, through sms_api.enqueue, sender 'HR'. The text
    --      quotes the certification id as a reply code: "Reply YES 4821 when renewed."
    --   2. The bridge sends it; the employee replies; the inbound service stores the reply in
    --      sms_inbound (NEW), matched to the reminder when it can (outbound_id).
    --   3. on_reply(inbound id) updates the certification: YES / DONE / RENEWED confirms the
    --      renewal, anything else flags it for the manager. The bridge's dispatcher calls it
    --      (sms_keywords: keyword '*', sender 'HR', action HANDLER), or, on sites without the
    --      dispatcher, process_replies does (job HR_CERT_REPLIES). Use one or the other.
    --
    -- Nothing here commits except process_replies (a batch entry point for a job): the
    -- reminders and the HR updates belong to the caller's transaction, so a reminder exists
    -- only if the run that stored its id on the certification commits, and a reply is marked
    -- PROCESSED together with the change it caused.
    --
    -- Errors of sms_api other than unknown_recipient (e.g. unknown_sender, inactive_sender:
    -- the HR sender row is site data, see docs/plsql-api.md) propagate: the run fails and
    -- rolls back to the caller's savepoint rather than skip every certification silently.

    -- Values this package writes and reads, public so callers and tests name them alike.
    c_sender_code    constant varchar2(30) := 'HR';
    c_source_system  constant varchar2(30) := 'HR_CERT';
    c_reference_tag  constant varchar2(10) := 'CERT-';

    -- Queue a reminder for every ACTIVE certification expiring between p_today and
    -- p_today + p_days_ahead (both days included; a time of day in p_today is ignored).
    -- Idempotent per certification and expiry date: the correlation key is
    -- 'cert-<cert_id>-<YYYY-MM-DD of expires_on>', so a second run (or a concurrent one)
    -- gets the existing message back and queues nothing; a certification renewed with a new
    -- expiry date gets a new reminder when that date comes near. The message id is stored in
    -- hr_demo_certifications.reminder_outbound_id.
    -- Returns the number of reminders newly queued by this call.
    -- An employee who is not in sms_recipients_v (sms_err.e_unknown_recipient) is skipped, not
    -- fatal: use the procedure below to learn how many were skipped.
    function queue_expiring(
        p_days_ahead  in pls_integer default 14,
        p_today       in date default trunc(sysdate)
    ) return pls_integer;

    -- The same, reporting both counts: p_queued newly queued reminders, p_skipped
    -- certifications whose employee is not a known recipient (each one is also written to
    -- DBMS_OUTPUT with its cert_id, for whoever runs it by hand).
    procedure queue_expiring(
        p_days_ahead  in  pls_integer default 14,
        p_today       in  date default trunc(sysdate),
        p_queued      out pls_integer,
        p_skipped     out pls_integer
    );

    -- The reply handler: the bridge's dispatcher calls it with callproc(name, [inbound_id])
    -- and marks the reply PROCESSED in the same transaction (or rolls back and marks it
    -- ERROR if this raises). Does not commit and does not mark the reply itself.
    --
    -- The certification answered is found, in order:
    --   1. through the reminder the reply was matched to: sms_inbound.outbound_id ->
    --      sms_outbound.reference 'CERT-<cert_id>' of a message of the HR sender;
    --   2. else through a number quoted in the reply that is the cert_id of a certification
    --      of the same recipient (sms_inbound.recipient_type 'EMPLOYEE' / recipient_id);
    --      a code of someone else's certification is never taken.
    -- The first word of the reply decides, read case-blind as its first run of letters (so
    -- surrounding space, punctuation and digits do not matter: "Yes!", "yes,4821" and
    -- "4821 YES" all read YES):
    --   YES, DONE, RENEWED  -> status RENEWAL_CONFIRMED, acknowledged_at (UTC) and
    --                          acknowledged_inbound_id set;
    --   anything else       -> status FLAGGED, flagged_reason = the reply, for the manager.
    -- A certification already RENEWAL_CONFIRMED is left as it is (the first confirmation
    -- stands; the manager digest still lists the later reply). No certification found: does
    -- nothing (the reply shows as unmatched in the manager digest).
    -- An unknown p_inbound_id raises NO_DATA_FOUND (a caller's bug, not a reply to skip).
    procedure on_reply(p_inbound_id in number);

    -- For ERP sites that do not run the bridge's dispatcher (job HR_CERT_REPLIES): handle up
    -- to p_limit NEW replies sent to the HR sender (to its number, or matched to an HR
    -- message), oldest first. Each reply is taken (marked PROCESSED) before on_reply runs, so
    -- two runs, or this and the dispatcher, never handle the same reply twice; if on_reply
    -- raises, its work is rolled back to a savepoint and the reply is marked ERROR with the
    -- error text. Commits at the end (this is a batch entry point, not part of a business
    -- transaction).
    procedure process_replies(p_limit in pls_integer default 100);
end hr_cert_sms;
/
