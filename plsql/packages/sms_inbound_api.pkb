create or replace package body sms_inbound_api
as
    c_max_batch  constant pls_integer := 1000;

    -- UTC, like every timestamp the bridge writes.
    function utc_now return timestamp
    is
    begin
        return sys_extract_utc(systimestamp);
    end utc_now;

    function next_batch(p_limit in pls_integer default 100) return sys_refcursor
    is
        l_limit    pls_integer := least(greatest(nvl(p_limit, 100), 1), c_max_batch);
        l_replies  sys_refcursor;
    begin
        -- sms_inbound_status_ix (status, id) serves both the filter and the order.
        open l_replies for
            select *
              from sms_inbound
             where status = 'NEW'
             order by id
             fetch first l_limit rows only;
        return l_replies;
    end next_batch;

    procedure mark_processed(
        p_id      in  number,
        p_marked  out boolean,
        p_status  in  varchar2 default 'PROCESSED',
        p_error   in  varchar2 default null
    )
    is
    begin
        -- NEW is not a final state: refuse it rather than leave processed_at set on a NEW row.
        -- Any other unknown value fails the table's sms_inbound_status_ck.
        if p_status is null or p_status = 'NEW' then
            raise value_error;
        end if;
        -- sys_extract_utc, not utc_now: a function declared only in the body cannot be
        -- called from SQL (PLS-00231).
        update sms_inbound
           set status = p_status,
               error_message = substr(p_error, 1, 1000),
               processed_at = sys_extract_utc(systimestamp)
         where id = p_id
           and status = 'NEW';
        p_marked := sql%rowcount = 1;
    end mark_processed;

    procedure mark_processed(
        p_id      in number,
        p_status  in varchar2 default 'PROCESSED',
        p_error   in varchar2 default null
    )
    is
        l_marked  boolean;
    begin
        mark_processed(p_id, l_marked, p_status, p_error);
    end mark_processed;

    function replies_for(p_outbound_id in number) return sys_refcursor
    is
        l_replies  sys_refcursor;
    begin
        -- sms_inbound_outbound_ix (outbound_id).
        open l_replies for
            select *
              from sms_inbound
             where outbound_id = p_outbound_id
             order by id;
        return l_replies;
    end replies_for;
end sms_inbound_api;
/
