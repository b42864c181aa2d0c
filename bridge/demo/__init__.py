"""The demo room: ``make demo`` (``python -m bridge.demo``) on SQLite, the sandbox and loopback.

``walkthrough`` tells the story step by step, ``data`` seeds senders, people and keywords,
``services`` starts the sandbox, gunicorn and an SMTP server as real processes.
"""
