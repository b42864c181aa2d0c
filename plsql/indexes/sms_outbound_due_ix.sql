-- Due rows of any sender in one status: expired leases (SENDING) and expiry sweeps.
create index sms_outbound_due_ix on sms_outbound (status, next_attempt_at) compress 1;
