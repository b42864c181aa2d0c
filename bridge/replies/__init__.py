"""The replies room: what happens to an inbound SMS after Twilio posts it.

``processing`` stores a reply, applies keywords and threads it to an outbound message (shared by
the webhook and the spool replay), ``spool`` keeps webhooks safe while the database is down,
``dispatcher`` runs the configured reply handlers.
"""
