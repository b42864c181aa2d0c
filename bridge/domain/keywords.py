"""Reply keyword classification (pure: no I/O).

Carrier rules (CTIA, and Twilio's own Advanced Opt-Out) treat a handful of words as compliance
keywords when they are the whole message: they must take effect at once, whatever any handler
would like to do with the reply. Everything else is routed by its first word through
``sms_keywords`` (action HANDLER) by the reply dispatcher.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from bridge.domain.column_sizes import column

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# YES re-subscribes only a number that is opted out: to everyone else it is an ordinary answer
# ("reply YES to confirm"), routed to the handlers like any other reply.
CONDITIONAL_OPT_IN = "YES"
# STOPALL leaves every sender of the account, not only the number it was sent to.
GLOBAL_SCOPE = "*"
GLOBAL_OPT_OUT_WORDS = frozenset({"STOPALL"})

KEYWORD_MAX = column("sms_inbound", "keyword").size  # VARCHAR2(30 CHAR): characters
_FIRST_WORD = re.compile(r"[A-Za-z0-9]+")


class Action(StrEnum):
    OPT_OUT = "OPT_OUT"
    OPT_IN = "OPT_IN"
    HELP = "HELP"


@dataclass(frozen=True)
class Classification:
    """``action`` is set for compliance keywords only; ``keyword`` is what handlers route on."""

    keyword: str | None
    action: Action | None = None

    def optout_scope(self, to_number: str) -> str:
        """The sms_optouts scope: the number the reply was sent to, or ``*`` for STOPALL."""
        return GLOBAL_SCOPE if self.keyword in GLOBAL_OPT_OUT_WORDS else to_number


def _is_edge(char: str) -> bool:
    """White space or punctuation (any Unicode category P*: "." "!" "?" "。" "！" "？" ...)."""
    return char.isspace() or unicodedata.category(char).startswith("P")


def fold(body: str | None) -> str:
    """The reply as keywords are read from it: NFKC (fullwidth "ＳＴＯＰ" is STOP, U+00A0 and
    U+3000 are spaces), then every Unicode white space and format character (category Cf:
    U+200B, U+200D, U+2060, U+FEFF, U+00AD ...) a plain space. A space, not nothing, so no two
    words are joined: "YES\u200b4821" still starts with YES. Case and punctuation are kept."""
    text = unicodedata.normalize("NFKC", body or "")
    return "".join(" " if c.isspace() or unicodedata.category(c) == "Cf" else c for c in text)


def normalise(body: str | None) -> str:
    """Folded (``fold``), upper case, white space and punctuation (Unicode P*) removed at both
    ends: "Stop." "STOP\u00a0" "STOP\u200b" "stop。" "ＳＴＯＰ" are all STOP. Inner spaces stay,
    so "STOP it please" is no whole-body keyword. This is the reference: PL/SQL matches no
    compliance keyword (hr_cert_sms.is_confirmation reads its first run of letters only)."""
    text = fold(body)
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end].upper()


def first_word(body: str | None) -> str | None:
    """The first run of ASCII letters and digits of the folded reply, upper case (ASCII, at
    most KEYWORD_MAX characters, as sms_inbound.keyword stores it)."""
    found = _FIRST_WORD.search(fold(body))
    return found.group(0).upper()[:KEYWORD_MAX] if found else None


def classify(body: str | None, *, opted_out: bool) -> Classification:
    """Classify a reply. ``opted_out``: the number is currently opted out of this sender."""
    whole = normalise(body)
    if whole in OPT_OUT_WORDS:
        return Classification(whole, Action.OPT_OUT)
    if whole in OPT_IN_WORDS or (whole == CONDITIONAL_OPT_IN and opted_out):
        return Classification(whole, Action.OPT_IN)
    if whole in HELP_WORDS:
        return Classification(whole, Action.HELP)
    return Classification(first_word(body))
