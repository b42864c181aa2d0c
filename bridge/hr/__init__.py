"""The HR room: the certification-reminder use case (queue reminders, read confirmations).

Its Oracle twin is ``plsql/packages/hr_cert_sms``; this room is the SQLite/Python side of it.
"""
