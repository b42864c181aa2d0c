-- sms_recipient_phones_v for Oracle E-Business Suite HRMS. NOT part of the default install:
-- run it with views/sms_recipients_v_ebs.sql, instead of demo/sms_recipient_phones_v.sql (see
-- docs/oracle.md, "E-Business Suite"). Without it the bridge sends to the one mobile of
-- sms_recipients_v.mobile_number.
--
-- The current phones that can take an SMS of the recipients of sms_recipients_v_ebs.sql
-- (current employees and contingent workers, recipient_type 'EMPLOYEE', recipient_id =
-- person_id as text): each PER_PHONES row of the person (PARENT_TABLE 'PER_ALL_PEOPLE_F') that
-- is current today (date_from/date_to) and whose PHONE_TYPE is in the whitelist below. The
-- seeded PHONE_TYPE lookup also holds types no SMS reaches (HF home fax, WF work fax, P pager,
-- ASST the assistant's phone, and any other code): those are left out, so the bridge never
-- texts a fax, a pager or a colleague. preference 1 is the first choice: by the type's rank
-- in the whitelist (M mobile first, then W1 work, H1 home, W2, H2, H3, W3), then the one that
-- started last, then the highest phone_id. The bridge takes the first usable number: valid,
-- mobile or possibly mobile by phonenumbers (a fixed line is skipped, so a home phone is never
-- texted where phonenumbers knows it is fixed; in the NANP it cannot tell), not opted out, and
-- records which one it used and why it skipped the others (an sms_events row of the message).
-- To change the whitelist (a site's own mobile code, say 'MW' for a work mobile, or a type to
-- leave out), edit the one CASE below and re-run this file: a code with a rank is taken, at
-- that rank (equal ranks are ordered by date); a code without one (the ELSE, null) is never
-- offered. Codes are the lookup's LOOKUP_CODE (select lookup_code, meaning from
-- hr_lookups where lookup_type = 'PHONE_TYPE').
-- A person without current whitelisted phones has no rows; the bridge then reads
-- mobile_number (null: INVALID, "no mobile number on record").
-- Same grants and synonyms as sms_recipients_v_ebs.sql. recipient_id is to_char(parent_id),
-- with no CAST around it, so that a function-based index on to_char(parent_id) can serve the
-- bridge's lookup (recipient_id = :recipient_id, bound as VARCHAR2); without one the lookup
-- cannot use PER_PHONES' index on parent_id; see docs/oracle.md for the cost.
create or replace view sms_recipient_phones_v (
    recipient_type, recipient_id, phone_number, phone_type, preference
) as
select cast('EMPLOYEE' as varchar2(30)),
       ph.recipient_id,
       ph.phone_number,
       cast(ph.phone_type as varchar2(30)),
       -- Partitioned by the very column the bridge filters on: Oracle pushes a predicate
       -- past row_number() only when it is on the PARTITION BY key, so the lookup reaches
       -- PER_PHONES (and an index on to_char(parent_id)) instead of numbering every row.
       cast(row_number() over (
                partition by ph.recipient_id
                order by ph.type_rank,
                         ph.date_from desc,
                         ph.phone_id desc) as number(4))
  from (select to_char(p.parent_id) as recipient_id,
               p.phone_number, p.phone_type, p.date_from, p.phone_id,
               -- The whitelist: the types that can receive an SMS, by rank (1 first).
               case p.phone_type
                   when 'M'  then 1
                   when 'W1' then 2
                   when 'H1' then 3
                   when 'W2' then 4
                   when 'H2' then 5
                   when 'H3' then 6
                   when 'W3' then 7
               end as type_rank
          from per_phones p
         where p.parent_table = 'PER_ALL_PEOPLE_F'
           and p.phone_number is not null
           and trunc(sysdate) between p.date_from and nvl(p.date_to, trunc(sysdate))
           and exists (select 1
                         from per_all_people_f pp
                        where pp.person_id = p.parent_id
                          and trunc(sysdate) between pp.effective_start_date
                                                 and pp.effective_end_date
                          and (pp.current_employee_flag = 'Y' or pp.current_npw_flag = 'Y'))
       ) ph
 where ph.type_rank is not null;
