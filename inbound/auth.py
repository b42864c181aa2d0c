"""Bearer API keys for the /sms REST API (middleware).

Resources declare ``auth_scopes = {"GET": Scope.READ, ...}``; a resource without it is public
(/health, /openapi.json) or signed by Twilio instead (the webhooks). No key or an unknown or
revoked key is 401; a valid key without the scope is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import falcon

from bridge.apikeys import ApiKey, Scope, hash_key, looks_like_key
from bridge.store import Store
from inbound.http import ApiError

# last_used_at is for administrators ("is this key still used?"), not an audit log: writing it
# on every request would put a write on every read, so it is refreshed at most this often.
TOUCH_EVERY = timedelta(minutes=5)


def unauthorized(message: str) -> ApiError:
    return ApiError(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="sms-bridge"'}
    )


class ApiKeyAuth:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        scopes: dict[str, Scope] | None = getattr(resource, "auth_scopes", None)
        if scopes is None or req.method not in scopes:
            return
        key = self.authenticate(req)
        needed = scopes[req.method]
        if not key.allows(needed):
            raise ApiError(403, "forbidden", f"this API key lacks the {needed.value!r} scope")
        req.context.api_key = key

    def authenticate(self, req: falcon.Request) -> ApiKey:
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("send an API key as 'Authorization: Bearer <key>'")
        token = token.strip()
        key = self.store.api_key_by_hash(hash_key(token)) if looks_like_key(token) else None
        if key is None or key.revoked_at is not None:
            raise unauthorized("unknown or revoked API key")
        now = self.clock()
        if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
            self.store.touch_api_key(key.id, now)
        return key
