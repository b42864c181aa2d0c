"""HTTP plumbing shared by the resources: JSON errors, body limits, paging, value parsing.

Every error the service returns is JSON ``{"error": <slug>, "message": <text>, "field": <name or
null>}``, whatever raised it (our validation, a named SmsError, or Falcon itself for 404/405),
so clients parse one shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode

import falcon

MAX_PAGE = 500
DEFAULT_PAGE = 25
_SLUG = re.compile(r"[^a-z0-9]+")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, tzinfo=UTC)
_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


class ApiError(falcon.HTTPError):
    """An error with a machine-readable code and the request field it is about."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            falcon.code_to_http_status(status), title=code, description=message, headers=headers
        )
        self.error_code = code
        self.field = field


def invalid(field: str | None, message: str, code: str = "invalid_request") -> ApiError:
    return ApiError(400, code, message, field=field)


def error_body(exc: falcon.HTTPError) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return {"error": exc.error_code, "message": exc.description, "field": exc.field}
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = str(exc.status_code)
    code = _SLUG.sub("_", phrase.lower()).strip("_")
    return {"error": code, "message": exc.description or phrase, "field": None}


def serialize_error(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(error_body(exc))


def read_body(req: falcon.Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 above the limit (declared or actual size).

    A body sent with ``Transfer-Encoding: chunked`` has no Content-Length, and Falcon's
    ``bounded_stream`` then reads nothing. gunicorn ends its ``wsgi.input`` where the chunked
    body ends and says so with ``wsgi.input_terminated``: that stream is read up to one byte
    past the limit. Where a server does not say so, reading on could block until the client
    gives up, so a chunked body is refused with 411 (send a Content-Length) instead.
    """
    length = req.content_length
    if length is not None and length > max_bytes:
        raise too_large(max_bytes)
    if length is not None:
        stream: Any = req.bounded_stream
    elif req.env.get("wsgi.input_terminated"):
        stream = req.stream
    elif req.get_header("Transfer-Encoding"):
        raise ApiError(411, "length_required", "send the body with a Content-Length header")
    else:
        return b""  # no Content-Length and not chunked: no body
    data: bytes = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return data


def too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "too_large", f"the request body is larger than {max_bytes} bytes")


def read_json_object(req: falcon.Request, max_bytes: int) -> dict[str, Any]:
    if req.content_type is None or not req.content_type.lower().startswith(falcon.MEDIA_JSON):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = read_body(req, max_bytes)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid(None, "the body is not valid JSON", "invalid_json") from None
    if not isinstance(data, dict):
        raise invalid(None, "the body must be a JSON object")
    for name, value in data.items():
        if not is_unicode(name):
            raise invalid(None, "a member name is not valid Unicode (a lone surrogate escape)")
        if not is_unicode(value):
            raise invalid(name, f"{name} is not valid Unicode text (a lone surrogate escape)")
    return data


def is_unicode(value: Any) -> bool:
    """False for text holding a lone surrogate (JSON's ``"\\ud800"`` escape decodes to one):
    no UTF-8 or UTF-16 encoder takes it, so it fails wherever it is counted, bound or logged."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, list):
        return all(is_unicode(v) for v in value)
    if isinstance(value, dict):
        return all(is_unicode(k) and is_unicode(v) for k, v in value.items())
    return True


# -- values ---------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_instant(value: Any, field: str, *, clamp: bool = False) -> datetime:
    """An RFC 3339 date-time with a zone (``Z`` or an offset), returned as UTC.

    Instants outside EARLIEST..LATEST are refused (400), or with ``clamp`` (query filters,
    where it changes no result) moved to the nearest bound: the stores keep four-digit years.
    """
    # Python's fromisoformat accepts far more than RFC 3339 (no zone, no "T", week dates):
    # the API promises RFC 3339, so the shape is checked first.
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise invalid(
            field, f"{field} must be an RFC 3339 date-time with a zone, e.g. 2030-01-31T09:00:00Z"
        )
    try:
        # Python keeps microseconds: extra fraction digits are dropped, not refused.
        text = re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", value.upper().replace("Z", "+00:00"))
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(field, f"{field}: {value!r} is not a valid date-time") from None
    try:
        instant = parsed.astimezone(UTC)
    except OverflowError:  # year 9999 with a negative offset
        instant = LATEST + timedelta(days=1)
    if EARLIEST <= instant <= LATEST:
        return instant
    if clamp:
        return min(max(instant, EARLIEST), LATEST)
    raise invalid(field, f"{field} must be between {iso(EARLIEST)} and {iso(LATEST)}")


def query_int(req: falcon.Request, name: str, default: int, low: int, high: int) -> int:
    text = req.get_param(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text) or not low <= int(text) <= high:
        raise invalid(name, f"{name} must be an integer from {low} to {high}")
    return int(text)


def paging(req: falcon.Request) -> tuple[int, int]:
    limit = query_int(req, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    offset = query_int(req, "offset", 0, 0, 999_999_999)
    return limit, offset


def collection(
    req: falcon.Request,
    base_url: str,
    items: list[dict[str, Any]],
    *,
    limit: int,
    offset: int,
    has_more: bool,
) -> dict[str, Any]:
    """An ORDS-style collection: items, hasMore, limit, offset, count and navigation links."""
    params: dict[str, str] = {k: str(v) for k, v in req.params.items() if isinstance(v, str)}

    def href(new_offset: int) -> str:
        query = {**params, "limit": str(limit), "offset": str(new_offset)}
        return f"{base_url}{req.path}?{urlencode(query)}"

    links = [{"rel": "self", "href": href(offset)}, {"rel": "first", "href": href(0)}]
    if offset > 0:
        links.append({"rel": "prev", "href": href(max(offset - limit, 0))})
    if has_more:
        links.append({"rel": "next", "href": href(offset + limit)})
    return {
        "items": items,
        "hasMore": has_more,
        "limit": limit,
        "offset": offset,
        "count": len(items),
        "links": links,
    }


def only_known(data: Mapping[str, Any], known: frozenset[str]) -> None:
    for name in data:
        if name not in known:
            raise invalid(name, f"unknown field {name!r}", "unknown_field")


class KnownQueryParameters:
    """Middleware: a query parameter the route does not declare is 400, not silently ignored
    (``?stauts=NEW`` would otherwise return everything). Resources list theirs in
    ``query_parameters``; a resource without the attribute takes none."""

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        if resource is None:
            return
        allowed: frozenset[str] = getattr(resource, "query_parameters", frozenset())
        # From the raw query string: Falcon drops some shapes (``?=x``) from req.params.
        for name, _ in parse_qsl(req.query_string, keep_blank_values=True):
            if name not in allowed:
                raise invalid(name, f"unknown query parameter {name!r}", "unknown_parameter")
