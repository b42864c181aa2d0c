-- NEW rows waiting for a handler or an ERP program, oldest first.
create index sms_inbound_status_ix on sms_inbound (status, id) compress 1;
