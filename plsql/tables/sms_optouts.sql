-- Suppression list: one row per (number, scope), scope being a sender number, a Messaging Service
-- SID (MG..., 34 characters: an opt-out covers the service's whole pool) or '*' (STOPALL).
-- Rows are updated, not deleted, so the last keyword and source stay visible (state OPTED_IN).
create table sms_optouts (
    phone_number  varchar2(32)   not null,
    scope         varchar2(40)   not null,
    state         varchar2(10)   not null,
    keyword       varchar2(30 char),
    source        varchar2(30)   not null,
    changed_at    timestamp(6)   not null,
    constraint sms_optouts_pk primary key (phone_number, scope),
    constraint sms_optouts_state_ck check (state in ('OPTED_OUT', 'OPTED_IN'))
);
