-- REST API keys without the admin scope see only what they queued (created_by = 'api:<name>'):
-- GET /sms (newest first by id), a key's /stats and the /inbound sub-select read by creator.
create index sms_outbound_creator_ix on sms_outbound (created_by, id) compress 1;
