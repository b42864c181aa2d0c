-- More numbers of the demo employees (mirror of bridge/store/demo_sqlite.sql), read by the
-- default sms_recipient_phones_v after each employee's mobile_number: preference 1 here is the
-- employee's second choice. phone_type is free text for the bridge (it is shown in the event
-- that records which number was used); the demo uses EBS's PHONE_TYPE codes (M mobile, W1
-- work, H1 home). A site drops this table with the demo.
create table hr_demo_phones (
    employee_id    number(10)     not null,
    phone_number   varchar2(32)   not null,
    phone_type     varchar2(30)   not null,
    preference     number(3)      not null,
    constraint hr_demo_phones_pk primary key (employee_id, phone_number),
    constraint hr_demo_phones_employee_fk
        foreign key (employee_id) references hr_demo_employees (employee_id)
);
