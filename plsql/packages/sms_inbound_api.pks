create or replace package sms_inbound_api
authid definer
as
    -- Replies (sms_inbound) for ERP programs that process them themselves, instead of, or as
    -- well as, HANDLER rows in sms_keywords (which the bridge's dispatcher calls).
    --
    -- The inbound service stores each reply with status NEW, its first word in keyword, the
    -- outbound message it answers in outbound_id (match_method REFERENCE or LATEST; AMBIGUOUS
    -- and NONE leave it null: never a silent guess) and the recipient found from the number.
    -- STOP/START/HELP replies are already PROCESSED when they arrive.
    --
    -- Nothing here commits: mark_processed belongs to the caller's transaction, so the reply
    -- is marked together with the business change it caused, or not at all.
    --
    -- Usage:
    --   l_replies := sms_inbound_api.next_batch(50);
    --   loop
    --       fetch l_replies into l_reply;   -- l_reply sms_inbound%rowtype
    --       exit when l_replies%notfound;
    --       ... update the HR record ...
    --       sms_inbound_api.mark_processed(l_reply.id);
    --   end loop;
    --   close l_replies;
    --   commit;
    --
    -- Two programs reading the same batch at once would both see the rows; mark_processed
    -- changes a row only while it is NEW and reports whether it did, so the loser skips it.

    -- Up to p_limit NEW replies, oldest first, all columns of sms_inbound
    -- (select * order: use sms_inbound%rowtype). p_limit is capped at 1000.
    function next_batch(p_limit in pls_integer default 100) return sys_refcursor;

    -- Mark one NEW reply PROCESSED (or IGNORED, or ERROR with p_error). Does nothing when the
    -- reply is no longer NEW; p_marked says whether this call changed it.
    procedure mark_processed(
        p_id      in  number,
        p_marked  out boolean,
        p_status  in  varchar2 default 'PROCESSED',
        p_error   in  varchar2 default null
    );

    -- The same, for callers that do not need to know (e.g. a single reader).
    procedure mark_processed(
        p_id      in number,
        p_status  in varchar2 default 'PROCESSED',
        p_error   in varchar2 default null
    );

    -- Every reply matched to one outbound message, oldest first (all columns of sms_inbound).
    function replies_for(p_outbound_id in number) return sys_refcursor;
end sms_inbound_api;
/
