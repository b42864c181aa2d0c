-- One row per use case / sending identity (HR, IT, ...). The bridge meters each sender at `mps`
-- segments per second with a token bucket kept in (tokens, tokens_at); it updates those two
-- columns under a row lock, which is why sms_api.enqueue never locks this row.
create table sms_senders (
    code                   varchar2(30)    not null,
    description            varchar2(200 char),
    -- E.164 number or alphanumeric sender id; or a Twilio Messaging Service (MG + 32 hex).
    from_number            varchar2(32),
    messaging_service_sid  varchar2(64),
    mps                    number          default 1 not null,
    -- Quiet-hours window as 'HH:MM' local to the recipient; both null means no quiet hours.
    quiet_start            varchar2(5),
    quiet_end              varchar2(5),
    default_time_zone      varchar2(64)    default 'UTC' not null,
    -- Sent as an SMS reply to HELP, so it may hold any character.
    help_text              nvarchar2(2000),
    active                 varchar2(1)     default 'Y' not null,
    -- Twilio's ValidityPeriod (seconds a message may wait in Twilio's queue) for this sender's
    -- messages; a message's own expires_at shortens it. Null: Twilio's default, 36,000.
    validity_seconds       number(5),
    -- 'Y': ask Twilio Lookup v2 (line_type_intelligence) before the first send to a +1 number
    -- and make a landline INVALID without a send (answers cached in sms_number_lookups).
    line_type_lookup       varchar2(1)     default 'N' not null,
    -- The Twilio account (a name of [twilio.accounts.NAME] in the bridge's settings) this
    -- sender's messages go through; null: the default account of [twilio].
    twilio_account         varchar2(30),
    -- Seconds within which the same text to the same number from this sender is not sent
    -- again (SUPPRESSED with duplicate_of, no Twilio call); null: no dedupe.
    dedupe_window_seconds  number(7),
    tokens                 number          default 0 not null,
    tokens_at              timestamp(6),
    created_at             timestamp(6)    not null,
    constraint sms_senders_pk primary key (code),
    constraint sms_senders_mps_ck check (mps > 0),
    constraint sms_senders_active_ck check (active in ('Y', 'N')),
    constraint sms_senders_validity_ck check (validity_seconds between 1 and 36000),
    constraint sms_senders_lookup_ck check (line_type_lookup in ('Y', 'N')),
    constraint sms_senders_dedupe_ck check (dedupe_window_seconds between 1 and 2592000),
    constraint sms_senders_from_ck
        check (from_number is not null or messaging_service_sid is not null)
);
