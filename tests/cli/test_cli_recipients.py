"""``sms-bridge recipients import|list`` through the real console script, on SQLite.

A site without HR tables keeps its recipients in sms_contacts: a CSV import (all rows or none),
a listing with numbers masked, and messages queued to an imported contact go to its number.
Each test runs the installed ``sms-bridge`` in a subprocess with its own TOML file whose
``[database] url`` is relative (``sqlite:///site.db``: the working directory's file).
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bridge.domain.phone import mask
from tests.cli.support import one_line, sms_bridge
from tests.sandbox.sandbox_support import SandboxProcess, start_sandbox

HEADER = "type,id,name,mobile,time_zone,manager_email"
FIRST = f"""{HEADER}
contact,42,Zoë Müller,(415) 555-0142,America/Los_Angeles,boss@example.com
CONTACT,43,Ravi Menon,+33 6 12 34 56 11,,
STAFF,7,,+81 90 1234 5611,Asia/Tokyo,
"""
# sms_recipients_v as installed before sms_contacts existed (the demo employees only).
VIEW_BEFORE_CONTACTS = """
DROP VIEW sms_recipients_v;
CREATE VIEW sms_recipients_v AS
SELECT 'EMPLOYEE' AS recipient_type, CAST(e.employee_id AS TEXT) AS recipient_id,
       e.full_name AS display_name, e.mobile_number, e.time_zone, m.email AS manager_email
  FROM hr_demo_employees e LEFT JOIN hr_demo_employees m ON m.employee_id = e.manager_id;
"""
ACCOUNT_SID = "AC" + "c0ffee00" * 4
AUTH_TOKEN = "recipients-suite-token"
FROM = "+15005550006"


def run(site: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    proc = sms_bridge("--config", str(site / "sms-bridge.toml"), *args, cwd=site)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc


def write(site: Path, name: str, text: str) -> Path:
    (site / name).write_text(text, encoding="utf-8")
    return site / name


def listing(site: Path, *args: str) -> list[dict[str, object]]:
    shown: list[dict[str, object]] = json.loads(
        run(site, "recipients", "list", "--json", *args).stdout
    )
    return shown


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "sms-bridge.toml").write_text(
        '[database]\nurl = "sqlite:///site.db"\n[bridge]\ndefault_region = "US"\n',
        encoding="utf-8",
    )
    run(tmp_path, "db", "install")
    assert (tmp_path / "site.db").is_file()  # relative to the working directory
    return tmp_path


def test_import_adds_then_updates_by_type_and_id(site: Path) -> None:
    out = run(site, "recipients", "import", str(write(site, "first.csv", FIRST))).stdout
    assert one_line(out) == "3 contacts imported (3 new, 0 updated)"
    shown = {(c["type"], c["id"]): c for c in listing(site, "--raw-numbers")}
    assert sorted(shown) == [("CONTACT", "42"), ("CONTACT", "43"), ("STAFF", "7")]
    ann = shown[("CONTACT", "42")]
    assert (ann["name"], ann["mobile"], ann["time_zone"], ann["manager_email"]) == (
        "Zoë Müller",
        "+14155550142",  # read with [bridge] default_region, stored as E.164
        "America/Los_Angeles",
        "boss@example.com",
    )
    assert shown[("STAFF", "7")]["name"] is None  # an empty value is none

    second = "\n".join(
        [
            HEADER,
            "CONTACT,43,Ravi M.,+33 6 12 34 56 19,Europe/Paris,",
            "CONTACT,44,New,+14155550144,,",
        ]
    )
    out = run(site, "recipients", "import", str(write(site, "second.csv", second))).stdout
    assert one_line(out) == "2 contacts imported (1 new, 1 updated)"
    after = {(c["type"], c["id"]): c for c in listing(site, "--raw-numbers")}
    assert len(after) == 4
    ravi = after[("CONTACT", "43")]
    assert (ravi["name"], ravi["mobile"], ravi["time_zone"]) == (
        "Ravi M.",
        "+33612345619",
        "Europe/Paris",
    )
    assert ravi["created_at"] == shown[("CONTACT", "43")]["created_at"]  # updated, not re-created
    assert after[("CONTACT", "42")] == ann  # not in the second file: untouched


@pytest.mark.parametrize(
    ("bad_row", "field"),
    [
        ("CONTACT,51,Bad,555-01,,", "mobile"),
        ("CONTACT,51,Bad,+14155550151,Mars/Olympus,", "time_zone"),
        ("CONTACT,51,Bad,+14155550151,,not-an-email", "manager_email"),
        (",51,Bad,+14155550151,,", "type"),
    ],
)
def test_a_bad_row_is_named_in_one_line_and_nothing_is_written(
    site: Path, bad_row: str, field: str
) -> None:
    run(site, "recipients", "import", str(write(site, "first.csv", FIRST)))
    before = listing(site, "--raw-numbers")
    # Line 2 (an update) and line 4 (an insert) are good: the bad line 3 fails them too.
    text = (
        f"{HEADER}\nCONTACT,42,Changed,+14155550149,,\n{bad_row}\nCONTACT,52,Good,+14155550152,,\n"
    )
    proc = run(site, "recipients", "import", str(write(site, "bad.csv", text)), expect=2)
    line = one_line(proc.stderr)
    assert line.startswith(f"sms-bridge: error: {site / 'bad.csv'}:3: {field}: "), line
    assert "nothing imported" in line and proc.stdout == ""
    assert listing(site, "--raw-numbers") == before


def test_a_file_that_is_not_a_contacts_file_is_refused(site: Path) -> None:
    missing = run(site, "recipients", "import", "nope.csv", expect=2)
    assert "nope.csv" in one_line(missing.stderr)
    header = run(
        site, "recipients", "import", str(write(site, "h.csv", "id,phone\n1,2\n")), expect=2
    )
    assert ":1: header: missing type, name, mobile" in one_line(header.stderr)
    (site / "latin1.csv").write_bytes(f"{HEADER}\nCONTACT,1,Zoë,+14155550101,,\n".encode("latin-1"))
    latin1 = run(site, "recipients", "import", str(site / "latin1.csv"), expect=2)
    assert "latin1.csv:2: not UTF-8 text" in one_line(latin1.stderr)
    assert listing(site) == []


def test_list_masks_numbers_unless_raw_numbers(site: Path) -> None:
    assert one_line(run(site, "recipients", "list").stdout) == "no contacts"
    run(site, "recipients", "import", str(write(site, "first.csv", FIRST)))
    text = run(site, "recipients", "list").stdout
    lines = text.splitlines()
    assert lines[0].split() == [*HEADER.split(","), "updated_at"]
    assert len(lines) == 4 and lines[1].startswith("CONTACT  42")  # by type, then id
    for number in ("+14155550142", "+33612345611", "+819012345611"):
        assert number not in text and mask(number) in text
    raw = run(site, "recipients", "list", "--raw-numbers").stdout
    assert "+14155550142" in raw and mask("+14155550142") not in raw
    masked = listing(site, "--type", "staff")  # the type as enqueue --recipient reads it
    assert [(c["id"], c["mobile"]) for c in masked] == [("7", mask("+819012345611"))]
    assert [c["mobile"] for c in listing(site, "--type", "STAFF", "--raw-numbers")] == [
        "+819012345611"
    ]


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    process = start_sandbox(
        "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN, "--number", FROM
    )
    yield process
    process.stop()


@pytest.mark.slow
def test_a_message_to_an_imported_contact_goes_to_its_number(
    site: Path, sandbox: SandboxProcess
) -> None:
    (site / "auth_token").write_text(AUTH_TOKEN, encoding="utf-8")
    with (site / "sms-bridge.toml").open("a", encoding="utf-8") as toml:
        toml.write(
            f'[twilio]\naccount_sid = "{ACCOUNT_SID}"\nauth_token_file = "auth_token"\n'
            f'base_url = "{sandbox.url}"\ntimeout = 5\n'
            '[mail]\ntransport = "maildir"\nmaildir = "mail"\n'
        )
    run(site, "sender", "ops", "--from-number", FROM)
    run(site, "recipients", "import", str(write(site, "first.csv", FIRST)))
    # A database installed before sms_contacts existed has the old view: a re-install (the
    # upgrade) replaces it, and the contacts become recipients.
    with closing(sqlite3.connect(site / "site.db")) as conn:
        conn.executescript(VIEW_BEFORE_CONTACTS)
    run(site, "db", "install")
    out = run(
        site, "enqueue", "--sender", "OPS", "--recipient", "contact:42", "--body", "Hi"
    ).stdout
    match = re.match(r"#?(\d+)", out.strip())
    assert match, out
    message_id = match.group(1)
    unknown = run(
        site, "enqueue", "--sender", "OPS", "--recipient", "CONTACT:99", "--body", "x", expect=2
    )
    assert "unknown recipient CONTACT 99" in one_line(unknown.stderr)

    run(site, "run", "--once", "--quiet")
    shown = json.loads(run(site, "status", message_id, "--json").stdout)
    assert (shown["recipient_type"], shown["recipient_id"]) == ("CONTACT", "42")
    assert shown["to_number"] == "+14155550142"  # resolved through sms_recipients_v
    assert shown["status"] in {"SUBMITTED", "SENT", "DELIVERED"}, shown
