"""plsql/install.txt lists every install script once, in a workable order, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.store.oracle_script import ScriptError, install_files
from tests.plsql.helpers import PLSQL_DIR, plsql_files, relative

# Files under plsql/ deliberately not in install.txt, with the reason.
NOT_INSTALLED = {
    "views/sms_recipients_v_ebs.sql": "EBS variant of sms_recipients_v: run it instead of "
    "demo/sms_recipients_v.sql on E-Business Suite (docs/oracle.md)",
    "views/sms_recipient_phones_v_ebs.sql": "EBS variant of sms_recipient_phones_v: run it "
    "instead of demo/sms_recipient_phones_v.sql on E-Business Suite (docs/oracle.md)",
    "demo/hr/hr_cert_jobs.sql": "DBMS_SCHEDULER jobs of the HR demo: creating jobs needs CREATE "
    "JOB, which the default install does not ask for; run by hand (docs/plsql-api.md)",
}
NOT_INSTALLED_DIRS = {
    "tests": "utPLSQL suites need utPLSQL installed first (docs/oracle.md)",
}

LISTED = [relative(p) for p in install_files(PLSQL_DIR)]


def _excluded(name: str) -> bool:
    return name in NOT_INSTALLED or name.split("/", 1)[0] in NOT_INSTALLED_DIRS


def test_every_script_is_listed_or_excluded_on_purpose() -> None:
    expected = sorted(relative(p) for p in plsql_files() if not _excluded(relative(p)))
    assert sorted(LISTED) == expected


def test_exclusions_exist_and_are_not_listed() -> None:
    for name in NOT_INSTALLED:
        assert (PLSQL_DIR / name).is_file(), name
        assert name not in LISTED
    for folder in NOT_INSTALLED_DIRS:
        assert not any(n.startswith(folder + "/") for n in LISTED)


def _position(name: str) -> int:
    return LISTED.index(name)


def test_order() -> None:
    tables = [n for n in LISTED if n.startswith("tables/")]
    indexes = [n for n in LISTED if n.startswith("indexes/")]
    # demo/ holds demo data (before the packages: sms_api reads the view); demo/hr/ holds the
    # HR use case that calls the packages, so it comes after them.
    demo = [n for n in LISTED if n.startswith("demo/") and not n.startswith("demo/hr/")]
    demo_app = [n for n in LISTED if n.startswith("demo/hr/")]
    packages = [n for n in LISTED if n.startswith("packages/")]
    assert max(map(_position, tables)) < min(map(_position, indexes))
    assert max(map(_position, indexes)) < min(map(_position, demo))
    assert max(map(_position, demo)) < min(map(_position, packages))
    assert max(map(_position, packages)) < min(map(_position, demo_app))
    assert packages == [
        "packages/sms_err.pks",
        "packages/sms_err.pkb",
        "packages/sms_api.pks",
        "packages/sms_api.pkb",
        "packages/sms_inbound_api.pks",
        "packages/sms_inbound_api.pkb",
    ]
    assert demo_app == [
        "demo/hr/hr_cert_sms.pks",
        "demo/hr/hr_cert_sms.pkb",
        "demo/hr/hr_keywords.sql",
        "demo/hr/hr_cert_cp.pks",
        "demo/hr/hr_cert_cp.pkb",
    ]
    # Parents before children: foreign keys reference tables created earlier.
    assert _position("tables/sms_senders.sql") < _position("tables/sms_outbound.sql")
    assert _position("tables/sms_outbound.sql") < _position("tables/sms_events.sql")
    assert _position("tables/sms_outbound.sql") < _position("tables/sms_inbound.sql")
    assert _position("demo/hr_demo_employees.sql") < _position("demo/hr_demo_certifications.sql")
    assert _position("demo/hr_demo_employees.sql") < _position("demo/hr_demo_phones.sql")
    assert _position("demo/sms_recipients_v.sql") < _position("demo/sms_recipient_phones_v.sql")
    assert _position("demo/hr_demo_phones.sql") < _position("demo/sms_recipient_phones_v.sql")
    assert _position("demo/hr_demo_certifications.sql") < _position(
        "demo/hr_demo_certifications_exp_ix.sql"
    )
    assert LISTED[-1] == "data/sms_schema_version.sql"


def test_missing_file_names_manifest_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("select 1 from dual;\n", encoding="utf-8")
    (tmp_path / "install.txt").write_text("# order\na.sql  # first\n\nb.sql\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"install\.txt:4: b\.sql does not exist"):
        install_files(tmp_path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [("../x.sql", "must be a relative path"), ("/etc/x.sql", "must be a relative path")],
)
def test_paths_outside_plsql_are_refused(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "install.txt").write_text(f"{entry}\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=message):
        install_files(tmp_path)


def test_duplicates_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("select 1 from dual;\n", encoding="utf-8")
    (tmp_path / "install.txt").write_text("a.sql\na.sql\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"install\.txt:2: a\.sql is already listed on line 1"):
        install_files(tmp_path)


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="install manifest does not exist"):
        install_files(tmp_path)


def test_comments_and_order_are_kept(tmp_path: Path) -> None:
    for name in ("b.sql", "a.sql"):
        (tmp_path / name).write_text("select 1 from dual;\n", encoding="utf-8")
    (tmp_path / "install.txt").write_text("# x\n  b.sql\n\na.sql # y\n", encoding="utf-8")
    assert install_files(tmp_path) == [tmp_path / "b.sql", tmp_path / "a.sql"]
