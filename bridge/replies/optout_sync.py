"""Opt-outs from Twilio's own history: ``sms-bridge optouts sync`` and the worker's daily job.

For every number on a sender row, the inbound messages it received since a date are listed
through the Messages API (To = the number, DateSent > since, every page; the caller passes the
listing, which the outbound gateway does) and each body is read with the webhook's keyword
rules (bridge.domain.keywords, folded: "STOP\u00a0", "ＳＴＯＰ", "stop." are STOP; a site's own
one-word OPT_OUT / OPT_IN rows of sms_keywords too). STOP-family words opt the handset out of
the sender's scope (its Messaging Service, else its number; STOPALL: every sender), START-family
words opt it back in; HELP and every other body are ignored, and so is YES (an opt-in only for a
number opted out at the time, which history cannot tell).

Each change is dated by the message's ``date_sent``, moved to our clock by the skew the listing's
Date header shows (bridge.domain.optout_history.on_our_clock), and written only when it is newer
than the number's current row (the store's rule: an older change never overwrites a newer one),
with source ``twilio-history``. A message the webhook already stored (its MessageSid is in
sms_inbound) was applied then and is skipped. Running twice changes nothing the second time.

Not covered: a Messaging Service sender without a from_number (its pool's numbers are not on
its row; give each pool number a sender row, or the service's number, to have it scanned).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from bridge.domain.keywords import GLOBAL_SCOPE, Action, classify, normalise
from bridge.domain.optout_history import (
    HISTORY_SOURCE,
    HistoryChange,
    HistoryMessage,
    on_our_clock,
)
from bridge.domain.phone import mask
from bridge.store import Store

log = logging.getLogger(__name__)

# Inbound messages to one number since a time on Twilio's clock (DateSent >), newest first,
# listed through a Twilio account (None: [twilio]; else its [twilio.accounts.NAME]).
ListInbound = Callable[[str, datetime, str | None], Iterable[HistoryMessage]]
# Twilio's clock minus ours, read from that account's last listing page's Date header (None:
# no header).
ClockOffset = Callable[[str | None], timedelta | None]
# Twilio's DateSent is on its clock (±minutes of skew) and real Twilio may read a date-time as
# its day: every run reads a day further back than its window. Idempotent, so only a cost.
OVERLAP = timedelta(days=1)
# Two readings of one message's time differ by the skew readings' error (a second or two).
SAME_CHANGE = timedelta(seconds=10)
_RULE_ACTIONS = {"OPT_OUT": Action.OPT_OUT, "OPT_IN": Action.OPT_IN}


@dataclass
class OptoutSyncResult:
    numbers: int = 0  # numbers scanned
    messages: int = 0  # inbound messages read
    opted_out: int = 0  # opt-outs applied
    opted_in: int = 0  # opt-ins applied
    older: int = 0  # keyword messages older than (or equal to) the number's current row
    already_received: int = 0  # stored by the webhook when they arrived: applied then
    not_covered: list[str] = field(default_factory=list)  # sender codes without a number
    # Sender codes whose Twilio account is not in the settings (the worker holds them too).
    unconfigured: list[str] = field(default_factory=list)
    changes: list[HistoryChange] = field(default_factory=list)

    def line(self) -> str:
        text = (
            f"optouts sync: {self.numbers} number(s) scanned, {self.messages} message(s) read,"
            f" {self.opted_out} opt-out(s) applied, {self.opted_in} opt-in(s) applied,"
            f" {self.older} older than current ignored"
        )
        if self.already_received:
            text += f", {self.already_received} already received by the webhook"
        if self.not_covered:
            text += f"; not scanned (Messaging Service, no number): {', '.join(self.not_covered)}"
        if self.unconfigured:
            text += f"; not scanned (Twilio account not configured): {', '.join(self.unconfigured)}"
        return text

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["changes"] = [
            {
                "number": mask(c.phone_number),
                "scope": c.scope,
                "state": "OPTED_OUT" if c.opted_out else "OPTED_IN",
                "keyword": c.keyword,
                "changed_at": c.changed_at.isoformat(),
            }
            for c in self.changes
        ]
        return data


def sync_optouts(
    store: Store,
    list_inbound: ListInbound,
    clock_offset: ClockOffset,
    since: datetime,
    *,
    accounts: Collection[str] = (),
    overlap: timedelta = OVERLAP,
) -> OptoutSyncResult:
    """Apply the STOP/START keywords of every inbound message our numbers received since
    ``since`` (our clock); see the module's docstring. Each number is listed through its
    sender's Twilio account (the one that owns it); a sender naming an account not among
    ``accounts`` (the configured [twilio.accounts.NAME]) is not scanned, and said so."""
    result = OptoutSyncResult()
    numbers: dict[str, str | None] = {}  # number -> the account it is listed through
    for sender in store.list_senders():
        account = sender.twilio_account
        if account is not None and account not in accounts:
            result.unconfigured.append(sender.code)
        elif sender.from_number:
            numbers.setdefault(sender.from_number, account)
        elif sender.messaging_service_sid:
            result.not_covered.append(sender.code)
    for number, account in numbers.items():
        result.numbers += 1
        offset: timedelta | None = None
        for index, message in enumerate(list_inbound(number, since - overlap, account)):
            if index == 0:  # the first page has been read: its Date header is Twilio's clock
                offset = clock_offset(account)
            result.messages += 1
            _apply(store, message, offset, result)
    if result.changes:
        log.info("%s", result.line())
    return result


def _apply(
    store: Store,
    message: HistoryMessage,
    offset: timedelta | None,
    result: OptoutSyncResult,
) -> None:
    if message.date_sent is None:
        return
    sender = store.sender_by_number(message.to_number, message.messaging_service_sid)
    scope = sender.optout_scope if sender else (message.messaging_service_sid or message.to_number)
    action, keyword = _keyword(store, message.body, sender.code if sender else None)
    if action is None or keyword is None:
        return
    if store.get_inbound(message.sid) is not None:
        result.already_received += 1
        return
    target = GLOBAL_SCOPE if keyword == "STOPALL" else scope
    changed_at = on_our_clock(message.date_sent, offset)
    opted_out = action is Action.OPT_OUT
    current = store.get_optout(message.from_number, target)
    if current is not None and (
        current["changed_at"] >= changed_at
        # This change, written by an earlier run whose skew reading differed a little.
        or (
            current["state"] == ("OPTED_OUT" if opted_out else "OPTED_IN")
            and changed_at - current["changed_at"] <= SAME_CHANGE
        )
    ):
        result.older += 1
        return
    store.set_optout(
        message.from_number,
        target,
        opted_out,
        changed_at,
        keyword=keyword,
        source=HISTORY_SOURCE,
    )
    result.changes.append(
        HistoryChange(message.from_number, target, opted_out, keyword, changed_at)
    )
    if opted_out:
        result.opted_out += 1
    else:
        result.opted_in += 1
    log.info(
        "history: %s %s %s (%s, %s)",
        mask(message.from_number),
        "opted out of" if opted_out else "opted in to",
        target,
        keyword,
        changed_at.isoformat(),
    )


def _keyword(store: Store, body: str, sender_code: str | None) -> tuple[Action | None, str | None]:
    """The webhook's reading of a body (bridge.replies.processing._classify) without Twilio's
    OptOutType, which history does not carry: STOP/START families, a site's own one-word
    OPT_OUT/OPT_IN rule; YES never (opted_out=False)."""
    found = classify(body, opted_out=False)
    if found.action in (Action.OPT_OUT, Action.OPT_IN):
        return found.action, found.keyword
    if found.action is None and found.keyword and normalise(body) == found.keyword:
        rule = store.keyword_rule(found.keyword, sender_code)
        if rule is not None and rule.action in _RULE_ACTIONS:
            return _RULE_ACTIONS[rule.action], found.keyword
    return None, None
