-- History of a recipient (REST filters, reply digests).
create index sms_outbound_recipient_ix
    on sms_outbound (recipient_type, recipient_id, created_at);
