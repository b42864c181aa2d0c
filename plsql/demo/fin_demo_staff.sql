-- Demo Apache Fineract staff (its m_staff) behind the default sms_recipients_v, as recipient_type
-- 'STAFF': POST /sms {"staffId": ...} and GET /sms?staffId= work without a site view
-- (mirror of bridge/store/demo_sqlite.sql). A site maps the view onto its own tables instead.
create table fin_demo_staff (
    staff_id       number(10)          not null,
    display_name   varchar2(200 char)  not null,
    mobile_number  varchar2(32),
    time_zone      varchar2(64),
    email          varchar2(254),
    constraint fin_demo_staff_pk primary key (staff_id)
);
