"""Twilio's list paging and DateSent filters, as the sandbox serves them (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from sandbox.errors import TwilioError
from sandbox.shapes import message_json, page_json
from sandbox.state import Message

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50


def page_size(query: Mapping[str, str]) -> int:
    try:
        size = int(query.get("PageSize") or DEFAULT_PAGE_SIZE)
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    return min(max(size, 1), MAX_PAGE_SIZE)


def page_number(query: Mapping[str, str]) -> int:
    try:
        return max(int(query.get("Page") or 0), 0)
    except ValueError:
        return 0


def paged(
    path: str,
    key: str,
    messages: list[Message],
    query: Mapping[str, str],
    filters: list[tuple[str, str]],
) -> dict[str, Any]:
    """Twilio paging over newest-first messages. PageToken "PA<sid>" continues after that SID
    and "PB<sid>" ends before it, so walking pages stays stable while new messages arrive."""
    size, page = page_size(query), page_number(query)
    token = query.get("PageToken") or None
    index = {m.sid: i for i, m in enumerate(messages)} if token else {}
    start = page * size
    end = start + size
    if token and token[2:] in index:
        position = index[token[2:]]
        if token.startswith("PA"):
            start, end = position + 1, position + 1 + size
        else:  # the page that ends just before that SID (never overlapping it)
            start, end = max(position - size, 0), position
    chunk = messages[start:end]
    more = end < len(messages)
    return page_json(
        key=key,
        path=path,
        filters=filters,
        items=[message_json(m) for m in chunk],
        page=page,
        page_size=size,
        token=token,
        next_token=f"PA{chunk[-1].sid}" if chunk and more else None,
        previous_token=f"PB{chunk[0].sid}" if chunk and start > 0 else None,
    )


def paged_records(
    path: str,
    key: str,
    records: list[dict[str, Any]],
    query: Mapping[str, str],
    filters: list[tuple[str, str]],
) -> dict[str, Any]:
    size, page = page_size(query), page_number(query)
    chunk = records[page * size : (page + 1) * size]
    more = (page + 1) * size < len(records)
    return page_json(
        key=key,
        path=path,
        filters=filters,
        items=chunk,
        page=page,
        page_size=size,
        token=None,
        next_token=f"PN{page + 1}" if more else None,
        previous_token=f"PN{page - 1}" if page > 0 else None,
    )


# -- DateSent filters -----------------------------------------------------------------------
def date_filter(raw: str | None) -> date | datetime | None:
    """``YYYY-MM-DD`` (a whole day) or a full timestamp (ISO 8601 or RFC 2822), in UTC."""
    if not raw:
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise TwilioError(20001, name="DateSent", value=raw) from None
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)


def sent_on_day(sent: datetime, bound: date | datetime) -> bool:
    day = bound.date() if isinstance(bound, datetime) else bound
    return sent.date() == day


def sent_at_or_before(sent: datetime, bound: date | datetime) -> bool:
    if isinstance(bound, datetime):
        return sent.replace(microsecond=0) <= bound
    return sent.date() <= bound


def sent_at_or_after(sent: datetime, bound: date | datetime) -> bool:
    if isinstance(bound, datetime):
        return sent.replace(microsecond=0) >= bound
    return sent.date() >= bound
