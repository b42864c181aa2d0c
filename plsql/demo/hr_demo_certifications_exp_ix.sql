-- hr_cert_sms.queue_expiring reads the ACTIVE certifications expiring in a window:
-- status = 'ACTIVE' and expires_on between two days, served by (status, expires_on).
-- The foreign keys are deliberately not indexed: this is a small demo table, and the schema
-- parity test keeps Oracle's non-key indexes equal to SQLite's.
create index hr_demo_certifications_exp_ix
    on hr_demo_certifications (status, expires_on);
