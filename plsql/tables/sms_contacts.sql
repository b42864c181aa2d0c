-- Recipients kept in the bridge itself, for a site without HR tables to map sms_recipients_v
-- onto: `sms-bridge recipients import FILE.csv` upserts them (a whole file in one transaction),
-- and the default sms_recipients_v (demo/sms_recipients_v.sql) reads them beside the demo
-- employees. Mirror of bridge/store/schema_sqlite.sql; the column sizes are also those of
-- bridge/domain/contacts.py, which checks every value before it is bound.
create table sms_contacts (
    -- The pair sms_api.enqueue is given; the same sizes as sms_outbound's.
    recipient_type  varchar2(30)         not null,
    recipient_id    varchar2(64)         not null,
    full_name       varchar2(200 char),
    -- E.164, normalised at import: replies are attributed by comparing their From with it.
    mobile_number   varchar2(32)         not null,
    -- IANA name for quiet hours; null: derived from the number, else the sender's default.
    time_zone       varchar2(64),
    -- Who receives the reply digest.
    manager_email   varchar2(254),
    -- UTC, written by the caller (no SYSTIMESTAMP default).
    created_at      timestamp(6)         not null,
    updated_at      timestamp(6)         not null,
    constraint sms_contacts_pk primary key (recipient_type, recipient_id),
    -- Upper case, as `sms-bridge enqueue --recipient TYPE:ID` writes the type.
    constraint sms_contacts_type_ck check (recipient_type = upper(recipient_type)),
    constraint sms_contacts_mobile_ck
        check (regexp_like(mobile_number, '^[+][1-9][0-9]{1,14}$'))
);
