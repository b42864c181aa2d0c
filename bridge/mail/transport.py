"""Mail transports: ``smtp`` (STARTTLS/SSL, login) and ``maildir`` (the embedded default).

The only module that imports ``smtplib``. Every message is plain text plus an HTML alternative.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from bridge.config import MailSettings


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def check(self) -> str: ...


def compose(
    sender: str, recipients: Sequence[str], subject: str, text: str, html: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="sms-bridge")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class MaildirTransport:
    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: EmailMessage) -> None:
        # Maildir(create=True) makes tmp/new/cur only when it creates the folder itself.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.Maildir(self.path, create=True)
        try:
            box.add(message)
        finally:
            box.close()

    def check(self) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.path, create=True).close()
        return f"maildir {self.path} writable"


class SmtpTransport:
    def __init__(self, settings: MailSettings, timeout: float = 15.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if s.smtp_user:
            smtp.login(s.smtp_user, s.smtp_password.reveal())
        return smtp

    def send(self, message: EmailMessage) -> None:
        with self._connect() as smtp:
            smtp.send_message(message)

    def check(self) -> str:
        with self._connect() as smtp:
            code, _ = smtp.noop()
        return f"smtp {self.settings.smtp_host}:{self.settings.smtp_port} answered {code}"


def make_transport(settings: MailSettings) -> Transport:
    if settings.transport == "smtp":
        return SmtpTransport(settings)
    return MaildirTransport(Path(settings.maildir))
