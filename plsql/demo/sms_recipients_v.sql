-- The recipients view: the one place a site maps onto its HR data. sms_api.enqueue checks that
-- (recipient_type, recipient_id) exists here; the bridge reads mobile_number (resolved at send
-- time), time_zone (quiet hours; null = derive from the number) and manager_email (digests).
-- This default reads the demo tables (recipient_type 'EMPLOYEE' from hr_demo_employees, and
-- Apache Fineract's 'CLIENT' and 'STAFF' from fin_demo_clients / fin_demo_staff, so clientId and
-- staffId work without a site view) and sms_contacts (any type, loaded with `sms-bridge
-- recipients import`); the EBS variant is views/sms_recipients_v_ebs.sql. One row per
-- (recipient_type, recipient_id): a contact replaces the demo row of the same type and id, so
-- an import can correct a demo number. A client's manager_email is its loan officer's.
-- The CASTs fix the column types (not CHAR(8) for the literal) so every variant looks alike;
-- sms_contacts' columns already have those types.
create or replace view sms_recipients_v (
    recipient_type, recipient_id, display_name, mobile_number, time_zone, manager_email
) as
select cast('EMPLOYEE' as varchar2(30)),
       cast(to_char(e.employee_id) as varchar2(64)),
       e.full_name,
       e.mobile_number,
       e.time_zone,
       m.email
  from hr_demo_employees e
  left join hr_demo_employees m on m.employee_id = e.manager_id
 where not exists (select 1
                     from sms_contacts c
                    where c.recipient_type = 'EMPLOYEE'
                      and c.recipient_id = to_char(e.employee_id))
union all
select cast('CLIENT' as varchar2(30)),
       cast(to_char(k.client_id) as varchar2(64)),
       k.display_name,
       k.mobile_number,
       k.time_zone,
       o.email
  from fin_demo_clients k
  left join fin_demo_staff o on o.staff_id = k.staff_id
 where not exists (select 1
                     from sms_contacts c
                    where c.recipient_type = 'CLIENT'
                      and c.recipient_id = to_char(k.client_id))
union all
select cast('STAFF' as varchar2(30)),
       cast(to_char(s.staff_id) as varchar2(64)),
       s.display_name,
       s.mobile_number,
       s.time_zone,
       cast(null as varchar2(254))
  from fin_demo_staff s
 where not exists (select 1
                     from sms_contacts c
                    where c.recipient_type = 'STAFF'
                      and c.recipient_id = to_char(s.staff_id))
union all
select c.recipient_type,
       c.recipient_id,
       c.full_name,
       c.mobile_number,
       c.time_zone,
       c.manager_email
  from sms_contacts c;
