"""Administrator notifications: rate-limited immediate alerts and the periodic error digest."""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from bridge.config import MailSettings
from bridge.domain.optout_history import HistoryChange
from bridge.mail.digests import error_digest
from bridge.mail.manager_digest import manager_digests, unaddressed_digest
from bridge.mail.transport import Transport, compose
from bridge.store import Store

log = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self,
        settings: MailSettings,
        transport: Transport,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.monotonic = monotonic
        # A run --once ends with its own one-line reason: it logs the alert itself at INFO.
        self.alert_log_level = logging.ERROR
        self._last_alert: dict[str, float] = {}
        self._lock = threading.Lock()
        self.send_failed = False  # set when a mail could not be sent; the caller resets it

    def _send(self, subject: str, text: str, html_body: str) -> bool:
        if not self.settings.admins:
            log.warning("no [mail] admins configured; not sent: %s", subject)
            return False
        try:
            self.transport.send(
                compose(self.settings.sender, self.settings.admins, subject, text, html_body)
            )
        except Exception as exc:  # mail trouble must never stop the worker
            log.error("could not send mail %r: %s", subject, exc)
            self.send_failed = True
            return False
        return True

    def alert(self, kind: str, subject: str, text: str) -> bool:
        """Send at once, at most once per ``alert_min_interval_minutes`` for each kind."""
        with self._lock:
            now = self.monotonic()
            last = self._last_alert.get(kind)
            if last is not None and now - last < self.settings.alert_min_interval_minutes * 60:
                return False
            self._last_alert[kind] = now
        log.log(self.alert_log_level, "ALERT %s: %s", kind, subject)
        return self._send(
            f"[sms-bridge ALERT] {subject}",
            text + "\n",
            f"<html><body><p><b>{html.escape(subject)}</b></p>"
            f"<p>{html.escape(text)}</p></body></html>",
        )

    def error_digest(
        self,
        store: Store,
        since: datetime,
        until: datetime,
        history: Sequence[HistoryChange] = (),
    ) -> bool:
        """The window's error digest, with what the status sync moved in it (from sms_events)
        and the opt-outs/ins ``history`` lists (this worker's opt-out sync runs since its last
        digest)."""
        digest = error_digest(
            store.errors_since(since, until),
            since,
            until,
            sync_moves=store.sync_moves_since(since, until),
            history=history,
        )
        if digest is None:
            return False
        return self._send(digest.subject, digest.text, digest.html)

    def manager_digests(self, store: Store, since: datetime, until: datetime) -> int:
        """Send each manager the digest of their employees' replies, and the administrators
        those no manager receives; returns mails sent."""
        rows = store.replies_for_digest(since, until)
        digests = manager_digests(rows, since, until)
        sent = 0
        unaddressed = unaddressed_digest(rows, since, until)
        if unaddressed is not None and self._send(
            unaddressed.subject, unaddressed.text, unaddressed.html
        ):
            sent += 1
        for manager, digest in sorted(digests.items()):
            try:
                self.transport.send(
                    compose(
                        self.settings.sender, [manager], digest.subject, digest.text, digest.html
                    )
                )
                sent += 1
            except Exception as exc:  # one manager's bad address must not stop the others
                log.error("manager digest to %s failed: %s", manager, exc)
                self.send_failed = True
        return sent
