-- A status callback is recorded once: its key (bridge.replies.processing.callback_key) is
-- unique. Only callback events have one; the index holds no entry for a NULL key.
create unique index sms_events_callback_ux on sms_events (callback_key);
