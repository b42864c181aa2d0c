-- One row per schema version installed. `sms-bridge db install` (and plsql/data/) records the
-- version it installed, so an upgrade can tell what it is upgrading from.
create table sms_schema_version (
    version       number(9)          not null,
    description   varchar2(200 char)      not null,
    -- UTC, written by the installer (no SYSTIMESTAMP default: callers own the clock).
    installed_at  timestamp(6)       not null,
    constraint sms_schema_version_pk primary key (version)
);
