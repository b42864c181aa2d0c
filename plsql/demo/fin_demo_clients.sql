-- Demo Apache Fineract clients (its m_client) behind the default sms_recipients_v, as
-- recipient_type 'CLIENT': POST /sms {"clientId": ...} and GET /sms?clientId= work without a
-- site view (mirror of bridge/store/demo_sqlite.sql). Each may have a loan officer (staff_id,
-- as m_client.staff_id), who is the manager_email of the client's replies.
create table fin_demo_clients (
    client_id      number(10)          not null,
    display_name   varchar2(200 char)  not null,
    mobile_number  varchar2(32),
    time_zone      varchar2(64),
    staff_id       number(10),
    constraint fin_demo_clients_pk primary key (client_id),
    constraint fin_demo_clients_staff_fk
        foreign key (staff_id) references fin_demo_staff (staff_id)
);
