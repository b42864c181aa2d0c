"""``sms-bridge keyword list|add|remove`` (issue 13 #7) through the real console script: the
reply keyword rules without SQL, refused in one line when they could never match."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.store import open_store
from tests.cli.support import one_line, sms_bridge


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "sms-bridge.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "bridge.db"}"\n', encoding="utf-8"
    )
    run(tmp_path, "db", "install", "--no-demo")
    run(tmp_path, "sender", "HR", "--from-number", "+15005550006")
    return tmp_path


def run(site: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    proc = sms_bridge("--config", str(site / "sms-bridge.toml"), *args, cwd=site)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc


def rules(site: Path) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = json.loads(run(site, "keyword", "list", "--json").stdout)
    return listed


def test_add_list_replace_and_remove(site: Path) -> None:
    assert one_line(run(site, "keyword", "list").stdout) == "no keyword rules"
    out = run(site, "keyword", "add", "arret", "--action", "opt_out", "--sender", "hr").stdout
    assert one_line(out) == "keyword ARRET for HR: OPT_OUT saved"
    run(site, "keyword", "add", "INFO2", "--action", "HELP", "--reply", "HR desk: 555-0100")
    run(site, "keyword", "add", "*", "--action", "HANDLER", "--sender", "HR",
        "--handler", "hr_cert_sms.on_reply")  # fmt: skip
    assert rules(site) == [
        {"keyword": "*", "sender": "HR", "action": "HANDLER",
         "handler": "hr_cert_sms.on_reply", "reply": None, "active": True},
        {"keyword": "ARRET", "sender": "HR", "action": "OPT_OUT", "handler": None,
         "reply": None, "active": True},
        {"keyword": "INFO2", "sender": "*", "action": "HELP", "handler": None,
         "reply": "HR desk: 555-0100", "active": True},
    ]  # fmt: skip
    table = run(site, "keyword", "list").stdout.splitlines()
    assert table[0].split() == ["keyword", "sender", "action", "handler", "reply", "active"]
    # The webhook reads the rule as written: a reply "arret" to HR is an opt-out word.
    store = open_store(DatabaseSettings(url=f"sqlite:///{site / 'bridge.db'}"))
    rule = store.keyword_rule("ARRET", "HR")
    assert rule is not None and rule.action == "OPT_OUT"
    store.close()
    run(site, "keyword", "add", "ARRET", "--action", "OPT_IN", "--sender", "HR")  # replaces
    assert [r["action"] for r in rules(site) if r["keyword"] == "ARRET"] == ["OPT_IN"]
    assert one_line(run(site, "keyword", "remove", "arret", "--sender", "HR").stdout) == (
        "keyword ARRET for HR removed"
    )
    assert [r["keyword"] for r in rules(site)] == ["*", "INFO2"]
    gone = run(site, "keyword", "remove", "ARRET", "--sender", "HR", expect=2)
    assert "no rule for keyword ARRET and sender HR" in one_line(gone.stderr)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["two words", "--action", "HELP"], "one word of letters and digits"),
        (["ARRÊT", "--action", "OPT_OUT"], "one word of letters and digits"),
        (["*", "--action", "OPT_OUT"], "keyword * is for HANDLER rules only"),
        (["DONE", "--action", "HANDLER"], "a HANDLER rule needs [schema.]package.procedure"),
        (["DONE", "--action", "HANDLER", "--handler", "drop table"], "not 'drop table'"),
        (["DONE", "--action", "HELP", "--handler", "p.q"], "--handler is for HANDLER rules"),
        (["DONE", "--action", "OPT_OUT", "--reply", "x"], "--reply is for HELP rules"),
        (["DONE", "--action", "HELP", "--sender", "NOPE"], "no such sender (known: HR, or *)"),
        (["K" * 31, "--action", "HELP"], "at most 30"),
    ],
)
def test_a_rule_that_could_never_match_is_one_line_exit_2_and_nothing_saved(
    site: Path, args: list[str], expected: str
) -> None:
    proc = run(site, "keyword", "add", *args, expect=2)
    assert expected in one_line(proc.stderr)
    assert rules(site) == []


def test_an_embedded_python_handler_is_accepted(site: Path) -> None:
    run(site, "keyword", "add", "YES", "--action", "HANDLER",
        "--handler", "tests.replies.handlers_fixture:record")  # fmt: skip
    assert [r["handler"] for r in rules(site)] == ["tests.replies.handlers_fixture:record"]
