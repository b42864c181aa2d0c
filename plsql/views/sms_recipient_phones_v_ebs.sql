-- sms_recipient_phones_v for Oracle E-Business Suite HRMS. NOT part of the default install:
-- run it with views/sms_recipients_v_ebs.sql, instead of demo/sms_recipient_phones_v.sql (see
-- docs/oracle.md, "E-Business Suite"). Without it the bridge sends to the one mobile of
-- sms_recipients_v.mobile_number.
--
-- Every current phone of the recipients of sms_recipients_v_ebs.sql (current employees and
-- contingent workers, recipient_type 'EMPLOYEE', recipient_id = person_id as text): each
-- PER_PHONES row of the person (PARENT_TABLE 'PER_ALL_PEOPLE_F') that is current today
-- (date_from/date_to), with its PHONE_TYPE (M mobile, W1 work, H1 home, ...). preference 1 is
-- the first choice: mobile types first ('M'; add your site's other mobile codes to the CASE),
-- then the one that started last. The bridge takes the first usable number: valid, mobile or
-- possibly mobile by phonenumbers (a fixed line is skipped, so a home phone is never texted
-- where phonenumbers knows it is fixed; in the NANP it cannot tell), not opted out, and records
-- which one it used and why it skipped the others (an sms_events row of the message).
-- A person without current phones has no rows; the bridge then reads mobile_number (null:
-- INVALID, "no mobile number on record").
-- Same grants and synonyms as sms_recipients_v_ebs.sql. recipient_id is to_char(parent_id): a
-- lookup by it cannot use PER_PHONES' index on parent_id; see docs/oracle.md for the cost.
create or replace view sms_recipient_phones_v (
    recipient_type, recipient_id, phone_number, phone_type, preference
) as
select cast('EMPLOYEE' as varchar2(30)),
       cast(to_char(ph.parent_id) as varchar2(64)),
       ph.phone_number,
       cast(ph.phone_type as varchar2(30)),
       cast(row_number() over (
                partition by ph.parent_id
                order by case ph.phone_type when 'M' then 0 else 1 end,
                         ph.date_from desc,
                         ph.phone_id desc) as number(4))
  from per_phones ph
 where ph.parent_table = 'PER_ALL_PEOPLE_F'
   and ph.phone_number is not null
   and trunc(sysdate) between ph.date_from and nvl(ph.date_to, trunc(sysdate))
   and exists (select 1
                 from per_all_people_f p
                where p.person_id = ph.parent_id
                  and trunc(sysdate) between p.effective_start_date and p.effective_end_date
                  and (p.current_employee_flag = 'Y' or p.current_npw_flag = 'Y'));
