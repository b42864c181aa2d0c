"""Console sessions: a signed cookie (HMAC-SHA256), idle expiry, and CSRF tokens.

gunicorn runs several worker processes, so a session kept in one worker's memory would be
unknown to the next request's worker. The session is therefore the cookie itself, signed with
a secret every worker shares: ``console-session.key`` in ``[inbound] spool_dir`` (the service's
own writable directory, already shared by its workers for the spool), 32 random bytes created
once (``O_EXCL``, mode 0600) by whichever worker needs it first. Several hosts behind one
address share sessions by holding the same file. Deleting the file signs everybody out.

The cookie holds the key's id and name, a random session id, when it was issued and when it
was last used; it is re-signed on every request (sliding idle expiry). Every request also
re-reads the key, so a revoked key or a removed scope ends its sessions at once. Sign-out
clears the cookie in the browser; a copy taken before stays valid until its idle expiry (there
is no server-side session table: that would need new DDL).

CSRF: every form carries ``HMAC(secret, "csrf|" + session id)``; the sign-in form, before any
session exists, ``HMAC(secret, "login|" + nonce)`` with the nonce in a short-lived cookie.
SameSite=Strict on both cookies keeps them off cross-site requests as a second line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import falcon

COOKIE = "smsb_console"
LOGIN_COOKIE = "smsb_console_login"
SECRET_FILE = "console-session.key"
IDLE = timedelta(minutes=30)
MAX_AGE = timedelta(hours=12)


def load_secret(directory: str | Path) -> bytes:
    """The shared signing secret, created on first use (every worker ends up with one file)."""
    path = Path(directory) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
            f.flush()
            os.fsync(f.fileno())
    for _ in range(50):  # another worker may be between its create and its write
        data = path.read_bytes()
        if len(data) >= 32:
            return data

        time.sleep(0.01)
    raise RuntimeError(f"{path}: the console session secret is shorter than 32 bytes")


@dataclass(frozen=True)
class Session:
    key_id: int
    key_name: str
    sid: str
    issued_at: int  # epoch seconds
    seen_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    def __init__(self, secret: bytes, *, secure: bool, path: str = "/console") -> None:
        self.secret = secret
        self.secure = secure
        self.path = path

    def _mac(self, purpose: str, text: str) -> str:
        return hmac.new(self.secret, f"{purpose}|{text}".encode(), hashlib.sha256).hexdigest()

    # -- the session cookie ----------------------------------------------------------------

    def issue(self, key_id: int, key_name: str, now: datetime) -> Session:
        t = int(now.timestamp())
        return Session(key_id, key_name, secrets.token_urlsafe(16), t, t)

    def encode(self, session: Session) -> str:
        payload = _b64(
            json.dumps(
                [session.key_id, session.key_name, session.sid, session.issued_at, session.seen_at],
                separators=(",", ":"),
            ).encode()
        )
        return f"{payload}.{self._mac('session', payload)}"

    def decode(self, value: str | None, now: datetime) -> Session | None:
        """The session the cookie holds, None when absent, forged or expired."""
        if not value or "." not in value or len(value) > 1000:
            return None
        payload, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        try:
            key_id, name, sid, issued, seen = json.loads(_unb64(payload))
            session = Session(int(key_id), str(name), str(sid), int(issued), int(seen))
        except (ValueError, TypeError):
            return None
        t = now.timestamp()
        if (
            t - session.seen_at > IDLE.total_seconds()
            or t - session.issued_at > MAX_AGE.total_seconds()
        ):
            return None
        return session

    def touch(self, session: Session, now: datetime) -> Session:
        return Session(
            session.key_id, session.key_name, session.sid, session.issued_at, int(now.timestamp())
        )

    def set_cookie(self, resp: falcon.Response, session: Session) -> None:
        self._cookie(resp, COOKIE, self.encode(session), int(IDLE.total_seconds()))

    def clear(self, resp: falcon.Response) -> None:
        self._cookie(resp, COOKIE, "", 0)

    def _cookie(self, resp: falcon.Response, name: str, value: str, max_age: int) -> None:
        resp.set_cookie(
            name,
            value,
            max_age=max_age,
            path=self.path,
            secure=self.secure,
            http_only=True,
            same_site="Strict",
        )

    # -- CSRF ----------------------------------------------------------------------------

    def csrf(self, session: Session) -> str:
        return self._mac("csrf", session.sid)[:40]

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf(session))

    def login_nonce(self, resp: falcon.Response) -> str:
        nonce = secrets.token_urlsafe(16)
        self._cookie(resp, LOGIN_COOKIE, nonce, 3600)
        return self._mac("login", nonce)[:40]

    def login_csrf_ok(self, req: falcon.Request, token: str | None) -> bool:
        nonce = req.get_cookie_values(LOGIN_COOKIE) or []
        return bool(token) and any(
            hmac.compare_digest(str(token), self._mac("login", n)[:40]) for n in nonce
        )

    def clear_login(self, resp: falcon.Response) -> None:
        self._cookie(resp, LOGIN_COOKIE, "", 0)


def cookie_of(req: falcon.Request) -> str | None:
    values: list[Any] = req.get_cookie_values(COOKIE) or []
    return str(values[0]) if values else None
