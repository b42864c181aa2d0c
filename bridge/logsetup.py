"""Logging for the command-line processes: one line per record, journald-aware.

Under systemd (``JOURNAL_STREAM`` is set) each line starts with the syslog priority in angle
brackets, which journald turns into the entry's priority, so ``journalctl -p err`` finds the
bridge's errors; the journal adds its own timestamp, so the line carries none.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

# logging level -> syslog priority (sd-daemon(3) prefixes)
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        return f"<{priority}>{super().format(record)}"


def configure(environ: Mapping[str, str]) -> None:
    level = environ.get("SMS_BRIDGE_LOG_LEVEL", "WARNING").upper()
    handler = logging.StreamHandler()
    if environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if level in logging.getLevelNamesMapping() else "WARNING")
    # The twilio library logs every request with its parameters (recipients' numbers in
    # clear) at INFO: keep it to warnings whatever our own level is.
    logging.getLogger("twilio").setLevel(logging.WARNING)
