"""The Falcon app: thin resources translating HTTP to ``Sandbox`` calls, in Twilio's shapes.

``create_app`` returns a WSGI callable: the Falcon app wrapped by ``ResetWrapper``, which counts
requests in flight and performs injected connection resets (Falcon turns any exception into a
500, so the reset must happen outside it, in front of the server).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import struct
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import falcon

from sandbox.errors import error_body
from sandbox.faults import FaultSettings
from sandbox.lookup import LOOKUPS_PREFIX, LookupResource
from sandbox.service import ApiAnswer, Sandbox
from sandbox.shapes import message_json
from sandbox.state import new_sid

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
RESET_KEY = "sandbox.reset"


def _json(resp: falcon.Response, status: int, body: Any) -> None:
    resp.status = status
    resp.content_type = "application/json"
    resp.text = json.dumps(body)


def _form(req: falcon.Request) -> dict[str, str]:
    raw = req.bounded_stream.read().decode("utf-8")
    # Last value wins for a repeated name (MediaUrl is the only repeatable one, and unused).
    return dict(parse_qsl(raw, keep_blank_values=True))


def _query(req: falcon.Request) -> dict[str, str]:
    return {k: v if isinstance(v, str) else v[-1] for k, v in req.params.items()}


def _render(req: falcon.Request, resp: falcon.Response, answer: ApiAnswer) -> None:
    resp.set_header("Twilio-Request-Id", new_sid("RQ"))
    if answer.reset:
        req.env[RESET_KEY] = True
        resp.status = 500
        return
    if answer.status == 401:
        resp.set_header("WWW-Authenticate", 'Basic realm="Twilio API"')
    _json(resp, answer.status, answer.body)


class _Api:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox

    def _auth(self, req: falcon.Request, account_sid: str) -> bool:
        return self.sb.authorized(req.get_header("Authorization"), account_sid)


class MessagesResource(_Api):
    def on_post(self, req: falcon.Request, resp: falcon.Response, account_sid: str) -> None:
        params = _form(req)
        answer = self.sb.handle_api(
            "create",
            "POST",
            req.path,
            params,
            self._auth(req, account_sid),
            lambda: self.sb.create_work(params, account_sid),
        )
        _render(req, resp, answer)

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_sid: str) -> None:
        query = _query(req)
        answer = self.sb.handle_api(
            "list",
            "GET",
            req.path,
            query,
            self._auth(req, account_sid),
            lambda: self.sb.list_work(req.path, query, account_sid),
        )
        _render(req, resp, answer)


class MessageResource(_Api):
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, account_sid: str, sid: str
    ) -> None:
        answer = self.sb.handle_api(
            "fetch",
            "GET",
            req.path,
            {},
            self._auth(req, account_sid),
            lambda: self.sb.fetch_work(sid, req.path, account_sid),
        )
        _render(req, resp, answer)


class NumbersResource(_Api):
    def on_get(self, req: falcon.Request, resp: falcon.Response, account_sid: str) -> None:
        query = _query(req)
        answer = self.sb.handle_api(
            "numbers",
            "GET",
            req.path,
            query,
            self._auth(req, account_sid),
            lambda: self.sb.numbers_work(req.path, query, account_sid),
        )
        _render(req, resp, answer)


class AccountResource(_Api):
    def on_get(self, req: falcon.Request, resp: falcon.Response, account_sid: str) -> None:
        answer = self.sb.handle_api(
            "account",
            "GET",
            req.path,
            {},
            self._auth(req, account_sid),
            lambda: self.sb.account_work(account_sid),
        )
        _render(req, resp, answer)


# -- control API ----------------------------------------------------------------------------
def _body(req: falcon.Request) -> dict[str, Any]:
    raw = req.bounded_stream.read()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise falcon.HTTPBadRequest(title="invalid JSON", description=str(exc)) from None
    if not isinstance(data, dict):
        raise falcon.HTTPBadRequest(title="expected a JSON object")
    return data


def _bad(resp: falcon.Response, message: str) -> None:
    _json(resp, 400, {"error": message})


class HealthResource(_Api):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _json(resp, 200, self.sb.health())


class ControlMessagesResource(_Api):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        q = _query(req)

        def keep(m: Any) -> bool:
            return (
                (not q.get("to") or m.to == q["to"])
                and (not q.get("from") or m.sender == q["from"])
                and (not q.get("status") or m.status == q["status"])
                and (not q.get("direction") or m.direction == q["direction"])
                and (not q.get("account_sid") or m.account_sid == q["account_sid"])
            )

        items = []
        for m in self.sb.store.newest_first(keep):
            item = message_json(m)
            item["sender"] = m.sender
            item["create_params"] = m.create_params
            item["encoding"] = m.segments.encoding
            item["history"] = [{"status": s, "at": at.isoformat()} for s, at in m.history]
            items.append(item)
        _json(resp, 200, {"messages": items})


class ControlRequestsResource(_Api):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        kind = req.get_param("kind")
        entries = [e for e in self.sb.store.requests() if not kind or e["kind"] == kind]
        _json(resp, 200, {"requests": entries})


class ControlCallbacksResource(_Api):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        kind, sid = req.get_param("kind"), req.get_param("sid")
        entries = [
            e
            for e in self.sb.store.callbacks()
            if (not kind or e["kind"] == kind) and (not sid or e["sid"] == sid)
        ]
        _json(resp, 200, {"callbacks": entries})


class ControlReplyResource(_Api):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = _body(req)
        try:
            sent = data.get("date_sent")
            result = self.sb.reply(
                str(data.get("from", "")),
                str(data.get("to", "")),
                str(data.get("body", "")),
                data.get("url"),
                date_sent=datetime.fromisoformat(str(sent).replace("Z", "+00:00"))
                if sent
                else None,
                webhook=data.get("webhook", True) is not False,
            )
        except ValueError as exc:
            return _bad(resp, str(exc))
        _json(resp, 200, result)


class ControlFaultsResource(_Api):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _json(resp, 200, {"faults": self.sb.faults.settings.to_json()})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = _body(req)
        replace_all = bool(data.pop("replace", False))
        try:
            settings: FaultSettings = self.sb.faults.update(data, replace_all=replace_all)
        except (TypeError, ValueError) as exc:
            return _bad(resp, str(exc))
        _json(resp, 200, {"faults": settings.to_json()})


class ControlPricingResource(_Api):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _json(resp, 200, {"pricing": self.sb.pricing.to_json()})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            pricing = self.sb.set_pricing(_body(req))
        except ValueError as exc:
            return _bad(resp, str(exc))
        _json(resp, 200, {"pricing": pricing.to_json()})


class ControlResetResource(_Api):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        _json(resp, 200, {"ok": True, "generation": self.sb.reset()})


class ControlOptOutResource(_Api):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        entries = [
            {
                "number": o.handset,
                "scope": o.scope,
                "keyword": o.keyword,
                "source": o.source,
                "changed_at": o.changed_at.isoformat(),
            }
            for o in self.sb.store.optouts()
        ]
        _json(resp, 200, {"optouts": entries})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = _body(req)
        try:
            self.sb.set_optout(
                str(data.get("number", "")),
                str(data.get("sender", "*")),
                bool(data.get("opted_out", True)),
            )
        except ValueError as exc:
            return _bad(resp, str(exc))
        self.on_get(req, resp)


def _twilio_http_error(
    req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: Any
) -> None:
    """Framework errors (unknown route, wrong method) in Twilio's shape under the API root."""
    if not req.path.startswith("/2010-04-01/"):
        resp.status = ex.status
        resp.content_type = "application/json"
        resp.text = json.dumps(ex.to_dict())
        return
    status = int(ex.status_code)
    code = {404: 20404, 405: 20004}.get(status, 20001 if status == 400 else 20500)
    message = f"The requested resource {req.path} was not found" if status == 404 else str(ex.title)
    _json(resp, status, error_body(code, message, status))


class TwilioDateHeader:
    """Every answer carries Twilio's ``Date`` header, on the sandbox's (possibly skewed) clock."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        resp.set_header("Date", self.sandbox.http_date())


def create_falcon_app(sandbox: Sandbox) -> falcon.App[falcon.Request, falcon.Response]:
    app = falcon.App(middleware=[TwilioDateHeader(sandbox)])
    app.add_error_handler(falcon.HTTPError, _twilio_http_error)
    root = "/2010-04-01/Accounts/{account_sid}"
    app.add_route(f"{root}.json", AccountResource(sandbox))
    app.add_route(f"{root}/Messages.json", MessagesResource(sandbox))
    app.add_route(root + "/Messages/{sid}.json", MessageResource(sandbox))
    app.add_route(f"{root}/IncomingPhoneNumbers.json", NumbersResource(sandbox))
    app.add_route(LOOKUPS_PREFIX + "/v2/PhoneNumbers/{number}", LookupResource(sandbox))
    app.add_route("/_sandbox/health", HealthResource(sandbox))
    app.add_route("/_sandbox/messages", ControlMessagesResource(sandbox))
    app.add_route("/_sandbox/requests", ControlRequestsResource(sandbox))
    app.add_route("/_sandbox/callbacks", ControlCallbacksResource(sandbox))
    app.add_route("/_sandbox/reply", ControlReplyResource(sandbox))
    app.add_route("/_sandbox/faults", ControlFaultsResource(sandbox))
    app.add_route("/_sandbox/pricing", ControlPricingResource(sandbox))
    app.add_route("/_sandbox/reset", ControlResetResource(sandbox))
    app.add_route("/_sandbox/optout", ControlOptOutResource(sandbox))
    return app


def reset_connection(sock: socket.socket) -> None:
    """Abort the TCP connection behind ``sock`` with a RST, leaving the fd number valid.

    With SO_LINGER(on, 0), releasing the last reference to a connected socket makes the kernel
    send RST instead of FIN. dup2() of a fresh unconnected socket onto the fd releases it at once
    while the server still holds a valid descriptor: its later shutdown()/close() act on the
    placeholder (servers close gracefully, FIN first, which would not be a reset).
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with socket.socket(sock.family, socket.SOCK_STREAM) as placeholder:
        os.dup2(placeholder.fileno(), sock.fileno())


class ResetWrapper:
    """Counts requests in flight; turns a reset decision into a real TCP RST.

    Falcon turns any exception into a 500, so the reset happens out here. After the RST,
    raising ConnectionResetError tells the server to drop the request without writing an
    answer (servers treat ECONNRESET as the peer having gone away).
    """

    def __init__(self, app: WSGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.sandbox.enter()
        try:
            captured: list[Any] = []

            def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                captured[:] = [status, headers, exc_info]
                return lambda data: None

            body = b"".join(self.app(environ, capture))
            if environ.get(RESET_KEY):
                sock = environ.get("sandbox.socket") or environ.get("gunicorn.socket")
                if isinstance(sock, socket.socket):
                    reset_connection(sock)
                raise ConnectionResetError(errno.ECONNRESET, "sandbox: injected connection reset")
            start_response(captured[0], captured[1])
            return [body]
        finally:
            self.sandbox.leave()


def create_app(sandbox: Sandbox) -> WSGIApp:
    return ResetWrapper(create_falcon_app(sandbox), sandbox)
