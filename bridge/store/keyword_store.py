"""The reply keyword rules (sms_keywords): the rule a reply's keyword meets, and their upkeep.

Read by the webhook (a site's own compliance words, HELP answers) and the dispatcher (HANDLER
rows); kept by ``sms-bridge keyword`` and the demo. Mixed into ``Store``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bridge.domain import column_sizes
from bridge.store.rows import StoreBase

KEYWORD_RULE = """
SELECT keyword, sender_code, action, handler, reply_text FROM sms_keywords
 WHERE keyword = :keyword AND sender_code IN (:sender_code, '*') AND active = 'Y'
"""

INSERT_KEYWORD = """
INSERT INTO sms_keywords (keyword, sender_code, action, handler, reply_text, active)
VALUES (:keyword, :sender_code, :action, :handler, :reply_text, 'Y')
"""

UPDATE_KEYWORD = """
UPDATE sms_keywords SET action = :action, handler = :handler, reply_text = :reply_text,
       active = 'Y'
 WHERE keyword = :keyword AND sender_code = :sender_code
"""

LIST_KEYWORDS = """
SELECT keyword, sender_code, action, handler, reply_text, active FROM sms_keywords
 ORDER BY keyword, sender_code
"""

DELETE_KEYWORD = "DELETE FROM sms_keywords WHERE keyword = :keyword AND sender_code = :sender_code"


@dataclass(frozen=True)
class KeywordRule:
    keyword: str
    sender_code: str
    action: str
    handler: str | None = None
    reply_text: str | None = None


class KeywordStoreMixin(StoreBase):
    def keyword_rule(self, keyword: str, sender_code: str | None) -> KeywordRule | None:
        """The active rule for a keyword: the sender's own before the ``*`` one."""
        with self.dialect.transaction("inbound", write=False) as tx:
            rows = tx.rows(KEYWORD_RULE, {"keyword": keyword, "sender_code": sender_code or "*"})
        rows.sort(key=lambda r: r["sender_code"] == "*")
        return KeywordRule(**rows[0]) if rows else None

    def list_keyword_rules(self) -> list[dict[str, object]]:
        """Every rule, active or not, by keyword and sender (``sms-bridge keyword list``)."""
        with self.dialect.transaction("keyword", write=False) as tx:
            rows = tx.rows(LIST_KEYWORDS)
        return [
            {
                "keyword": r["keyword"],
                "sender": r["sender_code"],
                "action": r["action"],
                "handler": r["handler"],
                "reply": r["reply_text"],
                "active": r["active"] == "Y",
            }
            for r in rows
        ]

    def remove_keyword_rule(self, keyword: str, sender_code: str) -> bool:
        with self.dialect.transaction("keyword") as tx:
            return tx.execute(DELETE_KEYWORD, {"keyword": keyword, "sender_code": sender_code}) == 1

    def save_keyword(self, rule: KeywordRule) -> None:
        params = dataclasses.asdict(rule)
        column_sizes.check("sms_keywords", params)
        with self.dialect.transaction("keyword") as tx:
            if tx.execute(UPDATE_KEYWORD, params) == 0:
                tx.execute(INSERT_KEYWORD, params)
