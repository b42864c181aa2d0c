"""`sms-bridge db check` warns, in one line, about an SQLite file other local users can read
or write; a 0600 file (what `db install` creates) passes silently."""

from __future__ import annotations

from pathlib import Path

from tests.cli.support import one_line, sms_bridge


def install(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "cli.db"
    config = tmp_path / "sms-bridge.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    installed = sms_bridge("--config", str(config), "db", "install", cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    return config, db


def test_db_check_is_quiet_about_a_0600_file(tmp_path: Path) -> None:
    config, db = install(tmp_path)
    assert db.stat().st_mode & 0o777 == 0o600
    result = sms_bridge("--config", str(config), "db", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert one_line(result.stdout).startswith("database OK: sqlite")


def test_db_check_warns_about_a_0644_file(tmp_path: Path) -> None:
    config, db = install(tmp_path)
    db.chmod(0o644)
    result = sms_bridge("--config", str(config), "db", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # a warning, not a failure
    assert one_line(result.stdout).startswith("database OK: sqlite")
    warning = one_line(result.stderr)
    assert warning.startswith(f"sms-bridge: warning: {db.resolve()} is 0644: ")
    assert f"chmod 0600 {db.resolve()}" in warning
