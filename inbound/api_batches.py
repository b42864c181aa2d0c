"""POST /sms/batch (queue up to 1,000 messages in one call) and GET /batches/{id} (a summary).

Each item is the body of a POST /sms, checked the same way, and gets its own answer: its id,
or an error naming the item's index and field. One bad item stops no other; an item's
correlationKey makes it idempotent as in POST /sms (a retried batch gets the same ids back).
The call opens a batch (sms_batches) that ties its items together for the summary.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import falcon

from bridge import apikeys, errors
from bridge.apikeys import ApiKey, Scope
from bridge.domain.batches import MAX_REST_ITEMS, BatchSummary
from bridge.domain.models import EnqueueRequest
from bridge.domain.statuses import Status
from bridge.store import Store
from inbound.api_sms import build_request, default_sender, earlier_row, parse_head, sms_error
from inbound.http import ApiError, invalid, is_unicode, only_known, read_body

# 1,000 items of up to 1,600 characters, in JSON's worst case (\uXXXX escapes): what the
# envelope may weigh; POST /sms keeps [inbound] max_body_bytes.
MAX_BATCH_BYTES = 8 * 1024 * 1024
BATCH_FIELDS = frozenset({"items", "label"})


def _envelope(req: falcon.Request) -> tuple[list[Any], str | None]:
    if req.content_type is None or not req.content_type.lower().startswith(falcon.MEDIA_JSON):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        data = json.loads(read_body(req, MAX_BATCH_BYTES).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid(None, "the body is not valid JSON", "invalid_json") from None
    if not isinstance(data, dict):
        raise invalid(None, "the body must be a JSON object")
    only_known(data, BATCH_FIELDS)
    if not is_unicode(data.get("label")):
        raise invalid("label", "label is not valid Unicode text (a lone surrogate escape)")
    items, label = data.get("items"), data.get("label")
    if not isinstance(items, list) or not items:
        raise invalid("items", "items must be a non-empty array of messages")
    if len(items) > MAX_REST_ITEMS:
        raise invalid("items", f"items has {len(items)} messages; at most {MAX_REST_ITEMS}")
    if label is not None and (not isinstance(label, str) or not 0 < len(label) <= 200):
        raise invalid("label", "label must be a string of 1 to 200 characters")
    return items, label


def _item_error(index: int, exc: ApiError) -> dict[str, Any]:
    field = f"items[{index}].{exc.field}" if exc.field else f"items[{index}]"
    return {
        "index": index,
        "error": {"error": exc.error_code, "message": exc.description, "field": field},
    }


class SmsBatch:
    """POST /sms/batch."""

    auth_scopes: ClassVar[Mapping[str, Scope]] = {"POST": Scope.SEND}

    def __init__(self, store: Store, base_url: str, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.base_url = base_url
        self.clock = clock

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        key: ApiKey = req.context.api_key
        items, label = _envelope(req)
        results: list[dict[str, Any] | None] = [None] * len(items)
        fields: dict[int, str] = {}
        to_queue: list[tuple[int, EnqueueRequest]] = []
        senders: list[str] = []

        def one_sender() -> str:  # looked up once, and only when an item names none
            if not senders:
                senders.append(default_sender(self.store))
            return senders[0]

        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise invalid(None, "an item must be a JSON object")
                for name, value in item.items():
                    if not is_unicode(name) or not is_unicode(value):
                        raise invalid(
                            name if is_unicode(name) else None,
                            "not valid Unicode text (a lone surrogate escape)",
                        )
                head = parse_head(item, key)
                fields[index] = head.field
                earlier = earlier_row(self.store, key, head.correlation_key)
                if earlier is not None:
                    results[index] = self._queued(index, earlier.id, earlier.status)
                    continue
                to_queue.append((index, build_request(item, key, head, one_sender)))
            except ApiError as exc:
                results[index] = _item_error(index, exc)
        now = self.clock()
        rejected = sum(1 for r in results if r is not None and "error" in r)
        requests = [r for _, r in to_queue]
        batch_id = self.store.batch_for(
            requests,
            now,
            source="REST",
            rejected_before=rejected,
            label=label,
            created_by=apikeys.created_by(key.name),
        )
        answers = self.store.enqueue_many(
            requests, now, batch_id=batch_id, rejected_before=rejected
        )
        statuses = self.store.found_statuses(requests, answers)
        for (index, _), answer in zip(to_queue, answers, strict=True):
            if isinstance(answer, int):
                status = statuses.get(answer, Status.QUEUED)
                results[index] = self._queued(index, answer, status.value)
            elif isinstance(answer, errors.RepeatedKeyError):
                first = to_queue[answer.first][0]
                results[index] = _item_error(
                    index,
                    invalid(
                        "correlationKey",
                        f"correlationKey repeats items[{first}]'s: one message per key",
                        answer.name,
                    ),
                )
            elif isinstance(answer, errors.SmsError):
                results[index] = _item_error(index, sms_error(answer, fields.get(index)))
            else:
                results[index] = _item_error(index, invalid(None, str(answer)))
        done = [r for r in results if r is not None]
        accepted = sum(1 for r in done if "id" in r)
        resp.status = falcon.HTTP_202
        resp.location = f"{self.base_url}/batches/{batch_id}"
        resp.media = {
            "batchId": batch_id,
            "batch": f"{self.base_url}/batches/{batch_id}",
            "accepted": accepted,
            "rejected": len(done) - accepted,
            "items": done,
        }

    def _queued(self, index: int, message_id: int, status: str) -> dict[str, Any]:
        return {
            "index": index,
            "id": message_id,
            "status": str(status),
            "message": f"{self.base_url}/sms/{message_id}",
        }


def summary_json(summary: BatchSummary, base_url: str) -> dict[str, Any]:
    return {
        "id": summary.id,
        "source": summary.source,
        "label": summary.label,
        "createdAt": summary.created_at.isoformat().replace("+00:00", "Z"),
        "counts": {
            name: getattr(summary, name)
            for name in (
                "attempted",
                "submitted",
                "delivered",
                "invalid",
                "unsubscribed",
                "duplicate",
                "failed",
                "rejected",
                "pending",
                "expired",
                "canceled",
            )
        },
        "byStatus": summary.by_status,
        "self": f"{base_url}/batches/{summary.id}",
    }


class BatchItem:
    """GET /batches/{id}: what became of a batch's messages. A key without admin sees only
    the batches it opened (another's is 404, as an unknown id)."""

    auth_scopes: ClassVar[Mapping[str, Scope]] = {"GET": Scope.READ}

    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base_url = base_url

    def on_get(self, req: falcon.Request, resp: falcon.Response, batch_id: int) -> None:
        summary = self.store.batch_summary(batch_id)
        owner = apikeys.owner_of(req.context.api_key)
        if summary is None or (owner is not None and summary.created_by != owner):
            raise ApiError(404, "not_found", f"no batch with id {batch_id}", field="id")
        resp.media = summary_json(summary, self.base_url)
