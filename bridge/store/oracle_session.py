"""Which python-oracledb mode a process runs in, and whether the database suits that mode.

python-oracledb runs in thin mode by default (pure Python, no Oracle Client). Thin mode reads
and writes national text (NVARCHAR2, the bridge's message bodies and replies) only in the
AL16UTF16 national character set; a database whose ``NLS_NCHAR_CHARACTERSET`` is UTF8 (older
E-Business Suite databases often are) fails every such read and write with DPY-3012. Thick mode
(Oracle Instant Client, ``[database] driver_mode = "thick"``) handles both.

:func:`init_driver` enables thick mode once per process when the settings ask for it (before
any pool exists: python-oracledb fixes its mode with the first connection), and
:func:`check_national_charset` tells an operator, in one line, when the database needs it.
The driver module is passed in, so both run against fakes in the tests.
"""

from __future__ import annotations

import threading
from typing import Any

from bridge.errors import ConfigError

# The national character sets python-oracledb thin mode can read and write. AL16UTF16 and
# UTF8 are the only ones Oracle allows for NLS_NCHAR_CHARACTERSET; thick mode handles both.
THIN_NATIONAL_CHARSETS = frozenset({"AL16UTF16"})

# NLS_DATABASE_PARAMETERS is readable by every user (a PUBLIC grant), VALUE is VARCHAR2: the
# query itself reads no national text, so it works in thin mode whatever the answer.
NATIONAL_CHARSET_SQL = (
    "SELECT value FROM nls_database_parameters WHERE parameter = 'NLS_NCHAR_CHARACTERSET'"
)

_lock = threading.Lock()
# id(driver module) -> (the module, the lib_dir it was initialised with). Keyed by module so
# that tests with fake drivers do not see each other; the module is kept so its id stays its.
_thick: dict[int, tuple[Any, str | None]] = {}


def _database(settings: Any) -> Any:
    """[database] of a Settings, or a DatabaseSettings itself."""
    return getattr(settings, "database", settings)


def _where(settings: Any, key: str) -> str:
    where = getattr(settings, "where", None)
    return str(where("database", key)) if callable(where) else f"[database] {key}"


def init_driver(oracledb_module: Any, settings: Any) -> bool:
    """Put python-oracledb in the mode ``[database] driver_mode`` names; True for thin.

    ``settings`` is a :class:`~bridge.config.Settings` (messages then name where a value came
    from) or its :class:`~bridge.config.DatabaseSettings`. For ``"thick"``,
    ``init_oracle_client`` is called once per process, with ``lib_dir`` from ``client_lib_dir``
    (empty: none, the system library search path, as Oracle recommends on Linux); a later call
    with the same directory does nothing. Any failure (DPI-1047: no client library there; a
    thin connection made earlier in the process; another directory than the first call's) is
    a one-line :class:`~bridge.errors.ConfigError`.
    """
    database = _database(settings)
    if database.driver_mode != "thick":
        is_thin = getattr(oracledb_module, "is_thin_mode", None)
        # Thick already, if something else in this process enabled it: say so truthfully.
        return bool(is_thin()) if callable(is_thin) else True
    lib_dir = database.client_lib_dir or None
    where = _where(settings, "client_lib_dir")
    with _lock:
        done = _thick.get(id(oracledb_module))
        if done is not None:
            if done[1] != lib_dir:
                raise ConfigError(
                    f"{where}: {lib_dir or ''!r} differs from {done[1] or ''!r}, with which this"
                    " process already loaded the Oracle Client (thick mode); one per process"
                )
            return False
        try:
            oracledb_module.init_oracle_client(lib_dir=lib_dir)
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            shown = f"directory {lib_dir!r}" if lib_dir else "the system library search path"
            raise ConfigError(
                f'{where}: driver_mode = "thick" could not load the Oracle Client from {shown}'
                f" ({first}); install Oracle Instant Client and name its directory in"
                " [database] client_lib_dir (on Linux leave it empty and register the directory"
                ' with ldconfig or LD_LIBRARY_PATH), or use driver_mode = "thin"'
            ) from None
        _thick[id(oracledb_module)] = (oracledb_module, lib_dir)
    return False


def national_charset(cursor_or_conn: Any) -> str | None:
    """The database's NLS_NCHAR_CHARACTERSET (upper case), None if the view has no such row.

    Takes a python-oracledb connection (a cursor is opened and closed) or a cursor."""
    cursor_factory = getattr(cursor_or_conn, "cursor", None)
    if callable(cursor_factory):
        cursor = cursor_factory()
        try:
            return _read_national_charset(cursor)
        finally:
            cursor.close()
    return _read_national_charset(cursor_or_conn)


def _read_national_charset(cursor: Any) -> str | None:
    cursor.execute(NATIONAL_CHARSET_SQL)
    rows = cursor.fetchall()  # one row (the parameter is the view's key), or none
    if not rows or rows[0][0] is None:
        return None
    return str(rows[0][0]).strip().upper()


def check_national_charset(cursor_or_conn: Any, thin: bool) -> None:
    """Raise a one-line :class:`~bridge.errors.ConfigError` when python-oracledb, in the mode
    this process runs (``thin``), cannot read or write the database's national text.

    Thick mode handles every national character set: nothing is read then. In thin mode, an
    answer other than AL16UTF16 is refused with the way out; no answer at all (a view
    without the row) is let through, since the driver then says so itself at the first
    national text."""
    if not thin:
        return
    charset = national_charset(cursor_or_conn)
    if charset is None or charset in THIN_NATIONAL_CHARSETS:
        return
    raise ConfigError(
        f"the database's national character set (NLS_NCHAR_CHARACTERSET) is {charset}, which"
        " python-oracledb thin mode cannot read or write (every NVARCHAR2 message body would"
        " fail with DPY-3012): use thick mode with Oracle Instant Client, [database]"
        ' driver_mode = "thick" and client_lib_dir (docs/oracle.md, "Thin and thick mode")'
    )
