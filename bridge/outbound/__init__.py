"""The outbound room: claimed messages to Twilio and their outcomes back to the store.

``worker`` runs the send loop, ``prepare`` decides what a claimed message becomes before any
request, ``gateway`` and ``twilio_http`` are the only outbound code that touches the twilio
library, ``recovery`` reconciles sends whose outcome is unknown.
"""
