"""The CLI room: ``sms-bridge`` and its commands (a composition root, like ``runner``).

``main`` builds the parser and runs the commands; ``inbound`` holds the inbound side's commands
(serve, apikey, spool replay); ``progress`` draws the progress line of long runs.
"""
