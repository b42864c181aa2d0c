-- Demo HR data and the default recipients view (SQLite mirror of plsql/demo/).
-- Sites map sms_recipients_v onto their own HR data (see plsql/views/sms_recipients_v_ebs.sql)
-- or keep their recipients in sms_contacts, which this default view reads too.

CREATE TABLE IF NOT EXISTS hr_demo_employees (
    employee_id    INTEGER PRIMARY KEY,
    full_name      TEXT NOT NULL,
    mobile_number  TEXT,
    time_zone      TEXT,
    email          TEXT,
    manager_id     INTEGER REFERENCES hr_demo_employees (employee_id)
);

-- Demo Apache Fineract staff and clients (recipient types STAFF and CLIENT of the view below).
CREATE TABLE IF NOT EXISTS fin_demo_staff (
    staff_id       INTEGER PRIMARY KEY,
    display_name   TEXT NOT NULL,
    mobile_number  TEXT,
    time_zone      TEXT,
    email          TEXT
);

CREATE TABLE IF NOT EXISTS fin_demo_clients (
    client_id      INTEGER PRIMARY KEY,
    display_name   TEXT NOT NULL,
    mobile_number  TEXT,
    time_zone      TEXT,
    staff_id       INTEGER REFERENCES fin_demo_staff (staff_id)
);

-- Replaced on every install, as Oracle's CREATE OR REPLACE VIEW does (so an existing database
-- gets the current view; a site with its own view installs with --no-demo). The demo
-- employees (EMPLOYEE), Fineract clients (CLIENT) and staff (STAFF), and sms_contacts (any
-- type), one row per recipient: a contact replaces the demo row of its type and id.
DROP VIEW IF EXISTS sms_recipients_v;
CREATE VIEW sms_recipients_v AS
SELECT 'EMPLOYEE'                AS recipient_type,
       CAST(e.employee_id AS TEXT) AS recipient_id,
       e.full_name               AS display_name,
       e.mobile_number           AS mobile_number,
       e.time_zone               AS time_zone,
       m.email                   AS manager_email
  FROM hr_demo_employees e
  LEFT JOIN hr_demo_employees m ON m.employee_id = e.manager_id
 WHERE NOT EXISTS (SELECT 1 FROM sms_contacts c
                    WHERE c.recipient_type = 'EMPLOYEE'
                      AND c.recipient_id = CAST(e.employee_id AS TEXT))
UNION ALL
SELECT 'CLIENT', CAST(k.client_id AS TEXT), k.display_name, k.mobile_number, k.time_zone,
       o.email
  FROM fin_demo_clients k
  LEFT JOIN fin_demo_staff o ON o.staff_id = k.staff_id
 WHERE NOT EXISTS (SELECT 1 FROM sms_contacts c
                    WHERE c.recipient_type = 'CLIENT'
                      AND c.recipient_id = CAST(k.client_id AS TEXT))
UNION ALL
SELECT 'STAFF', CAST(s.staff_id AS TEXT), s.display_name, s.mobile_number, s.time_zone, NULL
  FROM fin_demo_staff s
 WHERE NOT EXISTS (SELECT 1 FROM sms_contacts c
                    WHERE c.recipient_type = 'STAFF'
                      AND c.recipient_id = CAST(s.staff_id AS TEXT))
UNION ALL
SELECT c.recipient_type, c.recipient_id, c.full_name, c.mobile_number, c.time_zone,
       c.manager_email
  FROM sms_contacts c;

-- More numbers of the demo employees (plsql/demo/hr_demo_phones.sql): after each one's
-- mobile_number in sms_recipient_phones_v, preference 1 here being its second choice.
CREATE TABLE IF NOT EXISTS hr_demo_phones (
    employee_id    INTEGER NOT NULL REFERENCES hr_demo_employees (employee_id),
    phone_number   TEXT NOT NULL,
    phone_type     TEXT NOT NULL,
    preference     INTEGER NOT NULL,
    PRIMARY KEY (employee_id, phone_number)
);

-- Every recipient's numbers, one row per number, preference 1 = first choice (the worker
-- sends to the first usable one; plsql/demo/sms_recipient_phones_v.sql): mobile_number of
-- sms_recipients_v first, then the demo employees' extra numbers unless a contact replaces
-- the employee. Replaced on every install, like sms_recipients_v.
DROP VIEW IF EXISTS sms_recipient_phones_v;
CREATE VIEW sms_recipient_phones_v AS
SELECT r.recipient_type AS recipient_type,
       r.recipient_id   AS recipient_id,
       r.mobile_number  AS phone_number,
       'M'              AS phone_type,
       1                AS preference
  FROM sms_recipients_v r
 WHERE r.mobile_number IS NOT NULL
UNION ALL
SELECT 'EMPLOYEE', CAST(p.employee_id AS TEXT), p.phone_number, p.phone_type, p.preference + 1
  FROM hr_demo_phones p
 WHERE NOT EXISTS (SELECT 1 FROM sms_contacts c
                    WHERE c.recipient_type = 'EMPLOYEE'
                      AND c.recipient_id = CAST(p.employee_id AS TEXT));

-- Certifications of the demo employees (the HR story: reminders before they expire).
CREATE TABLE IF NOT EXISTS hr_demo_certifications (
    cert_id                  INTEGER PRIMARY KEY,
    employee_id              INTEGER NOT NULL REFERENCES hr_demo_employees (employee_id),
    cert_name                TEXT NOT NULL,
    expires_on               TEXT NOT NULL,  -- 'YYYY-MM-DD' (a DATE in Oracle)
    status                   TEXT NOT NULL DEFAULT 'ACTIVE'
                                 CHECK (status IN ('ACTIVE', 'RENEWAL_CONFIRMED', 'FLAGGED')),
    reminder_outbound_id     INTEGER REFERENCES sms_outbound (id),
    acknowledged_at          TEXT,
    acknowledged_inbound_id  INTEGER REFERENCES sms_inbound (id),
    flagged_reason           TEXT
);
CREATE INDEX IF NOT EXISTS hr_demo_certifications_exp_ix
    ON hr_demo_certifications (status, expires_on);

-- Every reply to the HR number goes to the certification handler (Python twin in embedded
-- mode: bridge/hr_certs.py; Oracle: plsql/demo/hr/hr_keywords.sql). Inserted only when
-- missing, so a site that switched the rule off keeps it off after a re-install.
INSERT OR IGNORE INTO sms_keywords (keyword, sender_code, action, handler, active)
VALUES ('*', 'HR', 'HANDLER', 'hr_cert_sms.on_reply', 'Y');
