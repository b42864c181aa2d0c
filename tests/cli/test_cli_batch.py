"""``sms-bridge enqueue --csv`` and ``report --batch``, through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.config import DatabaseSettings
from bridge.store import open_store
from tests.cli.support import one_line, sms_bridge


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {"SMS_BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    assert sms_bridge("db", "install", cwd=tmp_path, env=environment).returncode == 0
    sender = sms_bridge(
        "sender", "HR", "--from-number", "+15005550006", cwd=tmp_path, env=environment
    )
    assert sender.returncode == 0, sender.stderr
    return environment


def rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'cli.db'}"))
    try:
        with store.dialect.transaction("read", write=False) as tx:
            return [tuple(r.values()) for r in tx.rows(sql)]
    finally:
        store.close()


CSV = (
    "to,body,reference,correlation_key,priority\n"
    "+14155550101,Shift moved to 9,r1,k1,2\n"
    "+14155550102,,r2,k2,2\n"  # empty body
    "12345,Not a number,r3,k3,2\n"
    "+14155550104,Priority words,r4,k4,high\n"
    "+14155550105,Fine too,r5,k5,3\n"
)


def test_each_line_gets_its_answer_and_the_batch_its_summary(
    tmp_path: Path, env: dict[str, str]
) -> None:
    (tmp_path / "shifts.csv").write_text(CSV, encoding="utf-8")
    args = ("enqueue", "--csv", "shifts.csv", "--sender", "HR", "--source-system", "ROSTER")
    result = sms_bridge(*args, cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr  # some lines were refused
    lines = result.stdout.splitlines()
    assert lines[0].startswith("line 2: #") and lines[0].endswith("QUEUED")
    assert lines[1].startswith("line 3: refused empty_body")
    assert lines[2].startswith("line 4: refused bad_number")
    assert lines[3].startswith("line 5: refused invalid_line: priority")
    assert lines[4].startswith("line 6: #")
    assert lines[5].startswith("batch 1: 2 queued, 3 refused")
    assert "Traceback" not in result.stderr
    assert rows(tmp_path, "SELECT COUNT(*) AS n FROM sms_outbound WHERE batch_id = 1") == [(2,)]

    # The same file again: the correlation keys answer with the same ids, nothing queued twice.
    again = sms_bridge(*args, "--batch", "1", "--json", cwd=tmp_path, env=env)
    ids = [i["id"] for i in json.loads(again.stdout)["items"] if "id" in i]
    first_ids = [int(line.split("#")[1].split()[0]) for line in (lines[0], lines[4])]
    assert ids == first_ids
    assert rows(tmp_path, "SELECT COUNT(*) AS n FROM sms_outbound") == [(2,)]

    report = sms_bridge("report", "--batch", "1", "--json", cwd=tmp_path, env=env)
    assert report.returncode == 0, report.stderr
    summary = json.loads(report.stdout)
    assert (summary["attempted"], summary["pending"], summary["source"]) == (8, 2, "CSV")
    text = sms_bridge("report", "--batch", "1", cwd=tmp_path, env=env).stdout
    assert "batch 1 (CSV, shifts.csv)" in text and "duplicate" in text


def test_a_reimport_says_where_each_row_stands_and_a_repeated_key_is_refused(
    tmp_path: Path, env: dict[str, str]
) -> None:
    content = "to,body,correlation_key\n+14155550101,first,k1\n+14155550102,second,k2\n"
    (tmp_path / "a.csv").write_text(content, encoding="utf-8")
    args = ("enqueue", "--csv", "a.csv", "--sender", "HR", "--source-system", "ROSTER")
    first = sms_bridge(*args, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    first_id = int(first.stdout.split("#")[1].split()[0])
    store = open_store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'cli.db'}"))
    try:
        store.cancel(first_id, store.now())
    finally:
        store.close()
    again = sms_bridge(*args, cwd=tmp_path, env=env).stdout.splitlines()
    assert again[0] == f"line 2: #{first_id} CANCELED", again
    assert again[1].endswith(" QUEUED")
    assert again[2].startswith("batch 1: 2 queued")  # the batch that holds them, no new one
    assert rows(tmp_path, "SELECT COUNT(*) AS n FROM sms_batches") == [(1,)]

    repeated = "to,body,correlation_key\n+14155550103,one,k9\n+14155550104,two,k9\n"
    (tmp_path / "b.csv").write_text(repeated, encoding="utf-8")
    result = sms_bridge(
        "enqueue",
        "--csv",
        "b.csv",
        "--sender",
        "HR",
        "--source-system",
        "ROSTER",
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].endswith(" QUEUED")
    assert lines[1] == (
        "line 3: refused duplicate_correlation_key: correlation_key repeats line 2's:"
        " one message per key"
    )
    assert rows(tmp_path, "SELECT COUNT(*) AS n FROM sms_outbound WHERE body = 'two'") == [(0,)]


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        ("to,body,colour\n+14155550101,hi,red\n", (), "unknown column 'colour'"),
        ("to,reference\n+14155550101,x\n", (), "no 'body' column"),
        ("to,body\n", (), "no lines after the header"),
        ("to,body\n+14155550101,hi\n", ("--body", "x"), "--body cannot be combined with --csv"),
        ("to,body\n+14155550101,hi\n", ("--batch", "99"), "unknown batch 99"),
    ],
)
def test_a_bad_file_is_one_line_and_queues_nothing(
    tmp_path: Path, env: dict[str, str], content: str, args: tuple[str, ...], expected: str
) -> None:
    (tmp_path / "in.csv").write_text(content, encoding="utf-8")
    result = sms_bridge(
        "enqueue", "--csv", "in.csv", "--sender", "HR", *args, cwd=tmp_path, env=env
    )
    assert result.returncode == 2
    assert expected in one_line(result.stderr)
    assert rows(tmp_path, "SELECT COUNT(*) AS n FROM sms_outbound") == [(0,)]


def test_missing_file_and_unknown_batch_report(tmp_path: Path, env: dict[str, str]) -> None:
    missing = sms_bridge("enqueue", "--csv", "nope.csv", "--sender", "HR", cwd=tmp_path, env=env)
    assert missing.returncode == 2 and "nope.csv" in one_line(missing.stderr)
    report = sms_bridge("report", "--batch", "5", cwd=tmp_path, env=env)
    assert report.returncode == 2 and "unknown batch 5" in one_line(report.stderr)


def test_sender_dedupe_window_is_saved_and_checked(tmp_path: Path, env: dict[str, str]) -> None:
    saved = sms_bridge("sender", "HR", "--dedupe-window", "3600", cwd=tmp_path, env=env)
    assert saved.returncode == 0
    assert rows(tmp_path, "SELECT dedupe_window_seconds FROM sms_senders") == [(3600,)]
    bad = sms_bridge("sender", "HR", "--dedupe-window", "99999999", cwd=tmp_path, env=env)
    assert bad.returncode == 2 and "--dedupe-window" in one_line(bad.stderr)
    cleared = sms_bridge("sender", "HR", "--dedupe-window", "0", cwd=tmp_path, env=env)
    assert cleared.returncode == 0
    assert rows(tmp_path, "SELECT dedupe_window_seconds FROM sms_senders") == [(None,)]
