-- SQLite mirror of the Oracle tables in plsql/tables/*.sql: same table and column names
-- (tests/plsql/test_schema_parity.py keeps them equal). Timestamps are ISO-8601 UTC text
-- written by Python ('YYYY-MM-DDTHH:MM:SS.ffffff+00:00' sorts like the instant it names).
-- Every statement is idempotent, so `sms-bridge db install` can run it again.

CREATE TABLE IF NOT EXISTS sms_schema_version (
    version       INTEGER PRIMARY KEY,
    description   TEXT NOT NULL,
    installed_at  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS sms_senders (
    code                   TEXT PRIMARY KEY,
    description            TEXT,
    from_number            TEXT,
    messaging_service_sid  TEXT,
    mps                    REAL NOT NULL DEFAULT 1 CHECK (mps > 0),
    quiet_start            TEXT,
    quiet_end              TEXT,
    default_time_zone      TEXT NOT NULL DEFAULT 'UTC',
    help_text              TEXT,
    active                 TEXT NOT NULL DEFAULT 'Y' CHECK (active IN ('Y', 'N')),
    validity_seconds       INTEGER CHECK (validity_seconds BETWEEN 1 AND 36000),
    line_type_lookup       TEXT NOT NULL DEFAULT 'N' CHECK (line_type_lookup IN ('Y', 'N')),
    twilio_account         TEXT,
    dedupe_window_seconds  INTEGER CHECK (dedupe_window_seconds BETWEEN 1 AND 2592000),
    tokens                 REAL NOT NULL DEFAULT 0,
    tokens_at              TEXT,
    created_at             TEXT NOT NULL,
    CHECK (from_number IS NOT NULL OR messaging_service_sid IS NOT NULL)
);

CREATE TABLE IF NOT EXISTS sms_batches (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT NOT NULL CHECK (source IN ('PLSQL', 'CSV', 'REST')),
    label        TEXT,
    created_by   TEXT,
    rejected     INTEGER NOT NULL DEFAULT 0 CHECK (rejected >= 0),
    created_at   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS sms_outbound (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_code      TEXT NOT NULL REFERENCES sms_senders (code),
    recipient_type   TEXT,
    recipient_id     TEXT,
    to_number        TEXT,
    body             TEXT NOT NULL,
    priority         INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 3),
    status           TEXT NOT NULL DEFAULT 'QUEUED' CHECK (status IN (
                         'QUEUED', 'SENDING', 'SUBMITTED', 'SENT', 'DELIVERED', 'UNDELIVERED',
                         'FAILED', 'SUPPRESSED', 'INVALID', 'EXPIRED', 'CANCELED')),
    status_reason    TEXT,
    reference        TEXT,
    reply_code       TEXT,
    source_system    TEXT,
    correlation_key  TEXT,
    send_after       TEXT,
    expires_at       TEXT,
    next_attempt_at  TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    claimed_by       TEXT,
    claimed_at       TEXT,
    lease_until      TEXT,
    provider_sid     TEXT UNIQUE,
    provider_status  TEXT,
    error_code       INTEGER,
    error_message    TEXT,
    num_segments     INTEGER,
    encoding         TEXT,
    created_by       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    submitted_at     TEXT,
    final_at         TEXT,
    batch_id         INTEGER REFERENCES sms_batches (id),
    duplicate_of     INTEGER,
    price            REAL,
    price_unit       TEXT,
    purged_at        TEXT,
    CHECK ((recipient_type IS NULL) = (recipient_id IS NULL)),
    CHECK (recipient_id IS NOT NULL OR to_number IS NOT NULL),
    CHECK ((source_system IS NULL) = (correlation_key IS NULL)),
    UNIQUE (source_system, correlation_key)
);

-- The ready set: claim and the idle probe read only QUEUED rows through this index, so their
-- cost does not grow with the history of final rows. id before next_attempt_at, so the
-- claim's ORDER BY priority, id follows the index instead of sorting every waiting row.
CREATE INDEX IF NOT EXISTS sms_outbound_ready_ix
    ON sms_outbound (status, sender_code, priority, id, next_attempt_at);
CREATE INDEX IF NOT EXISTS sms_outbound_due_ix ON sms_outbound (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS sms_outbound_sync_ix ON sms_outbound (status, submitted_at);
CREATE INDEX IF NOT EXISTS sms_outbound_recipient_ix
    ON sms_outbound (recipient_type, recipient_id, created_at);
CREATE INDEX IF NOT EXISTS sms_outbound_to_ix ON sms_outbound (to_number, created_at);
CREATE INDEX IF NOT EXISTS sms_outbound_reply_code_ix ON sms_outbound (reply_code);
CREATE INDEX IF NOT EXISTS sms_outbound_created_ix ON sms_outbound (created_at);
CREATE INDEX IF NOT EXISTS sms_outbound_creator_ix ON sms_outbound (created_by, id);
CREATE INDEX IF NOT EXISTS sms_outbound_batch_ix ON sms_outbound (batch_id);
-- The dedupe window's look-back and the retention backlog (see plsql/indexes/ for why).
CREATE INDEX IF NOT EXISTS sms_outbound_dedupe_ix
    ON sms_outbound (to_number, sender_code, submitted_at);
CREATE INDEX IF NOT EXISTS sms_outbound_purge_ix ON sms_outbound (purged_at, final_at, id);

CREATE TABLE IF NOT EXISTS sms_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    outbound_id      INTEGER NOT NULL REFERENCES sms_outbound (id),
    event_at         TEXT NOT NULL,
    status           TEXT NOT NULL,
    provider_status  TEXT,
    error_code       INTEGER,
    source           TEXT NOT NULL CHECK (source IN ('api', 'cli', 'bridge', 'callback', 'sync', 'recovery')),
    applied          TEXT NOT NULL DEFAULT 'Y' CHECK (applied IN ('Y', 'N')),
    detail           TEXT,
    callback_key     TEXT
);
CREATE INDEX IF NOT EXISTS sms_events_outbound_ix ON sms_events (outbound_id, id);
CREATE UNIQUE INDEX IF NOT EXISTS sms_events_callback_ux ON sms_events (callback_key);
CREATE INDEX IF NOT EXISTS sms_events_source_ix ON sms_events (source, event_at);

CREATE TABLE IF NOT EXISTS sms_inbound (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    message_sid      TEXT NOT NULL UNIQUE,
    account_sid      TEXT,
    from_number      TEXT NOT NULL,
    to_number        TEXT NOT NULL,
    body             TEXT,
    num_media        INTEGER NOT NULL DEFAULT 0,
    keyword          TEXT,
    outbound_id      INTEGER REFERENCES sms_outbound (id),
    match_method     TEXT CHECK (match_method IN ('REFERENCE', 'LATEST', 'AMBIGUOUS', 'NONE')),
    recipient_type   TEXT,
    recipient_id     TEXT,
    status           TEXT NOT NULL DEFAULT 'NEW'
                         CHECK (status IN ('NEW', 'PROCESSED', 'IGNORED', 'ERROR')),
    error_message    TEXT,
    raw_payload      TEXT,
    received_at      TEXT NOT NULL,
    processed_at     TEXT,
    purged_at        TEXT
);
CREATE INDEX IF NOT EXISTS sms_inbound_status_ix ON sms_inbound (status, id);
CREATE INDEX IF NOT EXISTS sms_inbound_outbound_ix ON sms_inbound (outbound_id);
CREATE INDEX IF NOT EXISTS sms_inbound_from_ix ON sms_inbound (from_number, received_at);
CREATE INDEX IF NOT EXISTS sms_inbound_purge_ix ON sms_inbound (purged_at, processed_at, id);

CREATE TABLE IF NOT EXISTS sms_optouts (
    phone_number  TEXT NOT NULL,
    scope         TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('OPTED_OUT', 'OPTED_IN')),
    keyword       TEXT,
    source        TEXT NOT NULL,
    changed_at    TEXT NOT NULL,
    PRIMARY KEY (phone_number, scope)
);

CREATE TABLE IF NOT EXISTS sms_keywords (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    keyword      TEXT NOT NULL,
    sender_code  TEXT NOT NULL DEFAULT '*',
    action       TEXT NOT NULL CHECK (action IN ('OPT_OUT', 'OPT_IN', 'HELP', 'HANDLER')),
    handler      TEXT,
    reply_text   TEXT,
    active       TEXT NOT NULL DEFAULT 'Y' CHECK (active IN ('Y', 'N')),
    UNIQUE (keyword, sender_code),
    CHECK (action <> 'HANDLER' OR handler IS NOT NULL)
);

CREATE TABLE IF NOT EXISTS sms_api_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    key_prefix    TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    scopes        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT,
    last_used_at  TEXT
);

CREATE TABLE IF NOT EXISTS sms_job_runs (
    job_name      TEXT PRIMARY KEY,
    last_run_at   TEXT NOT NULL,
    run_by        TEXT
);

-- Recipients kept in the bridge itself (`sms-bridge recipients import`); the default
-- sms_recipients_v (demo_sqlite.sql) reads them beside the demo employees. mobile_number is
-- E.164, normalised at import; the CHECKs are those of plsql/tables/sms_contacts.sql.
CREATE TABLE IF NOT EXISTS sms_contacts (
    recipient_type  TEXT NOT NULL CHECK (recipient_type = upper(recipient_type)),
    recipient_id    TEXT NOT NULL,
    full_name       TEXT,
    mobile_number   TEXT NOT NULL CHECK (
                        mobile_number GLOB '+[1-9]*'
                        AND substr(mobile_number, 2) NOT GLOB '*[^0-9]*'
                        AND length(mobile_number) BETWEEN 3 AND 16),
    time_zone       TEXT,
    manager_email   TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (recipient_type, recipient_id)
);

-- Twilio Lookup v2 line types, by number (plsql/tables/sms_number_lookups.sql): a cache the
-- worker reads before the first send to a +1 number of a sender with line_type_lookup = 'Y'.
CREATE TABLE IF NOT EXISTS sms_number_lookups (
    phone_number  TEXT PRIMARY KEY,
    line_type     TEXT NOT NULL,
    carrier       TEXT,
    looked_up_at  TEXT NOT NULL,
    error_code    INTEGER
);
