"""Which claimed messages go to a landline, by Twilio Lookup v2 (issue 13 #4).

Only for senders with ``line_type_lookup`` and +1 numbers (bridge.domain.line_types: in the
NANP fixed and mobile numbers share area codes, so phonenumbers cannot tell them apart). The
cache first, in one read; Twilio Lookup only for the numbers without a fresh answer, in
parallel on the worker's send pool; new answers cached. A failed lookup (timeout, 429, 5xx)
never holds a message back: it is sent as it would be without the option, and the number is
asked again next time (logged once while Lookup keeps failing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from datetime import datetime, timedelta
from typing import Protocol

from bridge.domain import line_types
from bridge.domain.models import Sender
from bridge.domain.phone import mask
from bridge.outbound.gateway import TwilioGateway
from bridge.store import Store

log = logging.getLogger(__name__)


class Addressed(Protocol):
    """What a screened send needs: its number and its sender (the worker's Flight)."""

    @property
    def to(self) -> str: ...

    @property
    def sender(self) -> Sender: ...


class LineTypeScreen:
    def __init__(
        self, store: Store, gateway: TwilioGateway, ttl: timedelta = line_types.DEFAULT_TTL
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.ttl = ttl
        self._failing = False  # Lookup's last answer was a failure (logged once)

    def refused(self, sends: Sequence[Addressed], now: datetime, pool: Executor) -> dict[str, str]:
        """Number -> reason, for the numbers of ``sends`` that must not be sent to. A number is
        looked up through the Twilio account of (the first of) its senders."""
        numbers: dict[str, str | None] = {}
        for s in sends:
            if s.sender.line_type_lookup and line_types.wants_lookup(s.to):
                numbers.setdefault(s.to, s.sender.twilio_account)
        if not numbers:
            return {}
        answers = {
            number: answer
            for number, answer in self.store.line_types(numbers).items()
            if line_types.is_fresh(answer, now, self.ttl)
        }
        missing = sorted(numbers.keys() - answers.keys())
        if missing:
            answers.update(self._ask({n: numbers[n] for n in missing}, now, pool))
        return {
            number: line_types.reason(answer)
            for number, answer in answers.items()
            if line_types.refuses(answer)
        }

    def _ask(
        self, numbers: dict[str, str | None], now: datetime, pool: Executor
    ) -> dict[str, line_types.LineType]:
        found: dict[str, line_types.LineType] = {}
        failures: list[tuple[str, str]] = []
        asked = list(numbers)
        for number, result in zip(
            asked, pool.map(lambda n: self._lookup(n, now, numbers[n]), asked), strict=True
        ):
            if isinstance(result, str):
                failures.append((number, result))
            else:
                found[number] = result
        self.store.save_line_types(list(found.values()))
        if failures and not self._failing:
            log.warning(
                "%s (%s and %d more): sent without a line type until Lookup answers again",
                failures[0][1],
                mask(failures[0][0]),
                len(failures) - 1,
            )
        elif found and self._failing and not failures:
            log.info("Twilio Lookup answers again")
        self._failing = bool(failures)
        return found

    def _lookup(self, number: str, now: datetime, account: str | None) -> line_types.LineType | str:
        try:
            return self.gateway.lookup_line_type(number, now, account=account)
        except Exception as exc:  # never lose the claim over a lookup: send without it
            return f"Twilio Lookup: {type(exc).__name__}: {exc}"
