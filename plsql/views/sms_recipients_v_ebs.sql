-- sms_recipients_v for Oracle E-Business Suite HRMS. NOT part of the default install: run it
-- instead of demo/sms_recipients_v.sql (see docs/oracle.md, "E-Business Suite").
--
-- Recipients are current employees and contingent workers (recipient_type 'EMPLOYEE',
-- recipient_id = person_id as text); HR is the only source. Unlike the default view it does not
-- read sms_contacts (what `sms-bridge recipients import` loads): this file runs before the
-- install, which creates that table. To address imported contacts too, re-create the view
-- after the install with `union all select recipient_type, recipient_id, full_name,
-- mobile_number, time_zone, manager_email from sms_contacts where recipient_type <> 'EMPLOYEE'`
-- (one row per recipient). Every HR table is read date-effectively as of today, so
-- future-dated and ended rows are ignored:
--   mobile_number  the person's mobile (PER_PHONES, PHONE_TYPE 'M'); when several are current,
--                  the one that started last. Null when there is none: the person is still a
--                  recipient and the bridge records the message as INVALID (no number) rather
--                  than enqueue failing, so the HR process sees why it was not sent.
--                  With views/sms_recipient_phones_v_ebs.sql the bridge chooses among every
--                  current phone of the person instead (this column is then the fallback).
--   time_zone      null: the bridge derives it from the number, else the sender's default.
--   manager_email  the email of the supervisor on the primary assignment.
-- Scalar subqueries (not joins) keep one row per person even with several current phones,
-- and Oracle skips them when a query does not select those columns (sms_api's existence check).
-- Unqualified names resolve in APPS; in a custom schema create private synonyms for the HR
-- tables, with SELECT granted directly to the schema owner (a definer-rights view ignores roles).
-- recipient_id is to_char(person_id): a lookup by it cannot use PER_ALL_PEOPLE_F's primary key
-- index; see docs/oracle.md for the cost on large HR tables and what to do about it.
create or replace view sms_recipients_v (
    recipient_type, recipient_id, display_name, mobile_number, time_zone, manager_email
) as
select cast('EMPLOYEE' as varchar2(30)),
       -- Bare, not cast to varchar2(64): the cast would hide to_char(person_id) from a
       -- function-based index on it (docs/oracle.md, the cost note).
       to_char(p.person_id),
       p.full_name,
       (select max(ph.phone_number) keep (dense_rank last order by ph.date_from, ph.phone_id)
          from per_phones ph
         where ph.parent_id = p.person_id
           and ph.parent_table = 'PER_ALL_PEOPLE_F'
           and ph.phone_type = 'M'
           and trunc(sysdate) between ph.date_from and nvl(ph.date_to, trunc(sysdate))),
       cast(null as varchar2(64)),
       (select max(sup.email_address)
          from per_all_assignments_f a
          join per_all_people_f sup
            on sup.person_id = a.supervisor_id
           and trunc(sysdate) between sup.effective_start_date and sup.effective_end_date
         where a.person_id = p.person_id
           and a.primary_flag = 'Y'
           and a.assignment_type in ('E', 'C')
           and trunc(sysdate) between a.effective_start_date and a.effective_end_date)
  from per_all_people_f p
 where trunc(sysdate) between p.effective_start_date and p.effective_end_date
   and (p.current_employee_flag = 'Y' or p.current_npw_flag = 'Y');
