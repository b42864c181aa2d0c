"""The Store's cost operations: Twilio's price of a message, and cost by sender and month.

Twilio prices a message once it is final, often minutes after its final status, and a status
callback never carries the price: the sync job records it (``record_price``) from what a
look-up returns, and goes back for final messages still without one (``unpriced_final``).
A known price is never replaced by null: ``record_price`` takes a price or does nothing.

The month of a message is the UTC month of ``submitted_at``, taken as ``SUBSTR`` of the
dialect's UTC day text (``YYYY-MM-DD``): one spelling for both engines. Mixed into ``Store``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.domain.column_sizes import fit
from bridge.domain.cost import CostRow, cost_of
from bridge.domain.models import Message
from bridge.store.rows import StoreBase, message_from_row

# A price is recorded only with its unit; the row's updated_at is left alone (the price is
# Twilio's bookkeeping, not a change of the message: the sync job's rotation and the console's
# recent-error window read updated_at).
RECORD_PRICE = """
UPDATE sms_outbound
   SET price = CAST(:price AS NUMBER), price_unit = :price_unit
 WHERE id = :id
   AND (price IS NULL OR price_unit IS NULL OR price <> CAST(:price AS NUMBER)
        OR price_unit <> :price_unit)
"""

# Final messages Twilio charges for (delivered, undelivered: a failed one never left Twilio)
# that have a SID and no price, final between :final_since and :settled, newest first. The
# submitted_at bound keeps the read on sms_outbound_sync_ix (status, submitted_at). The dialect
# appends its page clause.
UNPRICED_FINAL = """
SELECT * FROM sms_outbound
 WHERE status IN ('DELIVERED', 'UNDELIVERED')
   AND submitted_at >= :submitted_since
   AND final_at >= :final_since AND final_at < :settled
   AND price IS NULL AND provider_sid IS NOT NULL
 ORDER BY final_at DESC, id DESC
"""

# Messages submitted to Twilio in [:since, :until), by sender, UTC month and currency.
COST_BY_SENDER_AND_MONTH = """
SELECT sender_code, {month} AS month_utc, price_unit,
       COUNT(*) AS messages, COUNT(price) AS priced,
       SUM(COALESCE(num_segments, 0)) AS segments, SUM(price) AS price_sum
  FROM sms_outbound
 WHERE submitted_at >= :since AND submitted_at < :until
   AND (:everyone = 1 OR created_by = :created_by)
 GROUP BY sender_code, {month}, price_unit
 ORDER BY sender_code, {month}, price_unit
"""

# How far before the window of final_at a message may have been submitted and still be read:
# the sync job asks SENT rows for 3 days (outcomes.SYNC_MAX_AGE), then a day of slack.
SUBMITTED_SLACK = timedelta(days=4)


class CostStoreMixin(StoreBase):
    def record_price(self, message_id: int, price: float | None, price_unit: str | None) -> bool:
        """Record Twilio's price (negative: a charge) and currency on a message, final or not;
        returns whether the row changed. Without a price or unit nothing is written, so a known
        price is never replaced by null."""
        if price is None or not price_unit:
            return False
        params = {
            "id": message_id,
            "price": round(float(price), 5),
            "price_unit": fit("sms_outbound", "price_unit", price_unit.upper()),
        }
        with self.dialect.transaction("price") as tx:
            return tx.execute(RECORD_PRICE, params) == 1

    def unpriced_final(
        self, final_since: datetime, settled: datetime, *, limit: int = 100
    ) -> list[Message]:
        """Delivered/undelivered messages with a SID and no price yet, final between
        ``final_since`` and ``settled``, newest first, at most ``limit``."""
        sql = f"{UNPRICED_FINAL} {self.dialect.page_clause}"
        params = {
            "submitted_since": final_since - SUBMITTED_SLACK,
            "final_since": final_since,
            "settled": settled,
            "limit": limit,
            "offset": 0,
        }
        with self.dialect.transaction("price", write=False) as tx:
            return [message_from_row(r) for r in tx.rows(sql, params)]

    def cost_by_sender_and_month(
        self, since: datetime, until: datetime, *, created_by: str | None = None
    ) -> list[CostRow]:
        """Messages submitted in [since, until) by sender, UTC month and price unit (one row
        per currency, and one without a unit for those not priced); with ``created_by``, only
        the messages that key queued (the REST API's keys without admin)."""
        day = self.dialect.day_format.format(column="submitted_at")
        sql = COST_BY_SENDER_AND_MONTH.format(month=f"SUBSTR({day}, 1, 7)")
        params = {
            "since": since,
            "until": until,
            "everyone": 1 if created_by is None else 0,
            "created_by": created_by,
        }
        with self.dialect.transaction("report", write=False) as tx:
            rows = tx.rows(sql, params)
        found = [
            CostRow(
                sender_code=str(r["sender_code"]),
                month=str(r["month_utc"]),
                price_unit=None if r["price_unit"] is None else str(r["price_unit"]),
                messages=int(r["messages"]),
                priced=int(r["priced"]),
                segments=int(r["segments"] or 0),
                cost=cost_of(r["price_sum"]),
            )
            for r in rows
        ]
        # The engines sort NULL apart (SQLite first, Oracle last): the unpriced row goes last.
        return sorted(
            found, key=lambda r: (r.sender_code, r.month, r.price_unit is None, r.price_unit or "")
        )
