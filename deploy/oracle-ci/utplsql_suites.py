"""Compile the utPLSQL suites of plsql/tests into the application schema, or run them.

    python deploy/oracle-ci/utplsql_suites.py compile [DSN]
    python deploy/oracle-ci/utplsql_suites.py run [DSN]

DSN: oracle://USER:PASSWORD@HOST:PORT/SERVICE, default $SMS_BRIDGE_TEST_ORACLE_DSN (the format
of the Oracle contract tests). utPLSQL itself must be installed first (docs/oracle.md).

``compile`` runs the suites' scripts statement by statement (the bridge's own splitter, as
``sms-bridge db install`` does) and fails, listing them, if USER_ERRORS has rows. ``run``
calls ``ut.run('<user>:sms_bridge')`` (both suites share that suite path), prints utPLSQL's
documentation report and exits 1 unless its summary line reports tests and no failure or
error: what deploy/oracle-ci/run-local.sh uses where utPLSQL-cli (Java) is not at hand.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SUITES = (
    "test_sms_api.pks",
    "test_sms_api.pkb",
    "test_hr_cert_sms.pks",
    "test_hr_cert_sms.pkb",
    "test_hr_cert_cp.pks",
    "test_hr_cert_cp.pkb",
)
SUITE_PATH = "sms_bridge"
# utPLSQL's closing line, e.g. "35 tests, 0 failed, 0 errored, 1 disabled, 0 warning(s)".
SUMMARY = re.compile(r"^(\d+) tests?, (\d+) failed, (\d+) errored\b")


def summary_problem(lines: list[str]) -> str | None:
    """None when the report's summary says every test passed, else what is wrong."""
    found = [m for m in map(SUMMARY.match, (line.strip() for line in lines)) if m]
    if not found:
        return "utPLSQL printed no summary line (is utPLSQL installed? are the suites compiled?)"
    tests, failed, errored = (int(n) for n in found[-1].groups())
    if tests == 0:
        return f"no test ran on suite path {SUITE_PATH}"
    if failed or errored:
        return f"{failed} failed and {errored} errored of {tests} tests"
    return None


def connect(dsn: str) -> tuple[Any, str]:
    import oracledb

    sys.path.insert(0, str(REPO))
    from bridge.store.oracle_dialect import parse_url

    target = parse_url(dsn)
    conn = oracledb.connect(user=target.user, password=target.password, dsn=target.dsn)
    return conn, target.user


def compile_suites(conn: Any) -> int:
    from bridge.store.oracle_script import split_statements

    with conn.cursor() as cursor:
        for name in SUITES:
            path = REPO / "plsql" / "tests" / name
            for statement in split_statements(path.read_text(encoding="utf-8"), str(path)):
                cursor.execute(statement)
        # Errors only: a site with PLSQL_WARNINGS on also has WARNING rows, which compile fine.
        cursor.execute(
            "select name, type, line, position, text from user_errors"
            " where attribute = 'ERROR' order by 1, 2, 3"
        )
        problems = cursor.fetchall()
    if problems:
        print("utplsql_suites: compilation errors:", file=sys.stderr)
        for row in problems:
            print(f"  {row[1]} {row[0]} line {row[2]}: {row[4].strip()}", file=sys.stderr)
        return 1
    print(f"utplsql_suites: compiled {', '.join(SUITES)}")
    return 0


def run_suites(conn: Any, user: str) -> int:
    with conn.cursor() as cursor:
        cursor.callproc("dbms_output.enable", [None])  # unlimited: the whole report
        cursor.execute("begin ut.run(:path); end;", path=f"{user}:{SUITE_PATH}")
        line, status = cursor.var(str, 32767), cursor.var(int)
        lines: list[str] = []
        while True:
            cursor.callproc("dbms_output.get_line", (line, status))
            if status.getvalue() != 0:
                break
            lines.append(line.getvalue() or "")
    print("\n".join(lines))
    problem = summary_problem(lines)
    if problem:
        print(f"utplsql_suites: FAIL: {problem}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or argv[0] not in ("compile", "run"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: utplsql_suites.py compile|run [DSN]", file=sys.stderr)
        return 2
    dsn = argv[1] if len(argv) == 2 else os.environ.get("SMS_BRIDGE_TEST_ORACLE_DSN", "")
    if not dsn.startswith("oracle://"):
        print("utplsql_suites: give oracle://USER:PASSWORD@HOST:PORT/SERVICE", file=sys.stderr)
        return 2
    conn, user = connect(dsn)
    try:
        return compile_suites(conn) if argv[0] == "compile" else run_suites(conn, user)
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
