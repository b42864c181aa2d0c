-- Paging and date filters of the REST API and reports.
create index sms_outbound_created_ix on sms_outbound (created_at);
