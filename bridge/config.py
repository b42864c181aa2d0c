"""Settings: one TOML file plus ``SMS_BRIDGE_<SECTION>_<KEY>`` environment overrides.

Secrets (database password, Twilio auth token, SMTP password) come from the environment or from
a ``*_file`` key naming a file that holds them; they are wrapped in :class:`Secret` so they never
show up in a repr or a log line. A secret written in the TOML itself is accepted with a warning
(logger ``bridge.config``). Every validation error names the key and where it came from (the
file, or the environment variable), and an ``SMS_BRIDGE_*`` variable that is neither a setting
nor one of :data:`OTHER_ENVIRONMENT_VARIABLES` is an error, so a misspelt one is not ignored.

:func:`load_settings` refuses settings that contradict themselves, for every command alike;
what only some commands need (the auth token to verify webhooks) is checked by those commands.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from bridge.errors import ConfigError

DEFAULT_CONFIG_NAME = "sms-bridge.toml"
ENV_PREFIX = "SMS_BRIDGE_"

log = logging.getLogger(__name__)

# [inbound] webhook_db_wait_ms, in ms. At most 3000: the wait, a bounded rollback after it
# (Oracle, 250 ms) and the spool's fsync stay under the 5 s a webhook is answered in (Twilio
# itself gives up after 15 s and calls the fallback URL).
WEBHOOK_DB_WAIT_MS_RANGE = (100, 3000)

# The SMS_BRIDGE_* variables that are not settings (SMS_BRIDGE_<SECTION>_<KEY>, and <KEY>_FILE
# of a secret), and who reads each. Any other SMS_BRIDGE_* variable stops load_settings.
OTHER_ENVIRONMENT_VARIABLES: Mapping[str, str] = {
    "SMS_BRIDGE_CONFIG": "config_path() here: the TOML file (set by sms-bridge serve --config)",
    "SMS_BRIDGE_LOG_LEVEL": "bridge/logsetup.py: the worker's and the CLI's log level",
    "SMS_BRIDGE_SERVE_BIND": "deploy/gunicorn.conf.py (sms-bridge serve sets it from --port)",
    "SMS_BRIDGE_SERVE_WORKERS": "deploy/gunicorn.conf.py (sms-bridge serve sets it from --workers)",
    "SMS_BRIDGE_SERVE_THREADS": "deploy/gunicorn.conf.py: threads per gunicorn worker (gthread)",
    "SMS_BRIDGE_SERVE_LOG_LEVEL": "deploy/gunicorn.conf.py: gunicorn's and the app's log level",
    "SMS_BRIDGE_SERVE_ACCESS_LOG": "deploy/gunicorn.conf.py: the access log",
    "SMS_BRIDGE_SERVE_FORWARDED_ALLOW_IPS": "deploy/gunicorn.conf.py: trusted proxies",
    "SMS_BRIDGE_TEST_ORACLE_DSN": "tests/store/test_store_oracle.py: the Oracle contract tests",
}


class Secret:
    """A string that refuses to print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///var/sms-bridge.db"
    password: Secret = field(default_factory=lambda: Secret(""))
    pool_min: int = 1
    pool_max: int = 4
    call_timeout_ms: int = 30_000
    busy_timeout_ms: int = 10_000
    # python-oracledb mode: "thin" (no Oracle Client) or "thick" (Oracle Instant Client, needed
    # where NLS_NCHAR_CHARACTERSET is not AL16UTF16); bridge/store/oracle_session.py.
    driver_mode: str = "thin"
    client_lib_dir: str = ""  # thick mode: Instant Client's directory ("": library search path)


@dataclass(frozen=True)
class TwilioAccount:
    """A named Twilio account or subaccount, ``[twilio.accounts.NAME]`` (a business unit's),
    that senders may send through (``sms_senders.twilio_account``); its secret follows the
    rules of ``[twilio] auth_token`` (SMS_BRIDGE_TWILIO_ACCOUNTS_<NAME>_AUTH_TOKEN[_FILE])."""

    account_sid: str = ""
    auth_token: Secret = field(default_factory=lambda: Secret(""))


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: Secret = field(default_factory=lambda: Secret(""))
    base_url: str = "https://api.twilio.com"
    timeout: float = 10.0
    # [twilio.accounts.NAME] tables, by name (the default account is [twilio] itself); base_url
    # and timeout are every account's.
    accounts: Mapping[str, TwilioAccount] = field(default_factory=dict)

    def account_sids(self) -> frozenset[str]:
        """The SIDs of every configured account, the default's included (when set)."""
        sids = {a.account_sid for a in self.accounts.values()}
        return frozenset(sids | ({self.account_sid} if self.account_sid else set()))

    def tokens_by_sid(self) -> dict[str, str]:
        """AccountSid -> auth token, of every account with both (the webhooks' keys)."""
        pairs = [(self.account_sid, self.auth_token)]
        pairs += [(a.account_sid, a.auth_token) for a in self.accounts.values()]
        return {sid: token.reveal() for sid, token in pairs if sid and token}


@dataclass(frozen=True)
class InboundSettings:
    public_url: str = "http://127.0.0.1:8080"
    verify_signatures: bool = True
    trust_forwarded_headers: bool = False
    development_mode: bool = False
    spool_dir: str = "var/spool"
    thread_window_hours: float = 72.0
    max_body_bytes: int = 65_536
    # The most a webhook (and GET /health) waits for the database, in total, before it spools
    # (bridge.store.dialect.Dialect.bounded_wait); see WEBHOOK_DB_WAIT_MS_RANGE.
    webhook_db_wait_ms: int = 2000
    # Who may read GET /metrics: CIDRs ("10.0.0.0/8", "::1/128"); empty: everyone (no key).
    metrics_networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class MailSettings:
    transport: str = "maildir"
    maildir: str = "var/mail"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_security: str = "none"  # none | starttls | ssl
    smtp_user: str = ""
    smtp_password: Secret = field(default_factory=lambda: Secret(""))
    sender: str = "sms-bridge@localhost"
    admins: tuple[str, ...] = ()
    error_digest_minutes: int = 15
    manager_digest_at: str = "07:00"  # daily, HH:MM in the worker host's local time
    alert_min_interval_minutes: int = 30


IO_PATHS = ("async", "threads")


@dataclass(frozen=True)
class BridgeSettings:
    default_region: str = "US"
    concurrency: int = 64
    batch_size: int = 100
    lease_seconds: int = 120
    reconcile_after_seconds: float = 60.0
    max_attempts: int = 6
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    poll_min_seconds: float = 0.2
    poll_max_seconds: float = 1.0
    sync_after_minutes: int = 30
    # The status sync job: how often it runs and how many rows it polls a run.
    sync_interval_minutes: int = 5
    sync_limit: int = 500
    # The opt-out sync job (Twilio's history of inbound STOP/START): how often (0: off), and
    # how far back its first run reads (400 days: 13 months); later runs start at the last.
    optout_sync_interval_minutes: int = 1440
    optout_sync_lookback_days: int = 400
    worker_name: str = ""
    # The worker's Prometheus exporter (bridge/outbound/metrics.py): None or 0, off.
    metrics_port: int | None = None
    # How the worker's creates reach Twilio: "async" (the twilio library's create_async on one
    # event loop; bridge/outbound/async_http.py) or "threads" (one send thread per create in
    # flight). docs/benchmarks.md, "I/O path", has the figures behind the default.
    io: str = "async"


@dataclass(frozen=True)
class RetentionSettings:
    # The purge of personal data (bridge/domain/retention.py; sms-bridge purge): bodies,
    # numbers and raw payloads of messages final for outbound_days, and of replies processed
    # for inbound_days. Opt-outs are never purged.
    enabled: bool = True  # the worker's daily job; `sms-bridge purge` works either way
    outbound_days: int = 90
    inbound_days: int = 90
    run_at: str = "03:30"  # daily, HH:MM in the worker host's local time
    batch_rows: int = 500  # rows per transaction (1 to 1000)


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    inbound: InboundSettings = field(default_factory=InboundSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    bridge: BridgeSettings = field(default_factory=BridgeSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    source: str = "<defaults>"  # the file the settings came from, for messages
    # Where each value set came from ("section.key" -> "environment variable X" or
    # "[section] key in FILE"), so a later check names the variable that is wrong.
    origins: Mapping[str, str] = field(default_factory=dict)

    def where(self, section: str, key: str) -> str:
        return self.origins.get(f"{section}.{key}", f"[{section}] {key} in {self.source}")


# Fields that are tables of their own, not keys: [twilio.accounts.NAME] (_build_accounts).
_NESTED_TABLES = frozenset({"accounts"})
# A named account: what sms_senders.twilio_account (varchar2(30)) holds, and its variables.
ACCOUNT_NAME = re.compile(r"[a-z][a-z0-9_]{0,29}")
ACCOUNT_ENV = re.compile(
    ENV_PREFIX + r"TWILIO_ACCOUNTS_(?P<name>[A-Z][A-Z0-9_]*?)_(?:ACCOUNT_SID|AUTH_TOKEN(?:_FILE)?)"
)
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")

_SECTIONS: dict[str, type[Any]] = {
    "database": DatabaseSettings,
    "twilio": TwilioSettings,
    "inbound": InboundSettings,
    "mail": MailSettings,
    "bridge": BridgeSettings,
    "retention": RetentionSettings,
}


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """``--config`` wins, then SMS_BRIDGE_CONFIG, then ./sms-bridge.toml if it exists."""
    if explicit:
        return Path(explicit)
    if environ.get(ENV_PREFIX + "CONFIG"):
        return Path(environ[ENV_PREFIX + "CONFIG"])
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.exists() else None


def load_settings(
    path: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read the TOML file (if any), apply environment overrides, validate, resolve secrets."""
    environ = os.environ if environ is None else environ
    source = str(path) if path else "<defaults>"
    raw: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"config file {file} does not exist")
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    for section in raw:
        if section not in _SECTIONS:
            raise ConfigError(f"unknown section [{section}] in {source}")
        if not isinstance(raw[section], dict):
            raise ConfigError(f"[{section}] in {source} must be a table")
    _check_environment_names(environ)
    origins: dict[str, str] = {}
    twilio_raw = dict(raw.get("twilio", {}))
    accounts_raw = twilio_raw.pop("accounts", {})
    raw = {**raw, "twilio": twilio_raw}
    built = {
        name: _build_section(name, cls, raw.get(name, {}), environ, source, origins)
        for name, cls in _SECTIONS.items()
    }
    accounts = _build_accounts(accounts_raw, environ, source, origins)
    built["twilio"] = dataclasses.replace(built["twilio"], accounts=accounts)
    settings = Settings(source=source, origins=origins, **built)
    validate(settings)
    return settings


def _env_name(section: str, key: str) -> str:
    """SMS_BRIDGE_<SECTION>_<KEY>; a nested table's dots are underscores there."""
    return f"{ENV_PREFIX}{section}_{key}".upper().replace(".", "_")


def _build_accounts(
    tables: Any, environ: Mapping[str, str], source: str, origins: dict[str, str]
) -> dict[str, TwilioAccount]:
    """The [twilio.accounts.NAME] tables, each key overridable (or given: an account may be
    the environment's alone) by SMS_BRIDGE_TWILIO_ACCOUNTS_<NAME>_<KEY>."""
    if not isinstance(tables, dict):
        raise ConfigError(f"[twilio] accounts in {source} must be tables [twilio.accounts.NAME]")
    # Where each account is defined (a misspelt variable's NAME is an account without a SID).
    defined = {name: f"[twilio.accounts.{name}] in {source}" for name in tables}
    for variable in sorted(environ):
        found = ACCOUNT_ENV.fullmatch(variable)
        if found:
            defined.setdefault(found.group("name").lower(), f"environment variable {variable}")
    accounts: dict[str, TwilioAccount] = {}
    for name in sorted(defined):
        section = f"twilio.accounts.{name}"
        origins[section] = defined[name]
        if not ACCOUNT_NAME.fullmatch(name):
            raise ConfigError(
                f"[{section}] in {source}: {name!r} is not an account name (lowercase letters,"
                " digits and _, starting with a letter, at most 30: sms_senders.twilio_account)"
            )
        values = tables.get(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] in {source} must be a table")
        accounts[name] = _build_section(section, TwilioAccount, values, environ, source, origins)
    return accounts


def _setting_fields(cls: type[Any]) -> list[dataclasses.Field[Any]]:
    """A section's keys: its fields but the tables nested in it ([twilio.accounts.NAME])."""
    return [f for f in dataclasses.fields(cls) if f.name not in _NESTED_TABLES]


def setting_environment_variables() -> set[str]:
    """Every SMS_BRIDGE_<SECTION>_<KEY> a setting is read from (and <KEY>_FILE of a secret).

    The variables of named Twilio accounts (SMS_BRIDGE_TWILIO_ACCOUNTS_<NAME>_<KEY>) are not
    listed: any NAME is one (:data:`ACCOUNT_ENV`)."""
    names: set[str] = set()
    for section, cls in _SECTIONS.items():
        hints = get_type_hints(cls)
        for item in _setting_fields(cls):
            names.add(_env_name(section, item.name))
            if hints[item.name] is Secret:
                names.add(_env_name(section, item.name) + "_FILE")
    return names


def _check_environment_names(environ: Mapping[str, str]) -> None:
    known = setting_environment_variables() | set(OTHER_ENVIRONMENT_VARIABLES)
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in known or ACCOUNT_ENV.fullmatch(name):
            continue
        # Compared without the common prefix, which would make every name look alike.
        tails = {k.removeprefix(ENV_PREFIX): k for k in known}
        close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), tails, n=1, cutoff=0.75)
        hint = (
            f" (did you mean {tails[close[0]]}?)"
            if close
            else f": not a setting ({ENV_PREFIX}<SECTION>_<KEY>) nor a variable the bridge reads"
        )
        raise ConfigError(f"unknown environment variable {name}{hint}")


def _build_section(
    section: str,
    cls: type[Any],
    values: dict[str, Any],
    environ: Mapping[str, str],
    source: str,
    origins: dict[str, str],
) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in _setting_fields(cls)}
    secret_files = {n + "_file" for n in names if hints[n] is Secret}
    for key in values:
        if key not in names and key not in secret_files:
            raise ConfigError(f"unknown key [{section}] {key} in {source}")
    kwargs: dict[str, Any] = {}
    for name in names:
        env_name = _env_name(section, name)
        where = f"environment variable {env_name}"
        value: Any
        if env_name in environ:
            value = environ[env_name]
        elif name in values:
            value, where = values[name], f"[{section}] {name} in {source}"
        elif hints[name] is Secret and (f"{env_name}_FILE" in environ or f"{name}_file" in values):
            file_key = f"{env_name}_FILE"
            secret_path = environ.get(file_key) or values[f"{name}_file"]
            where = file_key if file_key in environ else f"[{section}] {name}_file in {source}"
            value = _read_secret_file(secret_path, where)
        else:
            continue
        kwargs[name] = _convert(value, hints[name], where)
        origins[f"{section}.{name}"] = where
    for name in sorted(names):
        if hints[name] is Secret and values.get(name) not in (None, ""):
            # Accepted (a laptop, a test), but a config file is read by more people than a
            # secret should be. Never the value itself.
            env_name = _env_name(section, name)
            log.warning(
                "[%s] %s in %s: a secret in plain text in the config file; put it in a file"
                " named by [%s] %s_file (readable by the service only), or in the environment"
                " variable %s or %s_FILE",
                section,
                name,
                source,
                section,
                name,
                env_name,
                env_name,
            )
    return cls(**kwargs)


def _read_secret_file(path: str, where: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read secret file {path}: {exc.strerror}") from None


def _convert(value: Any, kind: Any, where: str) -> Any:
    try:
        if kind is Secret:
            return Secret(str(value))
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if kind == int | None:
            return None if value == "" else _convert(value, int, where)
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == tuple[str, ...]:
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            raise ValueError
        if kind is str:
            if not isinstance(value, str):
                raise ValueError
            return value
    except ValueError:
        pass
    type_name = {tuple[str, ...]: "list of strings"}.get(kind, getattr(kind, "__name__", str(kind)))
    raise ConfigError(f"{where}: {value!r} is not a valid {type_name}")


def redact_url(url: str) -> str:
    """A database URL fit for a message: a password in it (tests only) is masked."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:********@", url)


def _validate_retention(settings: Settings) -> None:
    where, retention = settings.where, settings.retention
    for name in ("outbound_days", "inbound_days"):
        if getattr(retention, name) < 1:
            raise ConfigError(f"{where('retention', name)}: must be at least 1 (days)")
    # A reply threads to its message by the number the message went to: purged, it is masked.
    window = settings.inbound.thread_window_hours
    if retention.outbound_days * 24 < window:
        raise ConfigError(
            f"{where('retention', 'outbound_days')}: {retention.outbound_days} day(s) is shorter"
            f" than {where('inbound', 'thread_window_hours')} = {window:g} h: replies within the"
            " window could no longer be threaded to a purged message"
        )
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", retention.run_at):
        raise ConfigError(f"{where('retention', 'run_at')}: expected HH:MM (24-hour)")
    if not 1 <= retention.batch_rows <= 1000:
        raise ConfigError(f"{where('retention', 'batch_rows')}: must be between 1 and 1000")


def _validate_twilio_accounts(settings: Settings) -> None:
    """Every [twilio.accounts.NAME] has a SID of Twilio's shape and a token, and no two
    accounts (the default [twilio] one included) share a SID: a webhook's AccountSid must name
    one account, whose token verifies it."""
    where, twilio = settings.where, settings.twilio
    seen: dict[str, str] = {}
    if twilio.accounts and twilio.account_sid:
        seen[twilio.account_sid] = where("twilio", "account_sid")
    for name, account in sorted(twilio.accounts.items()):
        section = f"twilio.accounts.{name}"
        if not ACCOUNT_NAME.fullmatch(name):
            raise ConfigError(f"[{section}] in {settings.source}: {name!r} is not an account name")
        if not account.account_sid:
            raise ConfigError(
                f"[{section}] account_sid is not set (account {name}, defined by"
                f" {settings.origins.get(section, settings.source)}): the AC... SID of that"
                f" account ({_env_name(section, 'account_sid')})"
            )
        if not ACCOUNT_SID.fullmatch(account.account_sid):
            raise ConfigError(
                f"{where(section, 'account_sid')}: {account.account_sid!r} is not an account"
                " SID (AC and 32 lowercase hex digits)"
            )
        if not account.auth_token:
            raise ConfigError(
                f"[{section}] auth_token is not set (account {name}, defined by"
                f" {settings.origins.get(section, settings.source)}): its auth token, from"
                f" [{section}] auth_token_file, {_env_name(section, 'auth_token')} or"
                f" {_env_name(section, 'auth_token')}_FILE"
            )
        other = seen.get(account.account_sid)
        if other is not None:
            raise ConfigError(
                f"{where(section, 'account_sid')}: {account.account_sid} is also {other}: each"
                " account needs a SID of its own (a webhook's AccountSid chooses the token)"
            )
        seen[account.account_sid] = where(section, "account_sid")


def validate(settings: Settings) -> None:
    """Refuse settings that contradict themselves (load_settings calls it; so does the inbound
    app, for settings built in code). Nothing here depends on what a command needs."""
    where = settings.where
    _validate_twilio_accounts(settings)
    url = settings.database.url
    if not (url.startswith("sqlite:///") or url.startswith("oracle://")):
        raise ConfigError(
            f"{where('database', 'url')}: {url!r} must start with sqlite:/// or oracle://"
        )
    if url.startswith("oracle://"):
        # Checked here, where the origin of the value is known (the dialect parses it later).
        parts = urlsplit(url)
        if not parts.username or not parts.hostname or not parts.path.strip("/"):
            raise ConfigError(
                f"{where('database', 'url')}: {redact_url(url)!r} must be"
                " oracle://user@host:port/service"
            )
    for name in ("call_timeout_ms", "busy_timeout_ms"):
        # 0 is "no limit"; below it python-oracledb's uint32 setter overflows.
        if getattr(settings.database, name) < 0:
            raise ConfigError(f"{where('database', name)}: must be 0 (no limit) or more")
    if settings.mail.transport not in {"smtp", "maildir"}:
        raise ConfigError(f"{where('mail', 'transport')}: must be 'smtp' or 'maildir'")
    if settings.mail.smtp_security not in {"none", "starttls", "ssl"}:
        raise ConfigError(f"{where('mail', 'smtp_security')}: must be 'none', 'starttls' or 'ssl'")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", settings.mail.manager_digest_at):
        raise ConfigError(f"{where('mail', 'manager_digest_at')}: expected HH:MM (24-hour)")
    _validate_retention(settings)
    if settings.bridge.io not in IO_PATHS:
        raise ConfigError(
            f"{where('bridge', 'io')}: {settings.bridge.io!r} must be 'async' or 'threads'"
        )
    for name in ("concurrency", "batch_size", "max_attempts", "lease_seconds"):
        if getattr(settings.bridge, name) < 1:
            raise ConfigError(f"{where('bridge', name)}: must be at least 1")
    for name in ("sync_interval_minutes", "sync_limit", "optout_sync_lookback_days"):
        if getattr(settings.bridge, name) < 1:
            raise ConfigError(f"{where('bridge', name)}: must be at least 1")
    if settings.bridge.optout_sync_interval_minutes < 0:
        raise ConfigError(
            f"{where('bridge', 'optout_sync_interval_minutes')}: must be 0 (off) or more"
        )
    # A claim must outlive its create, or recovery reconciles a request still in flight. The
    # worker claims only what free send threads can start at once (capacity = concurrency -
    # in flight), so a claimed row waits only for its batch's preparation (local lookups), not
    # for a slot: 1 s covers that. The create itself can take the timeout twice: requests
    # applies [twilio] timeout to the connect and again to the read.
    lease_floor = 2 * settings.twilio.timeout + 1
    if settings.bridge.lease_seconds < lease_floor:
        raise ConfigError(
            f"{where('bridge', 'lease_seconds')}: {settings.bridge.lease_seconds} is too short"
            f" for {where('twilio', 'timeout')} = {settings.twilio.timeout:g}: the lease must be"
            f" at least 2 x timeout + 1 s = {lease_floor:g}, or recovery reconciles creates"
            " still in flight"
        )
    if not 0 <= (settings.bridge.metrics_port or 0) <= 65535:
        raise ConfigError(f"{where('bridge', 'metrics_port')}: must be a port, 1 to 65535 (0: off)")
    for network in settings.inbound.metrics_networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigError(
                f"{where('inbound', 'metrics_networks')}: {network!r} is not a network"
                " (e.g. 10.0.0.0/8, 192.0.2.7, ::1/128)"
            ) from None
    if settings.bridge.reconcile_after_seconds < 0:
        raise ConfigError(f"{where('bridge', 'reconcile_after_seconds')}: must be 0 or more")
    if settings.database.pool_min < 1 or settings.database.pool_max < settings.database.pool_min:
        raise ConfigError(f"{where('database', 'pool_max')}: must be >= pool_min >= 1")
    if settings.database.driver_mode not in {"thin", "thick"}:
        raise ConfigError(
            f"{where('database', 'driver_mode')}: {settings.database.driver_mode!r} must be"
            " 'thin' (python-oracledb alone) or 'thick' (with Oracle Instant Client)"
        )
    if settings.database.client_lib_dir and settings.database.driver_mode != "thick":
        raise ConfigError(
            f"{where('database', 'client_lib_dir')}: set, but [database] driver_mode is"
            " 'thin', which loads no Oracle Client: set driver_mode = 'thick', or remove"
            " client_lib_dir"
        )
    inbound = settings.inbound
    parts = urlsplit(inbound.public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ConfigError(
            f"{where('inbound', 'public_url')}: {inbound.public_url!r} must be the http(s) URL"
            " Twilio calls, e.g. https://sms.example.com (SMS_BRIDGE_INBOUND_PUBLIC_URL)"
        )
    if not inbound.verify_signatures and not inbound.development_mode:
        raise ConfigError(
            f"{where('inbound', 'verify_signatures')}: false is only allowed together with"
            " [inbound] development_mode = true (SMS_BRIDGE_INBOUND_VERIFY_SIGNATURES,"
            " SMS_BRIDGE_INBOUND_DEVELOPMENT_MODE): it would accept forged webhooks"
        )
    if inbound.max_body_bytes < 1024:
        raise ConfigError(f"{where('inbound', 'max_body_bytes')}: must be at least 1024")
    low, high = WEBHOOK_DB_WAIT_MS_RANGE
    if not low <= inbound.webhook_db_wait_ms <= high:
        raise ConfigError(
            f"{where('inbound', 'webhook_db_wait_ms')}: {inbound.webhook_db_wait_ms} must be"
            f" between {low} and {high} (ms): a webhook waits this long for the database at"
            " most, then spools, and must be answered within 5 s"
        )
