-- The recipients view: the one place a site maps onto its HR data. sms_api.enqueue checks that
-- (recipient_type, recipient_id) exists here; the bridge reads mobile_number (resolved at send
-- time), time_zone (quiet hours; null = derive from the number) and manager_email (digests).
-- This default reads the demo table; the EBS variant is views/sms_recipients_v_ebs.sql.
-- The CASTs fix the column types (not CHAR(8) for the literal) so every variant looks alike.
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
  left join hr_demo_employees m on m.employee_id = e.manager_id;
