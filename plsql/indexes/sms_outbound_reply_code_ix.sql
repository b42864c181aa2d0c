-- Reply threading: a reference code quoted in a reply ("reply YES 4821").
create index sms_outbound_reply_code_ix on sms_outbound (reply_code);
