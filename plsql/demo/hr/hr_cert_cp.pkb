create or replace package body hr_cert_cp
as
    -- errbuf is shown as the request's completion text: keep it to one short line.
    c_errbuf_max  constant pls_integer := 240;

    -- A line for the request log: FND_FILE.LOG inside EBS (where the concurrent manager reads
    -- it), DBMS_OUTPUT elsewhere. Dynamic, so the package needs no FND objects to compile.
    procedure log_line(p_text in varchar2)
    is
    begin
        execute immediate 'begin fnd_file.put_line(fnd_file.log, :line); end;' using p_text;
    exception
        when others then  -- ORA-06550 (no FND_FILE here), or FND_FILE not initialised
            begin
                dbms_output.put_line(substr(p_text, 1, 32767));
            exception
                when others then  -- a full buffer (ORU-10027) must not make the wrapper raise
                    null;
            end;
    end log_line;

    function one_line(p_text in varchar2) return varchar2
    is
    begin
        -- substrb: the concurrent manager's buffer may count bytes, and sqlerrm can be
        -- translated text.
        return substrb(replace(replace(p_text, chr(13), ' '), chr(10), ' '), 1, c_errbuf_max);
    end one_line;

    -- A parameter that must be a whole number of at least 0; raises VALUE_ERROR otherwise.
    -- NLS-independent: digits only, no group or decimal separators.
    function whole_number(p_text in varchar2) return pls_integer
    is
        l_text varchar2(4000) := trim(p_text);
    begin
        if l_text is null or not regexp_like(l_text, '^[0123456789]{1,9}$') then
            raise value_error;
        end if;
        return to_number(l_text);
    end whole_number;

    procedure queue_reminders(
        errbuf        out varchar2,
        retcode       out varchar2,
        p_days_ahead  in  varchar2 default '14',
        p_commit      in  varchar2 default 'Y'
    )
    is
        l_days       pls_integer;
        l_queued     pls_integer;
        l_skipped    pls_integer;
        l_error      varchar2(4000);
        l_backtrace  varchar2(4000);
    begin
        begin
            -- The manager passes an empty optional parameter as NULL, not as the default.
            l_days := whole_number(nvl(p_days_ahead, '14'));
        exception
            when value_error then
                retcode := c_error;
                errbuf := one_line('p_days_ahead: ''' || p_days_ahead
                                   || ''' is not a whole number of days (0 or more)');
                log_line(errbuf);
                return;
        end;
        -- hr_cert_sms.queue_expiring undoes its own work when it raises (a savepoint).
        hr_cert_sms.queue_expiring(
            p_days_ahead => l_days,
            p_today      => trunc(sysdate),
            p_queued     => l_queued,
            p_skipped    => l_skipped
        );
        if upper(p_commit) = 'Y' then
            commit;
        end if;
        errbuf := one_line(l_queued || ' reminder(s) queued, ' || l_skipped
                           || ' certification(s) skipped (employee not a recipient), window '
                           || l_days || ' day(s)');
        retcode := case when l_skipped > 0 then c_warning else c_normal end;
        log_line(errbuf);
    exception
        when others then
            -- First: log_line's own handled errors would replace them.
            l_error := sqlerrm;
            l_backtrace := dbms_utility.format_error_backtrace;
            -- queue_expiring has undone its own reminders; the request's transaction goes too,
            -- unless the caller owns it.
            if upper(p_commit) = 'Y' then
                rollback;
            end if;
            retcode := c_error;
            errbuf := one_line('hr_cert_sms.queue_expiring failed: ' || l_error);
            log_line(errbuf);
            log_line(l_backtrace);
    end queue_reminders;

    procedure process_replies(
        errbuf    out varchar2,
        retcode   out varchar2,
        p_limit   in  varchar2 default '100'
    )
    is
        l_limit      pls_integer;
        l_started    timestamp := sys_extract_utc(systimestamp);
        l_errors     pls_integer;
        l_error      varchar2(4000);
        l_backtrace  varchar2(4000);
    begin
        begin
            -- hr_cert_sms.process_replies takes 1 to 1000 a run: say what it will do.
            l_limit := least(greatest(whole_number(nvl(p_limit, '100')), 1), 1000);
        exception
            when value_error then
                retcode := c_error;
                errbuf := one_line('p_limit: ''' || p_limit
                                   || ''' is not a whole number of replies (0 or more)');
                log_line(errbuf);
                return;
        end;
        hr_cert_sms.process_replies(p_limit => l_limit);  -- commits itself
        -- Replies marked ERROR since this run started (processed_at is UTC, as l_started):
        -- this run's, and any the bridge's dispatcher marked meanwhile, which need a look too.
        select count(*)
          into l_errors
          from sms_inbound
         where status = 'ERROR'
           and processed_at >= l_started;
        errbuf := one_line('replies processed (at most ' || l_limit || '); '
                           || l_errors || ' reply(ies) in ERROR since the run started');
        retcode := case when l_errors > 0 then c_warning else c_normal end;
        log_line(errbuf);
    exception
        when others then
            l_error := sqlerrm;
            l_backtrace := dbms_utility.format_error_backtrace;
            rollback;
            retcode := c_error;
            errbuf := one_line('hr_cert_sms.process_replies failed: ' || l_error);
            log_line(errbuf);
            log_line(l_backtrace);
    end process_replies;
end hr_cert_cp;
/
