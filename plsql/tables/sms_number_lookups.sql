-- Twilio Lookup v2 answers (Fields=line_type_intelligence), one row per E.164 number: what the
-- worker asks before the first send to a +1 number of a sender with line_type_lookup = 'Y'. An
-- answer younger than the TTL (30 days, bridge.domain.line_types) is used without asking again;
-- an older one is asked again and the row updated in place. line_type is Twilio's value
-- (landline, mobile, fixedVoip, nonFixedVoip, tollFree, ... or unknown); error_code is
-- line_type_intelligence.error_code (e.g. 60600), null when Twilio reported none.
create table sms_number_lookups (
    phone_number  varchar2(32)       not null,
    line_type     varchar2(20)       not null,
    carrier       varchar2(200 char),
    looked_up_at  timestamp(6)       not null,
    error_code    number,
    constraint sms_number_lookups_pk primary key (phone_number)
);
