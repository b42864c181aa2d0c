"""Store operations for the inbound service (replies, keywords, threading, API keys).

A mixin of :class:`bridge.store.Store`, kept apart so the inbound side's named operations live
in one module. Uses ``self.dialect`` exactly as store.py does: SQL both engines accept, with
``:name`` binds and every instant passed in from Python.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.apikeys import ApiKey, Scope, format_scopes
from bridge.domain import column_sizes
from bridge.domain.models import InboundRecord, Page, Sender
from bridge.domain.threading_match import ANSWERABLE_STATUSES, Candidate
from bridge.store.dialect import Dialect, Row, Tx, ids_in

MAX_INBOUND_PAGE = 500
INBOUND_STATUSES = ("NEW", "PROCESSED", "IGNORED", "ERROR")
_ANSWERABLE = ", ".join(f"'{s}'" for s in ANSWERABLE_STATUSES)

SENDER_BY_NUMBER = """
SELECT * FROM sms_senders WHERE from_number = :phone ORDER BY code
"""

SENDER_BY_SERVICE = """
SELECT * FROM sms_senders WHERE messaging_service_sid = :service_sid ORDER BY code
"""

CANDIDATE_COLUMNS = """
SELECT o.id, o.submitted_at, o.reply_code, o.recipient_type, o.recipient_id
  FROM sms_outbound o
"""

BY_REFERENCE = (
    CANDIDATE_COLUMNS
    + f"""
 WHERE o.to_number = :phone AND o.reply_code IN ({{codes}})
   AND o.status IN ({_ANSWERABLE}) AND o.submitted_at >= :since
"""
)

IN_WINDOW = (
    CANDIDATE_COLUMNS
    + f"""
  JOIN sms_senders s ON s.code = o.sender_code
 WHERE o.to_number = :phone AND s.from_number = :sender_number
   AND o.status IN ({_ANSWERABLE}) AND o.submitted_at >= :since
 ORDER BY o.submitted_at DESC, o.id DESC
"""
)

IN_WINDOW_OF_SENDER = (
    CANDIDATE_COLUMNS
    + f"""
 WHERE o.to_number = :phone AND o.sender_code = :sender_code
   AND o.status IN ({_ANSWERABLE}) AND o.submitted_at >= :since
 ORDER BY o.submitted_at DESC, o.id DESC
"""
)

GET_INBOUND = "SELECT * FROM sms_inbound WHERE id = :id"

REPLIES_FOR = "SELECT * FROM sms_inbound WHERE outbound_id = :outbound_id ORDER BY id"

# NEW replies whose first word has an active HANDLER rule, for this sender or for every one.
# A reply is a sender's when it was sent to the sender's number or matched to one of its
# messages (how replies to a Messaging Service sender's pool numbers are attributed).
# Keyword '*' is a catch-all: any reply to that sender that no keyword rule claims (the HR
# reminders route every answer, "YES 4821" or a question, to one handler).
HANDLER_JOBS = """
SELECT i.id, k.handler, k.sender_code, k.keyword
  FROM sms_inbound i
  JOIN sms_keywords k ON (k.keyword = i.keyword OR k.keyword = '*')
                     AND k.action = 'HANDLER' AND k.active = 'Y'
  LEFT JOIN sms_outbound o ON o.id = i.outbound_id
  LEFT JOIN sms_senders s ON s.code = k.sender_code
                         AND (s.from_number = i.to_number OR o.sender_code = s.code)
 WHERE i.status = 'NEW' AND (k.sender_code = '*' OR s.code IS NOT NULL)
   AND (i.processed_at IS NULL OR i.processed_at < :stale_before)
 ORDER BY i.id, k.sender_code, k.keyword
"""


def _rule_rank(row: Row) -> int:
    """An exact keyword beats the catch-all; then a sender's own rule beats ``*``."""
    return (2 if row["keyword"] != "*" else 0) + (1 if row["sender_code"] != "*" else 0)


# Taking a reply for its handler: processed_at on a NEW row means "a dispatcher is running its
# handler since then". A Python handler runs outside the transaction that marks its reply, and a
# dispatcher that died mid-handler leaves it NEW: after the lease another one takes it again. A
# procedure handler runs in the taking transaction: on Oracle the update holds its row lock
# until then, so a second dispatcher waits and then finds it no longer NEW.
TAKE_INBOUND = """
UPDATE sms_inbound SET processed_at = :now
 WHERE id = :id AND status = 'NEW' AND (processed_at IS NULL OR processed_at < :stale_before)
"""

MARK_INBOUND = """
UPDATE sms_inbound
   SET status = :status, error_message = :error_message, processed_at = :now
 WHERE id = :id AND status = 'NEW'
"""

INSERT_API_KEY = """
INSERT INTO sms_api_keys (name, key_prefix, key_hash, scopes, created_at)
VALUES (:name, :key_prefix, :key_hash, :scopes, :now)
"""

API_KEY_BY_HASH = "SELECT * FROM sms_api_keys WHERE key_hash = :key_hash"

API_KEY_BY_NAME = "SELECT * FROM sms_api_keys WHERE name = :name"

LIST_API_KEYS = "SELECT * FROM sms_api_keys ORDER BY name"

REVOKE_API_KEY = """
UPDATE sms_api_keys SET revoked_at = :now WHERE name = :name AND revoked_at IS NULL
"""

TOUCH_API_KEY = "UPDATE sms_api_keys SET last_used_at = :now WHERE id = :id"


@dataclass(frozen=True)
class OptoutChange:
    phone_number: str
    scope: str
    opted_out: bool
    keyword: str | None


@dataclass(frozen=True)
class HandlerJob:
    inbound_id: int
    handler: str


def _candidate(row: Row) -> Candidate:
    return Candidate(
        outbound_id=int(row["id"]),
        sent_at=row["submitted_at"],
        reply_code=row["reply_code"],
        recipient_type=row["recipient_type"],
        recipient_id=row["recipient_id"],
    )


def _api_key(row: Row) -> ApiKey:
    return ApiKey(
        id=int(row["id"]),
        name=row["name"],
        key_prefix=row["key_prefix"],
        scopes=frozenset(Scope(s) for s in str(row["scopes"]).split()),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


class InboundStoreMixin:
    dialect: Dialect

    # -- webhooks ------------------------------------------------------------------------

    def sender_by_number(self, number: str, service_sid: str | None = None) -> Sender | None:
        """The sender whose from_number received a reply (the reply's To), else the one whose
        Messaging Service it is (a reply to a pool number carries MessagingServiceSid)."""
        with self.dialect.transaction("inbound", write=False) as tx:
            row = tx.row(SENDER_BY_NUMBER, {"phone": number})
            if row is None and service_sid:
                row = tx.row(SENDER_BY_SERVICE, {"service_sid": service_sid})
        if row is None:
            return None
        names = {f.name for f in dataclasses.fields(Sender)}
        values = {k: v for k, v in row.items() if k in names}
        values["active"] = row.get("active") == "Y"
        values["mps"] = float(row["mps"])
        return Sender(**values)

    def thread_candidates(
        self,
        number: str,
        sender_number: str,
        codes: Sequence[str],
        *,
        reference_since: datetime,
        window_since: datetime,
        sender_code: str | None = None,
    ) -> tuple[list[Candidate], list[Candidate]]:
        """(messages to ``number`` carrying one of ``codes``, messages in the window): the
        window's are those sent from ``sender_number``, or by ``sender_code`` when given (a
        Messaging Service sender, whose pool numbers are not on its row)."""
        with self.dialect.transaction("inbound", write=False) as tx:
            by_reference: list[Row] = []
            if codes:
                in_list, binds = ids_in(list(codes), "code")
                by_reference = tx.rows(
                    BY_REFERENCE.format(codes=in_list),
                    {**binds, "phone": number, "since": reference_since},
                )
            if sender_code is not None:
                in_window = tx.rows(
                    IN_WINDOW_OF_SENDER,
                    {"phone": number, "sender_code": sender_code, "since": window_since},
                )
            else:
                in_window = tx.rows(
                    IN_WINDOW,
                    {"phone": number, "sender_number": sender_number, "since": window_since},
                )
        return [_candidate(r) for r in by_reference], [_candidate(r) for r in in_window]

    def record_inbound(
        self, record: InboundRecord, now: datetime, optout: OptoutChange | None = None
    ) -> tuple[int, bool]:
        """Store a reply once per MessageSid and apply its opt-out/in in the same transaction.

        A retried webhook (same MessageSid) changes nothing, not even the opt-out's changed_at.
        """
        params: dict[str, Any] = dataclasses.asdict(record)
        params["received_at"] = now
        if record.status != "NEW":
            params["processed_at"] = now
        column_sizes.check("sms_inbound", params)
        optout_params = None
        if optout is not None:
            optout_params = {
                "phone_number": optout.phone_number,
                "scope": optout.scope,
                "state": "OPTED_OUT" if optout.opted_out else "OPTED_IN",
                "keyword": optout.keyword,
                "source": "inbound",
                "changed_at": now,
            }
            column_sizes.check("sms_optouts", optout_params)
        with self.dialect.transaction("inbound") as tx:
            inbound_id, inserted = self.dialect.insert_inbound(tx, params)
            if inserted and optout_params is not None:
                self.dialect.upsert_optout(tx, optout_params)
        return inbound_id, inserted

    def is_unavailable(self, exc: BaseException) -> bool:
        """The error means the database is down (spool the webhook), not a bug."""
        return self.dialect.is_unavailable(exc)

    # -- reading replies -----------------------------------------------------------------

    def get_inbound_by_id(self, inbound_id: int) -> Row | None:
        with self.dialect.transaction("inbound", write=False) as tx:
            return tx.row(GET_INBOUND, {"id": inbound_id})

    def replies_for(self, outbound_id: int) -> list[Row]:
        with self.dialect.transaction("inbound", write=False) as tx:
            return tx.rows(REPLIES_FOR, {"outbound_id": outbound_id})

    def list_inbound(
        self,
        status: str | None = None,
        limit: int = 25,
        offset: int = 0,
        *,
        created_by: str | None = None,
    ) -> Page:
        """Replies, newest first. With ``created_by``, only replies threaded to a message it
        queued (the REST API's keys without admin); unmatched replies are then left out."""
        if not 1 <= limit <= MAX_INBOUND_PAGE or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_INBOUND_PAGE} and offset >= 0")
        if status is not None and status not in INBOUND_STATUSES:
            raise ValueError(f"status must be one of {', '.join(INBOUND_STATUSES)}")
        clauses: list[str] = []
        params: dict[str, Any] = {"limit": limit + 1, "offset": offset}
        if status:
            clauses.append("status = :status")
            params["status"] = status
        if created_by is not None:
            # A semi-join on the outbound row's creator: sms_inbound_outbound_ix finds the
            # replies of each of its messages.
            clauses.append(
                "outbound_id IN (SELECT o.id FROM sms_outbound o WHERE o.created_by = :created_by)"
            )
            params["created_by"] = created_by
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = f"SELECT * FROM sms_inbound{where} ORDER BY id DESC {self.dialect.page_clause}"
        with self.dialect.transaction("inbound", write=False) as tx:
            rows = tx.rows(sql, params)
        return Page(items=rows[:limit], limit=limit, offset=offset, has_more=len(rows) > limit)

    # -- the reply dispatcher ------------------------------------------------------------

    def handler_jobs(
        self, limit: int, now: datetime, lease: timedelta = timedelta(0)
    ) -> list[HandlerJob]:
        """NEW replies with a HANDLER rule, oldest first; a sender's rule beats ``*``. Replies
        another dispatcher took less than ``lease`` ago are left to it."""
        with self.dialect.transaction("dispatch", write=False) as tx:
            rows = tx.rows(
                f"{HANDLER_JOBS} {self.dialect.page_clause}",
                {"limit": limit * 4, "offset": 0, "stale_before": now - lease},
            )
        chosen: dict[int, Row] = {}
        for row in rows:
            current = chosen.get(int(row["id"]))
            if current is None or _rule_rank(row) > _rule_rank(current):
                chosen[int(row["id"])] = row
        return [HandlerJob(i, str(r["handler"])) for i, r in sorted(chosen.items())][:limit]

    def run_procedure_handler(
        self, inbound_id: int, procedure: str, now: datetime, lease: timedelta = timedelta(0)
    ) -> bool:
        """Call a stored procedure with the reply's id and mark it PROCESSED, atomically.

        The handler's own writes commit together with PROCESSED; if it raises, everything it
        did is rolled back and the caller records ERROR. False: someone else took the row.
        """
        with self.dialect.transaction("dispatch") as tx:
            if not self._take_inbound(tx, inbound_id, now, lease):
                return False
            self.dialect.call_procedure(tx, procedure, [inbound_id])
            tx.execute(
                MARK_INBOUND,
                {"id": inbound_id, "status": "PROCESSED", "error_message": None, "now": now},
            )
        return True

    def take_inbound(self, inbound_id: int, now: datetime, lease: timedelta) -> bool:
        """Take a NEW reply for a Python handler; False: another dispatcher has it."""
        with self.dialect.transaction("dispatch") as tx:
            return self._take_inbound(tx, inbound_id, now, lease)

    def _take_inbound(self, tx: Tx, inbound_id: int, now: datetime, lease: timedelta) -> bool:
        params = {"id": inbound_id, "now": now, "stale_before": now - lease}
        return tx.execute(TAKE_INBOUND, params) == 1

    def mark_inbound(
        self, inbound_id: int, status: str, now: datetime, error_message: str | None = None
    ) -> bool:
        if status not in INBOUND_STATUSES or status == "NEW":
            raise ValueError(f"cannot mark a reply {status}")
        with self.dialect.transaction("dispatch") as tx:
            return (
                tx.execute(
                    MARK_INBOUND,
                    {
                        "id": inbound_id,
                        "status": status,
                        # A handler's error text, cut to the column (never mid-character).
                        "error_message": column_sizes.fit(
                            "sms_inbound", "error_message", error_message or None
                        ),
                        "now": now,
                    },
                )
                == 1
            )

    # -- API keys ------------------------------------------------------------------------

    def create_api_key(
        self, name: str, key_prefix: str, key_hash: str, scopes: Sequence[Scope], now: datetime
    ) -> None:
        params = {
            "name": name,
            "key_prefix": key_prefix,
            "key_hash": key_hash,
            "scopes": format_scopes(scopes),
            "now": now,
        }
        column_sizes.check("sms_api_keys", params)
        with self.dialect.transaction("apikey") as tx:
            tx.execute(INSERT_API_KEY, params)

    def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        with self.dialect.transaction("apikey", write=False) as tx:
            row = tx.row(API_KEY_BY_HASH, {"key_hash": key_hash})
        return None if row is None else _api_key(row)

    def api_key_by_name(self, name: str) -> ApiKey | None:
        with self.dialect.transaction("apikey", write=False) as tx:
            row = tx.row(API_KEY_BY_NAME, {"name": name})
        return None if row is None else _api_key(row)

    def list_api_keys(self) -> list[ApiKey]:
        with self.dialect.transaction("apikey", write=False) as tx:
            return [_api_key(r) for r in tx.rows(LIST_API_KEYS)]

    def revoke_api_key(self, name: str, now: datetime) -> bool:
        with self.dialect.transaction("apikey") as tx:
            return tx.execute(REVOKE_API_KEY, {"name": name, "now": now}) == 1

    def touch_api_key(self, key_id: int, now: datetime) -> None:
        with self.dialect.transaction("apikey") as tx:
            tx.execute(TOUCH_API_KEY, {"id": key_id, "now": now})
