"""The domain room: the rules of SMS messaging, pure.

No I/O and no clock reads: numbers, segments, statuses, policies, keywords and threading take
their inputs (the time included) as arguments, so every rule is testable without a database,
a network or a clock. ``tests/test_import_rules.py`` keeps it that way.
"""
