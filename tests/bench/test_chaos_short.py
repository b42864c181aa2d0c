"""The chaos suite's short run (``python -m bench.chaos --short``), one test per scenario so a
failure names it; plus the accounting itself, on made-up rows, so a zero means something."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench._chaos_check import Result, account_callbacks, account_outbound
from bench.chaos import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]


def run_scenario(name: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
    argv = [sys.executable, "-m", "bench.chaos", "--short", "--scenario", name]
    with subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.terminate()  # SIGTERM: the suite stops every process it started
            out, err = proc.communicate(timeout=60)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_short_scenario_has_zero_counts_and_answers_within_5_s(name: str) -> None:
    done = run_scenario(name)
    report = f"stdout:\n{done.stdout}\nstderr (tail):\n{done.stderr[-3000:]}"
    (line,) = [x for x in done.stdout.splitlines() if x.startswith(f"{name} ")]
    counts = dict(re.findall(r"([a-z_0-9]+) (\d+)(?=  )", line))
    for what in ("lost", "duplicated", "wrong_row", "stuck", "non_2xx", "forged"):
        assert counts.get(what) == "0", f"{what} {counts.get(what)}\n{report}"
    maximum = re.search(r" max (\d+) ms", line)
    assert maximum is None or int(maximum.group(1)) <= 5000, report
    assert line.endswith(" ok") and done.returncode == 0, report


def rows(*values: tuple[str, str, str, str | None]) -> list[sqlite3.Row]:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, to_number, body, status, status_reason,"
        " provider_sid, attempts)"
    )
    conn.executemany(
        "INSERT INTO t (to_number, body, status, provider_sid, attempts) VALUES (?, ?, ?, ?, 1)",
        values,
    )
    found = list(conn.execute("SELECT * FROM t ORDER BY id"))
    conn.close()
    return found


def message(sid: str, to: str, body: str) -> dict[str, Any]:
    return {"sid": sid, "to": to, "body": body, "status": "delivered"}


A, B = "+14155550100", "+14155550101"


def test_accounting_counts_every_kind_of_disagreement() -> None:
    result = Result("t")
    account_outbound(
        result,
        rows(
            (A, "ok", "DELIVERED", "SM1"),
            (A, "lost: sid not at twilio", "SUBMITTED", "SM404"),
            (A, "lost: failed but sent", "FAILED", None),
            (A, "sent twice", "SUBMITTED", "SM3"),
            (A, "stuck", "QUEUED", None),
            (A, "wrong row", "SENT", "SM5"),
        ),
        [
            message("SM1", A, "ok"),
            message("SM2", A, "lost: failed but sent"),
            message("SM3", A, "sent twice"),
            message("SM3b", A, "sent twice"),
            message("SM5", B, "wrong row"),
        ],
    )
    assert (result.lost, result.duplicated, result.stuck) == (2, 1, 1)
    assert result.wrong_row == 2  # the row whose SID is another message, and that message
    assert not result.ok


def test_accounting_of_identical_twins_counts_per_to_and_body() -> None:
    twins = rows((A, "same", "SUBMITTED", "SM1"), (A, "same", "SUBMITTED", "SM2"))
    fine = Result("t")
    account_outbound(fine, twins, [message("SM1", A, "same"), message("SM2", A, "same")])
    assert fine.ok, fine.line()
    one_sid_twice = rows((A, "same", "SUBMITTED", "SM1"), (A, "same", "SUBMITTED", "SM1"))
    bad = Result("t")
    account_outbound(bad, one_sid_twice, [message("SM1", A, "same"), message("SM2", A, "same")])
    assert bad.wrong_row == 1 and bad.duplicated == 0
    extra = Result("t")
    account_outbound(extra, twins, [message(f"SM{i}", A, "same") for i in range(1, 4)])
    assert extra.duplicated == 1


def test_callbacks_not_answered_2xx_are_counted() -> None:
    result = Result("t")
    account_callbacks(
        result,
        [
            {"response_status": 200},
            {"response_status": 503},
            {"response_status": None, "error": "URLError: refused"},
        ],
    )
    assert result.non_2xx == 2
