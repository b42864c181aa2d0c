"""Issue 11: invisible, fullwidth and non-ASCII punctuation forms of the compliance keywords."""

from __future__ import annotations

import pytest

from bridge.domain.keywords import KEYWORD_MAX, Action, classify, first_word, normalise


@pytest.mark.parametrize(
    ("body", "keyword", "action"),
    [
        ("STOP\u00a0", "STOP", Action.OPT_OUT),  # no-break space
        ("STOP\u200b", "STOP", Action.OPT_OUT),  # zero-width space
        ("stop\u3002", "STOP", Action.OPT_OUT),  # ideographic full stop
        ("\ufeffSTOP", "STOP", Action.OPT_OUT),  # byte order mark / zero-width no-break space
        ("STOP\ufeff", "STOP", Action.OPT_OUT),
        ("STOP\u2060", "STOP", Action.OPT_OUT),  # word joiner
        ("\uff33\uff34\uff2f\uff30", "STOP", Action.OPT_OUT),  # fullwidth ＳＴＯＰ
        ("\u3000stop\uff01", "STOP", Action.OPT_OUT),  # ideographic space, fullwidth !
        ("Stop!", "STOP", Action.OPT_OUT),
        ("stop.", "STOP", Action.OPT_OUT),
        ("unsubscribe\u2026", "UNSUBSCRIBE", Action.OPT_OUT),  # ellipsis
        ("START\u00a0", "START", Action.OPT_IN),
        ("HELP\uff1f", "HELP", Action.HELP),  # fullwidth ？
    ],
)
def test_invisible_and_fullwidth_forms_are_keywords(
    body: str, keyword: str, action: Action
) -> None:
    found = classify(body, opted_out=False)
    assert (found.keyword, found.action) == (keyword, action)


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP it please", "STOP"),  # whole-body match only, as before
        ("STOP\u00a0it please", "STOP"),
        ("STOP\u200bit", "STOP"),  # a format character separates words, it never joins them
        ("please\u00a0stop", "PLEASE"),
        ("ST\u200bOP", "ST"),
        ("YES 4821", "YES"),
        ("YES\u200b4821", "YES"),
        ("\uff39\uff25\uff33 4821", "YES"),  # fullwidth ＹＥＳ
        ("\u00a0", None),
        ("\u200b\u3002", None),
    ],
)
def test_ordinary_replies_stay_ordinary(body: str, keyword: str | None) -> None:
    found = classify(body, opted_out=False)
    assert (found.keyword, found.action) == (keyword, None)


def test_the_keyword_stored_is_ascii_upper_case_within_the_column() -> None:
    word = first_word("\uff41" * 40)  # fullwidth a
    assert word == "A" * KEYWORD_MAX
    assert first_word("\u0434\u0430 yes") == "YES"  # non-ASCII letters are no keyword


def test_normalise_keeps_inner_text() -> None:
    assert normalise("\u200b Stop it, please!\u00a0") == "STOP IT, PLEASE"
