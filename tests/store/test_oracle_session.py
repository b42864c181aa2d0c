"""The driver mode and the national character set check, against fakes of python-oracledb
(no Oracle runs here): bridge/store/oracle_session.py and the [database] settings it reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import oracledb
import pytest

from bridge.config import DatabaseSettings, load_settings
from bridge.errors import ConfigError
from bridge.store import oracle_session
from bridge.store.oracle_session import (
    NATIONAL_CHARSET_SQL,
    check_national_charset,
    init_driver,
    national_charset,
)

ORACLE_URL = "oracle://smsbridge@db.example.com:1521/ERPPDB"


class FakeCursor:
    """Answers the NLS_DATABASE_PARAMETERS query with one row (or none)."""

    def __init__(self, value: str | None, *, row: bool = True) -> None:
        self.value, self.row = value, row
        self.executed: list[str] = []
        self.closed = False

    def execute(self, sql: str) -> None:
        self.executed.append(sql)

    def fetchall(self) -> list[tuple[Any, ...]]:
        assert self.executed, "fetchall before execute"
        return [(self.value,)] if self.row else []

    def close(self) -> None:
        self.closed = True


class FakeConnection:
    def __init__(self, value: str | None) -> None:
        self.cursors: list[FakeCursor] = []
        self.value = value

    def cursor(self) -> FakeCursor:
        self.cursors.append(FakeCursor(self.value))
        return self.cursors[-1]


class FakeDriver:
    """The part of the oracledb module init_driver uses; records init_oracle_client calls."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[str | None] = []
        self.error = error
        self.thin = True

    def init_oracle_client(self, lib_dir: str | None = None) -> None:
        self.calls.append(lib_dir)
        if self.error is not None:
            raise self.error
        self.thin = False

    def is_thin_mode(self) -> bool:
        return self.thin


def thick(lib_dir: str = "") -> DatabaseSettings:
    return DatabaseSettings(url=ORACLE_URL, driver_mode="thick", client_lib_dir=lib_dir)


# -- the national character set ------------------------------------------------------------


def test_the_query_reads_the_database_parameter_and_no_national_text() -> None:
    cursor = FakeCursor("AL16UTF16")
    assert national_charset(cursor) == "AL16UTF16"
    assert cursor.executed == [NATIONAL_CHARSET_SQL]
    assert "nls_database_parameters" in NATIONAL_CHARSET_SQL.lower()
    assert "'NLS_NCHAR_CHARACTERSET'" in NATIONAL_CHARSET_SQL


@pytest.mark.parametrize("value", ["AL16UTF16", "al16utf16", " AL16UTF16 "])
def test_al16utf16_passes_in_thin_mode(value: str) -> None:
    check_national_charset(FakeCursor(value), thin=True)


def test_utf8_is_refused_in_thin_mode_in_one_line_with_the_way_out() -> None:
    with pytest.raises(ConfigError) as caught:
        check_national_charset(FakeCursor("UTF8"), thin=True)
    message = str(caught.value)
    assert "\n" not in message
    assert "NLS_NCHAR_CHARACTERSET) is UTF8" in message
    for way_out in ('driver_mode = "thick"', "client_lib_dir", "Instant Client", "DPY-3012"):
        assert way_out in message, way_out


@pytest.mark.parametrize("value", ["UTF8", "AL16UTF16"])
def test_thick_mode_reads_any_and_does_not_ask(value: str) -> None:
    cursor = FakeCursor(value)
    check_national_charset(cursor, thin=False)
    assert cursor.executed == []


@pytest.mark.parametrize("cursor", [FakeCursor(None), FakeCursor("x", row=False)])
def test_no_answer_is_let_through(cursor: FakeCursor) -> None:
    check_national_charset(cursor, thin=True)  # the driver speaks for itself later


def test_a_connection_gets_a_cursor_of_its_own_which_is_closed() -> None:
    conn = FakeConnection("UTF8")
    with pytest.raises(ConfigError, match="is UTF8"):
        check_national_charset(conn, thin=True)
    assert len(conn.cursors) == 1 and conn.cursors[0].closed
    assert conn.cursors[0].executed == [NATIONAL_CHARSET_SQL]


def test_the_charset_thin_mode_supports_is_the_drivers() -> None:
    # python-oracledb's own message for the case the check prevents (DPY-3012).
    from oracledb import errors as driver_errors

    assert driver_errors.ERR_NCHAR_CS_NOT_SUPPORTED == 3012
    assert frozenset({"AL16UTF16"}) == oracle_session.THIN_NATIONAL_CHARSETS


# -- init_driver ------------------------------------------------------------------------------


def test_thin_is_the_default_and_loads_no_client() -> None:
    driver = FakeDriver()
    assert init_driver(driver, DatabaseSettings(url=ORACLE_URL)) is True
    assert driver.calls == []


def test_thin_reports_the_processs_real_mode() -> None:
    driver = FakeDriver()
    driver.thin = False  # something else in the process enabled thick mode already
    assert init_driver(driver, DatabaseSettings(url=ORACLE_URL)) is False


def test_thick_loads_the_client_once_per_process() -> None:
    driver = FakeDriver()
    assert init_driver(driver, thick("/opt/oracle/instantclient_23_7")) is False
    assert init_driver(driver, thick("/opt/oracle/instantclient_23_7")) is False
    assert driver.calls == ["/opt/oracle/instantclient_23_7"]


def test_thick_without_a_directory_passes_none() -> None:
    driver = FakeDriver()
    assert init_driver(driver, thick("")) is False
    assert driver.calls == [None]  # the library search path (ldconfig, LD_LIBRARY_PATH)


def test_thick_reads_the_database_section_of_full_settings(tmp_path: Path) -> None:
    config = tmp_path / "sms-bridge.toml"
    config.write_text(
        f'[database]\nurl = "{ORACLE_URL}"\ndriver_mode = "thick"\nclient_lib_dir = "/opt/ic"\n',
        encoding="utf-8",
    )
    driver = FakeDriver(error=Exception("DPI-1047: Cannot locate a 64-bit Oracle Client"))
    with pytest.raises(ConfigError) as caught:
        init_driver(driver, load_settings(config, {}))
    assert str(caught.value).startswith(f"[database] client_lib_dir in {config}: ")
    assert driver.calls == ["/opt/ic"]


def test_a_missing_client_library_is_one_line_naming_the_key() -> None:
    error = oracledb.DatabaseError(
        'DPI-1047: Cannot locate a 64-bit Oracle Client library: "libclntsh.so: cannot open'
        ' shared object file: No such file or directory".\nSee https://example.invalid for help'
    )
    driver = FakeDriver(error=error)
    with pytest.raises(ConfigError) as caught:
        init_driver(driver, thick("/nowhere"))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("[database] client_lib_dir: ")
    assert "DPI-1047" in message and "'/nowhere'" in message and "Instant Client" in message
    # A failed load leaves the process in thin mode and may be retried (python-oracledb).
    driver.error = None
    assert init_driver(driver, thick("/nowhere")) is False
    assert driver.calls == ["/nowhere", "/nowhere"]


def test_another_directory_later_in_the_same_process_is_refused() -> None:
    driver = FakeDriver()
    init_driver(driver, thick("/opt/a"))
    with pytest.raises(ConfigError, match="already loaded the Oracle Client"):
        init_driver(driver, thick("/opt/b"))
    assert driver.calls == ["/opt/a"]


def test_the_real_driver_has_what_init_driver_calls() -> None:
    assert callable(oracledb.init_oracle_client) and callable(oracledb.is_thin_mode)
    assert oracledb.is_thin_mode() is True  # nothing in the tests enables thick mode


# -- the settings -----------------------------------------------------------------------------


def test_driver_settings_defaults() -> None:
    settings = load_settings(None, {})
    assert (settings.database.driver_mode, settings.database.client_lib_dir) == ("thin", "")


def test_thick_with_a_directory_loads() -> None:
    settings = load_settings(
        None,
        {
            "SMS_BRIDGE_DATABASE_URL": ORACLE_URL,
            "SMS_BRIDGE_DATABASE_DRIVER_MODE": "thick",
            "SMS_BRIDGE_DATABASE_CLIENT_LIB_DIR": "/opt/ic",
        },
    )
    assert (settings.database.driver_mode, settings.database.client_lib_dir) == (
        "thick",
        "/opt/ic",
    )


@pytest.mark.parametrize("mode", ["Thick", "thik", ""])
def test_an_unknown_driver_mode_names_the_key(mode: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {"SMS_BRIDGE_DATABASE_DRIVER_MODE": mode})
    message = str(caught.value)
    assert message.startswith("environment variable SMS_BRIDGE_DATABASE_DRIVER_MODE: ")
    assert "'thin'" in message and "'thick'" in message and "\n" not in message


def test_a_client_directory_in_thin_mode_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "sms-bridge.toml"
    config.write_text('[database]\nclient_lib_dir = "/opt/ic"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^\[database\] client_lib_dir in .*driver_mode"):
        load_settings(config, {})
