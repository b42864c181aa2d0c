"""The shipped examples stay true: the TOML loads and names every key; the units run real
commands; the Oracle CI scripts parse and the round trip runs (on SQLite here)."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bridge.config import Secret, Settings, load_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_example_config_loads_and_documents_every_key() -> None:
    path = DEPLOY / "sms-bridge.example.toml"
    # The secret files it names exist only on a server; the environment wins over them.
    secrets = {
        "SMS_BRIDGE_DATABASE_PASSWORD": "x",
        "SMS_BRIDGE_TWILIO_AUTH_TOKEN": "x",
        "SMS_BRIDGE_TWILIO_ACCOUNTS_PAYROLL_AUTH_TOKEN": "y",
        "SMS_BRIDGE_MAIL_SMTP_PASSWORD": "x",
    }
    settings = load_settings(path, secrets)
    assert settings.database.url.startswith("oracle://")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for section in dataclasses.fields(Settings):
        if section.name in ("source", "origins"):  # bookkeeping, not configuration
            continue
        cls = type(getattr(settings, section.name))
        for key in dataclasses.fields(cls):
            secret = isinstance(getattr(settings, section.name).__dict__[key.name], Secret)
            name = f"{key.name}_file" if secret else key.name
            assert name in raw[section.name], f"[{section.name}] {name} missing from the example"


def test_units_start_the_real_entry_points() -> None:
    worker = (DEPLOY / "systemd" / "sms-bridge-worker.service").read_text(encoding="utf-8")
    inbound = (DEPLOY / "systemd" / "sms-bridge-inbound.service").read_text(encoding="utf-8")
    assert "sms-bridge run" in worker and "KillSignal=SIGTERM" in worker
    assert "inbound.app:get_app()" in inbound and "gunicorn.conf.py" in inbound
    assert (DEPLOY / "gunicorn.conf.py").is_file()


def test_make_says_what_it_installs_before_it_installs() -> None:
    """`make demo` on a fresh machine spends a minute in pip: it says so first, and pip's own
    output (setuptools' editable notice, index warnings) goes to a log shown on failure."""
    makefile = (DEPLOY.parent / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("$(STAMP): pyproject.toml\n", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines() if line.startswith("\t")]
    first_pip = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert any(line.startswith("@echo") and "about a minute" in line for line in lines[:first_pip])
    pip_lines = [line for line in lines if "pip install" in line]
    assert pip_lines and all("install.log 2>&1" in line for line in pip_lines), pip_lines


# -- deploy/oracle-ci: it cannot run here (no Oracle, no container engine), so its scripts are
# checked for what can be: they parse, the recipe and the docs name them, and the round trip
# itself runs end to end on SQLite (its enqueue step is the only one that differs).

ORACLE_CI = DEPLOY / "oracle-ci"
RECIPE = ORACLE_CI / "github-actions-oracle.yml"
SCRIPTS = sorted(ORACLE_CI.glob("*.sh"))


def test_oracle_ci_has_its_scripts() -> None:
    assert [p.name for p in SCRIPTS] == ["round_trip.sh", "run-local.sh"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_oracle_ci_scripts_parse_and_stop_on_errors(script: Path) -> None:
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.access(script, os.X_OK), f"{script.name} is not executable"


def test_the_recipe_and_the_local_run_do_the_same_steps() -> None:
    recipe = RECIPE.read_text(encoding="utf-8")
    local = (ORACLE_CI / "run-local.sh").read_text(encoding="utf-8")
    for text in (recipe, local):
        assert "deploy/oracle-ci/round_trip.sh" in text
        assert "deploy/oracle-ci/utplsql_suites.py compile" in text
        assert "tests/store/test_store_oracle.py" in text and "tests/plsql" in text
        assert "db install" in text
    image = re.search(r"image: (gvenzl/oracle-free:\S+)", recipe)
    assert image and f'"${{ORACLE_IMAGE:-{image[1]}}}"' in local
    version = re.search(r"UTPLSQL_VERSION: (v[\d.]+)", recipe)
    assert version and f'"${{UTPLSQL_VERSION:-{version[1]}}}"' in local
    # The round trip runs on the fresh install, before the contract suite empties the tables.
    assert recipe.index("round_trip.sh") < recipe.index("tests/store/test_store_oracle.py")
    assert local.index("round_trip.sh") < local.index("tests/store/test_store_oracle.py")
    docs = (DEPLOY.parent / "docs" / "oracle.md").read_text(encoding="utf-8")
    assert "deploy/oracle-ci/run-local.sh" in docs and "round_trip.sh" in docs


def _utplsql_suites() -> Any:
    spec = importlib.util.spec_from_file_location("utplsql_suites", ORACLE_CI / "utplsql_suites.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_utplsql_suites_compiles_every_suite_file() -> None:
    suites = _utplsql_suites().SUITES
    on_disk = sorted(p.name for p in (DEPLOY.parent / "plsql" / "tests").iterdir())
    assert sorted(suites) == on_disk
    assert all(suites.index(p[:-1] + "s") < suites.index(p) for p in suites if p.endswith("b"))


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (["x", "  30 tests, 0 failed, 0 errored, 0 disabled, 0 warning(s)"], None),
        (["30 tests, 1 failed, 0 errored, 0 disabled, 0 warning(s)"], "1 failed and 0 errored"),
        (["30 tests, 0 failed, 2 errored, 0 disabled, 0 warning(s)"], "0 failed and 2 errored"),
        (["0 tests, 0 failed, 0 errored, 0 disabled, 0 warning(s)"], "no test ran"),
        (["ORA-06550: line 1, column 7"], "no summary line"),
    ],
)
def test_utplsql_summary_decides_the_exit_code(lines: list[str], problem: str | None) -> None:
    found = _utplsql_suites().summary_problem(lines)
    assert found == problem if problem is None else problem in found


def _script_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
    return {**env, "PYTHON": sys.executable, "ROUND_TRIP_TIMEOUT": "30"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no DSN"),
        (["mysql://x"], "must start with oracle:// or sqlite:///"),
        (["oracle://nobody"], "is not oracle://USER:PASSWORD@HOST:PORT/SERVICE"),
    ],
)
def test_round_trip_refuses_a_wrong_dsn(args: list[str], message: str) -> None:
    result = subprocess.run(
        ["bash", str(ORACLE_CI / "round_trip.sh"), *args],
        capture_output=True,
        text=True,
        env=_script_env(),
        timeout=60,
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr


@pytest.mark.slow
def test_round_trip_runs_end_to_end_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "round-trip.db"
    env = _script_env()
    subprocess.run(
        [sys.executable, "-m", "bridge.cli", "db", "install"],
        env={**env, "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{db}"},
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    result = subprocess.run(
        ["bash", str(ORACLE_CI / "round_trip.sh"), f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        env={**env, "ROUND_TRIP_DIR": str(tmp_path / "logs")},
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steps = [line for line in result.stdout.splitlines() if line.startswith("round-trip: ")]
    assert [s.split()[1] for s in steps] == [f"{n}/7" for n in range(1, 8)] + ["OK"], steps
    assert "DELIVERED" in steps[6]


def test_every_unit_creates_files_for_its_user_alone() -> None:
    """The SQLite file, its -wal/-shm, the spool and the maildir hold numbers and messages."""
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert units
    for unit in units:
        lines = unit.read_text(encoding="utf-8").splitlines()
        assert "UMask=0077" in lines, f"{unit.name}: no UMask=0077"


# What `systemd-analyze security` scores (docs/operations.md, "Unit hardening"): each unit keeps
# all of these, so the score stays at 1.6 OK instead of 8.5 EXPOSED.
UNIT_HARDENING = {
    "NoNewPrivileges": "true",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/sms-bridge",
    "ProtectHome": "true",
    "PrivateTmp": "true",
    "PrivateDevices": "true",
    "DevicePolicy": "closed",
    "ProtectKernelTunables": "true",
    "ProtectKernelModules": "true",
    "ProtectKernelLogs": "true",
    "ProtectControlGroups": "true",
    "ProtectClock": "true",
    "ProtectHostname": "true",
    "ProtectProc": "invisible",
    "ProcSubset": "pid",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces": "true",
    "RestrictRealtime": "true",
    "RestrictSUIDSGID": "true",
    "LockPersonality": "true",
    "MemoryDenyWriteExecute": "true",
    "SystemCallFilter": "@system-service",
    "SystemCallErrorNumber": "EPERM",
    "SystemCallArchitectures": "native",
    "KeyringMode": "private",
    "RemoveIPC": "true",
    "UMask": "0077",
}

# Directive names a unit here may use, per section (systemd.unit(5), systemd.service(5),
# systemd.exec(5), systemd.kill(5), systemd.resource-control(5)); a name outside these is a typo
# systemd would only warn about in the journal, leaving the protection off.
UNIT_DIRECTIVES = {
    "Unit": {
        "Description", "Documentation", "After", "Before", "Wants", "Requires", "BindsTo",
        "PartOf", "Conflicts", "StartLimitIntervalSec", "StartLimitBurst", "ConditionPathExists",
        "AssertPathExists",
    },
    "Install": {"WantedBy", "RequiredBy", "Alias", "Also"},
    "Service": {
        # systemd.service(5)
        "Type", "ExecStart", "ExecStartPre", "ExecStartPost", "ExecReload", "ExecStop",
        "ExecStopPost", "Restart", "RestartSec", "TimeoutStartSec", "TimeoutStopSec",
        "TimeoutSec", "WatchdogSec", "PIDFile", "RemainAfterExit", "NotifyAccess",
        "SuccessExitStatus", "RestartPreventExitStatus",
        # systemd.kill(5)
        "KillMode", "KillSignal", "SendSIGKILL", "FinalKillSignal",
        # systemd.exec(5)
        "User", "Group", "SupplementaryGroups", "DynamicUser", "WorkingDirectory",
        "RootDirectory", "Environment", "EnvironmentFile", "UMask", "Nice", "LimitNOFILE",
        "StandardInput", "StandardOutput", "StandardError", "SyslogIdentifier",
        "StateDirectory", "RuntimeDirectory", "LogsDirectory", "CacheDirectory",
        "ConfigurationDirectory", "NoNewPrivileges", "CapabilityBoundingSet",
        "AmbientCapabilities", "ProtectSystem", "ProtectHome", "ReadWritePaths",
        "ReadOnlyPaths", "InaccessiblePaths", "PrivateTmp", "PrivateDevices", "PrivateNetwork",
        "PrivateUsers", "PrivateMounts", "ProtectKernelTunables", "ProtectKernelModules",
        "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname",
        "ProtectProc", "ProcSubset", "RestrictAddressFamilies", "RestrictNamespaces",
        "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute",
        "SystemCallFilter", "SystemCallErrorNumber", "SystemCallArchitectures", "KeyringMode",
        "RemoveIPC",
        # systemd.resource-control(5)
        "DevicePolicy", "DeviceAllow", "IPAddressAllow", "IPAddressDeny", "MemoryMax",
        "TasksMax", "CPUQuota",
    },
}  # fmt: skip


def _unit_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        assert "=" in line, f"not a Key=value line: {raw!r}"
        key, value = line.split("=", 1)
        sections.setdefault(current, []).append((key.strip(), value.strip()))
    return sections


def test_every_unit_is_hardened_and_spells_its_directives_right() -> None:
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert len(units) == 2
    for unit in units:
        sections = _unit_sections(unit.read_text(encoding="utf-8"))
        assert set(sections) == {"Unit", "Service", "Install"}, f"{unit.name}: {set(sections)}"
        for section, entries in sections.items():
            unknown = sorted({key for key, _ in entries} - UNIT_DIRECTIVES[section])
            assert not unknown, f"{unit.name} [{section}]: unknown directives {unknown}"
        service = sections["Service"]
        for key, value in UNIT_HARDENING.items():
            values = [v for k, v in service if k == key]
            assert values, f"{unit.name}: {key}= missing"
            assert values[-1] == value, f"{unit.name}: {key}={values[-1]}, expected {value!r}"
        # The entry points and their environment survive the hardening.
        for key in ("User", "Group", "EnvironmentFile", "WorkingDirectory", "ExecStart"):
            assert [v for k, v in service if k == key], f"{unit.name}: {key}= missing"
        assert dict(service)["WorkingDirectory"] == "/var/lib/sms-bridge"


def test_the_unit_directive_check_catches_a_typo() -> None:
    text = "[Unit]\nDescription=x\n[Service]\nProtectKernelTunable=true\n[Install]\n"
    keys = {key for key, _ in _unit_sections(text)["Service"]}
    assert keys - UNIT_DIRECTIVES["Service"] == {"ProtectKernelTunable"}
