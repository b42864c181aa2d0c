-- Demo HR data behind the default sms_recipients_v (mirror of bridge/store/demo_sqlite.sql).
-- A site maps sms_recipients_v onto its own HR tables instead (e.g. views/sms_recipients_v_ebs.sql)
-- and can drop this table.
create table hr_demo_employees (
    employee_id    number(10)      not null,
    full_name      varchar2(200 char)  not null,
    mobile_number  varchar2(32),
    time_zone      varchar2(64),
    email          varchar2(254),
    manager_id     number(10),
    constraint hr_demo_employees_pk primary key (employee_id),
    constraint hr_demo_employees_manager_fk
        foreign key (manager_id) references hr_demo_employees (employee_id)
);
