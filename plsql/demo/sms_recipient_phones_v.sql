-- The recipients' numbers: one row per number, preference 1 = first choice. The bridge sends
-- to the first usable one (a valid number that can receive SMS and has not opted out;
-- bridge/domain/phone_choice.py) and records which one it took and why it skipped the others.
-- A recipient without rows here gets sms_recipients_v.mobile_number, as before this view
-- existed (and a site without the view at all sends to mobile_number only).
-- This default lists every recipient's mobile_number of sms_recipients_v as preference 1
-- (so contacts, imported numbers and a site's own sms_recipients_v keep working), then the
-- extra numbers of the demo employees (hr_demo_phones, after it) unless a contact replaces
-- the employee. The EBS variant is views/sms_recipient_phones_v_ebs.sql. Not read by sms_api.
create or replace view sms_recipient_phones_v (
    recipient_type, recipient_id, phone_number, phone_type, preference
) as
select r.recipient_type,
       r.recipient_id,
       r.mobile_number,
       cast('M' as varchar2(30)),
       cast(1 as number(4))
  from sms_recipients_v r
 where r.mobile_number is not null
union all
select cast('EMPLOYEE' as varchar2(30)),
       cast(to_char(p.employee_id) as varchar2(64)),
       p.phone_number,
       p.phone_type,
       cast(p.preference + 1 as number(4))
  from hr_demo_phones p
 where not exists (select 1
                     from sms_contacts c
                    where c.recipient_type = 'EMPLOYEE'
                      and c.recipient_id = to_char(p.employee_id));
