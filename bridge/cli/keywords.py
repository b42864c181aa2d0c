"""``sms-bridge keyword list|add|remove``: the reply keyword rules (sms_keywords) without SQL.

A rule routes a one-word reply for one sender (or ``*``, every sender): ``OPT_OUT`` / ``OPT_IN``
(a site's own compliance word beside STOP/START, e.g. ARRET), ``HELP`` (with its answer), or
``HANDLER`` (a procedure the dispatcher calls with the reply's id; keyword ``*`` catches every
reply of that sender no other rule claims). Keywords are stored as replies are read
(bridge.domain.keywords.first_word: ASCII letters and digits, upper case), so a rule that could
never match is refused. ``bridge.cli.main`` registers the commands with :func:`add_parsers`.
"""

from __future__ import annotations

import argparse
import json
import re

from bridge import errors
from bridge.cli.inbound import EXIT_OK
from bridge.config import Settings
from bridge.domain.keywords import KEYWORD_MAX, first_word, normalise
from bridge.store import Store
from bridge.store.keyword_store import KeywordRule

ACTIONS = ("OPT_OUT", "OPT_IN", "HELP", "HANDLER")
CATCH_ALL = "*"
# [schema.]package.procedure, as Oracle names them (also a name registered on SQLite), or an
# embedded Python handler package.module:function.
_HANDLER = re.compile(
    r"[A-Za-z][A-Za-z0-9_$#]*(\.[A-Za-z][A-Za-z0-9_$#]*){0,2}"
    r"|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*"
)


class KeywordRuleError(errors.ConfigError):
    """A rule that cannot be saved: one line, exit 2 (bad input), as for a wrong setting."""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keyword = sub.add_parser("keyword", help="reply keyword rules (sms_keywords)")
    actions = keyword.add_subparsers(dest="keyword_command", required=True, metavar="ACTION")
    listed = actions.add_parser("list", help="list the rules, active or not")
    listed.add_argument("--json", action="store_true")
    listed.set_defaults(handler=cmd_keyword_list)
    added = actions.add_parser(
        "add",
        help="add a rule, or replace the rule of that keyword and sender",
        description="One-word keywords only (letters and digits; replies are matched on their "
        "first word, case-blind). STOP/START/HELP and their Twilio synonyms need no rule.",
    )
    added.add_argument("keyword", help=f"the word, or {CATCH_ALL} (HANDLER only: every reply)")
    added.add_argument("--action", required=True, type=str.upper, choices=ACTIONS)
    added.add_argument("--sender", default=CATCH_ALL, help="a sender code, or * (default)")
    # dest "procedure": "handler" is the command's own function in bridge.cli.main's dispatch.
    added.add_argument(
        "--handler",
        dest="procedure",
        help="HANDLER: [schema.]package.procedure (embedded: package.module:function)",
    )
    added.add_argument("--reply", help="HELP: the answer (else the sender's help text)")
    added.set_defaults(handler=cmd_keyword_add)
    removed = actions.add_parser("remove", help="remove the rule of a keyword and sender")
    removed.add_argument("keyword")
    removed.add_argument("--sender", default=CATCH_ALL, help="a sender code, or * (default)")
    removed.set_defaults(handler=cmd_keyword_remove)


def cmd_keyword_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    rules = store.list_keyword_rules()
    if args.json:
        print(json.dumps(rules, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not rules:
        print("no keyword rules")
        return EXIT_OK
    columns = ("keyword", "sender", "action", "handler", "reply", "active")
    cells = [[_cell(rule[c]) for c in columns] for rule in rules]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    for line in [list(columns), *cells]:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    return EXIT_OK


def cmd_keyword_add(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    keyword = _keyword(args.keyword, catch_all_ok=args.action == "HANDLER")
    sender = _sender(store, args.sender)
    if args.action == "HANDLER":
        if not args.procedure or not _HANDLER.fullmatch(args.procedure):
            raise KeywordRuleError(
                "--handler: a HANDLER rule needs [schema.]package.procedure (or, embedded,"
                " package.module:function)"
                + (f", not {args.procedure!r}" if args.procedure else "")
            )
    elif args.procedure:
        raise KeywordRuleError(f"--handler is for HANDLER rules, not {args.action}")
    if args.reply is not None and args.action != "HELP":
        raise KeywordRuleError(f"--reply is for HELP rules, not {args.action}")
    rule = KeywordRule(keyword, sender, args.action, args.procedure, args.reply or None)
    try:
        store.save_keyword(rule)
    except errors.ColumnValueError as exc:
        raise KeywordRuleError(str(exc)) from None
    print(f"keyword {keyword} for {sender}: {args.action} saved")
    return EXIT_OK


def cmd_keyword_remove(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    keyword = _keyword(args.keyword, catch_all_ok=True)
    sender = args.sender.strip().upper() if args.sender.strip() != CATCH_ALL else CATCH_ALL
    if not store.remove_keyword_rule(keyword, sender):
        raise KeywordRuleError(f"no rule for keyword {keyword} and sender {sender}")
    print(f"keyword {keyword} for {sender} removed")
    return EXIT_OK


def _keyword(text: str, *, catch_all_ok: bool) -> str:
    text = text.strip()
    if text == CATCH_ALL:
        if not catch_all_ok:
            raise KeywordRuleError(f"keyword {CATCH_ALL} is for HANDLER rules only")
        return CATCH_ALL
    word = first_word(text)
    if word is None or normalise(text) != word or len(word) > KEYWORD_MAX:
        raise KeywordRuleError(
            f"keyword {text!r}: one word of letters and digits (at most {KEYWORD_MAX}), as"
            " replies are matched on their first word"
        )
    return word


def _sender(store: Store, text: str) -> str:
    code = text.strip().upper() if text.strip() != CATCH_ALL else CATCH_ALL
    if code != CATCH_ALL and store.get_sender(code) is None:
        known = ", ".join(s.code for s in store.list_senders()) or "none"
        raise KeywordRuleError(f"--sender {code}: no such sender (known: {known}, or *)")
    return code


def _cell(value: object) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"
