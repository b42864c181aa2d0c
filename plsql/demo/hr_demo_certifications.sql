-- Demo HR data: certifications of hr_demo_employees, the running example of the HR story
-- (reminders before a certification expires, replies that acknowledge or question it).
-- Mirror of bridge/store/demo_sqlite.sql; tests/plsql keeps columns, keys, foreign keys and
-- CHECK values equal. A site keeps its certifications in its own HR tables and can drop this
-- one together with demo/hr/ (the package that reads it).
create table hr_demo_certifications (
    -- No identity: the demo data sets the ids, which are also the reply codes quoted in the
    -- reminders ("Reply YES 4821"), so they must be stable and the same in both engines.
    cert_id                  number(10)       not null,
    employee_id              number(10)       not null,
    cert_name                varchar2(200 char)   not null,
    -- A calendar day (a DATE without a time of day); SQLite stores 'YYYY-MM-DD'.
    expires_on               date             not null,
    status                   varchar2(20)     default 'ACTIVE' not null,
    -- The latest reminder queued for this certification (hr_cert_sms.queue_expiring).
    reminder_outbound_id     number,
    -- UTC, like every timestamp of the schema (sys_extract_utc(systimestamp)).
    acknowledged_at          timestamp(6),
    -- The reply that confirmed the renewal.
    acknowledged_inbound_id  number,
    -- The reply text that needs the manager's attention. NVARCHAR2(2000), as sms_inbound.body,
    -- so the whole reply fits, whatever its characters and the database character set.
    flagged_reason           nvarchar2(2000),
    constraint hr_demo_certifications_pk primary key (cert_id),
    constraint hr_demo_cert_employee_fk
        foreign key (employee_id) references hr_demo_employees (employee_id),
    constraint hr_demo_cert_reminder_fk
        foreign key (reminder_outbound_id) references sms_outbound (id),
    constraint hr_demo_cert_ack_inbound_fk
        foreign key (acknowledged_inbound_id) references sms_inbound (id),
    constraint hr_demo_cert_status_ck
        check (status in ('ACTIVE', 'RENEWAL_CONFIRMED', 'FLAGGED'))
);
