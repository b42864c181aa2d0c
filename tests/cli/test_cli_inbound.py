"""The inbound CLI commands: apikey create/list/revoke and spool replay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.apikeys import hash_key
from bridge.cli.main import main
from bridge.config import load_settings
from bridge.replies.spool import Spool
from bridge.store import open_store
from tests.cli.support import one_line, sms_bridge


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SMS_BRIDGE_CONFIG", raising=False)
    monkeypatch.setenv("SMS_BRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SMS_BRIDGE_INBOUND_SPOOL_DIR", str(tmp_path / "spool"))
    assert main(["db", "install"]) == 0
    assert main(["sender", "hr", "--from-number", "+15005550006"]) == 0
    return tmp_path


SPOOLED_SID = "SM" + "0" * 31 + "1"  # shaped as Twilio's: replay checks the form too


def test_apikey_create_list_revoke(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["apikey", "create", "fineract", "--scopes", "send", "read"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("smsb_") and "shown only now" in out.err
    store = open_store(load_settings().database)
    try:
        found = store.api_key_by_hash(hash_key(key))
        assert found is not None and found.name == "fineract"
        assert {s.value for s in found.scopes} == {"send", "read"}
    finally:
        store.close()
    assert main(["apikey", "create", "fineract", "--scopes", "read"]) == 2  # name taken
    assert main(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    assert "fineract" in listing and key[:12] in listing and key not in listing
    assert "send read" in listing and "active" in listing
    assert main(["apikey", "revoke", "fineract"]) == 0
    assert main(["apikey", "revoke", "fineract"]) == 2  # already revoked: bad input
    main(["apikey", "list"])
    assert "revoked" in capsys.readouterr().out


def cli_env(cli: Path) -> dict[str, str]:
    return {
        "SMS_BRIDGE_DATABASE_URL": f"sqlite:///{cli / 'cli.db'}",
        "SMS_BRIDGE_INBOUND_SPOOL_DIR": str(cli / "spool"),
    }


def test_apikey_create_with_a_taken_name_says_so_and_how_to_see_the_keys(cli: Path) -> None:
    env = cli_env(cli)
    assert (
        sms_bridge("apikey", "create", "erp", "--scopes", "send", cwd=cli, env=env).returncode == 0
    )
    again = sms_bridge("apikey", "create", "erp", "--scopes", "read", cwd=cli, env=env)
    line = one_line(again.stderr)
    assert again.returncode == 2 and again.stdout == ""
    assert line.startswith("sms-bridge: error: ") and "(ConfigError)" not in line
    assert "'erp'" in line and "taken" in line, line
    assert "sms-bridge apikey list" in line and "sms-bridge apikey revoke erp" in line, line
    assert sms_bridge("apikey", "revoke", "erp", cwd=cli, env=env).returncode == 0
    revoked = sms_bridge("apikey", "create", "erp", "--scopes", "read", cwd=cli, env=env)
    line = one_line(revoked.stderr)
    assert revoked.returncode == 2 and "revoked" in line and "another name" in line, line


def test_apikey_revoke_of_an_unknown_name_is_one_line_and_exit_2(cli: Path) -> None:
    result = sms_bridge("apikey", "revoke", "nosuch", cwd=cli, env=cli_env(cli))
    assert result.returncode == 2 and result.stdout == ""
    assert one_line(result.stderr) == (
        "sms-bridge: error: no API key named 'nosuch' (sms-bridge apikey list shows them)"
    )


def test_apikey_revoke_twice_says_it_is_already_revoked(cli: Path) -> None:
    env = cli_env(cli)
    assert (
        sms_bridge("apikey", "create", "erp", "--scopes", "send", cwd=cli, env=env).returncode == 0
    )
    assert sms_bridge("apikey", "revoke", "erp", cwd=cli, env=env).returncode == 0
    again = sms_bridge("apikey", "revoke", "erp", cwd=cli, env=env)
    line = one_line(again.stderr)
    assert again.returncode == 2 and line.startswith("sms-bridge: error: ")
    assert "'erp'" in line and "already revoked" in line, line


def test_apikey_bad_scope_is_rejected_before_anything(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["apikey", "create", "x", "--scopes", "write"])
    assert exited.value.code == 2
    assert "unknown scope 'write'" in capsys.readouterr().err


def test_spool_replay(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spool = Spool(cli / "spool")
    form = {
        "MessageSid": [SPOOLED_SID],
        "From": ["+14155550101"],
        "To": ["+15005550006"],
        "Body": ["STOP"],
    }
    spool.append("inbound", form, datetime(2030, 1, 1, tzinfo=UTC))
    capsys.readouterr()
    assert main(["spool", "replay"]) == 0
    assert "1 applied" in capsys.readouterr().out
    store = open_store(load_settings().database)
    try:
        assert store.get_inbound(SPOOLED_SID) is not None
        assert store.is_opted_out("+14155550101", "+15005550006")
    finally:
        store.close()
    assert main(["spool", "replay"]) == 0
    assert "0 applied" in capsys.readouterr().out


def test_spool_replay_without_a_spool_says_where_it_looked(
    cli: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMS_BRIDGE_INBOUND_SPOOL_DIR", "var/spool")  # relative, and not here
    capsys.readouterr()
    assert main(["spool", "replay"]) == 0  # a host that never spooled is healthy
    out = capsys.readouterr().out
    assert f"no spool at {cli / 'var' / 'spool'}" in out and len(out.splitlines()) == 1
