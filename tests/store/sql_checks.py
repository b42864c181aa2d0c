"""Typed binds: the analysis behind tests/store/test_typed_binds.py and the checking layer that
tests/conftest.py puts around every statement the store runs during the suite.

python-oracledb binds Python None as VARCHAR2. A bind compared with ``=`` or written straight
into a column (``SET col = :x``, ``VALUES (:x)``) is converted by Oracle to the column's type,
but one standing as an argument of COALESCE/NVL/NVL2/DECODE/GREATEST/LEAST, as a CASE branch,
or as an operand of arithmetic or ``||`` is not: against a NUMBER it fails with ORA-00932
("expected CHAR got NUMBER"), against national text with ORA-12704. SQLite never notices. So in
those places a bind must be typed in the SQL with a CAST (``CAST(:error_code AS NUMBER)``).

The one exception is :data:`DRIVER_TYPED_BINDS`: binds that are never None and whose type the
Oracle dialect fixes from the value (its input type handler binds every datetime as TIMESTAMP).
No CAST spelling would keep SQLite's values there (``CAST(x AS TIMESTAMP)`` has NUMERIC
affinity in SQLite: '2026-03-02T09:30:15...' becomes 2026), so the checking layer proves at run
time that such a bind always holds a datetime instead.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# Bind name -> the Python type it must always hold when it stands uncast in a typed position.
DRIVER_TYPED_BINDS: dict[str, type] = {"now": datetime}

# Functions whose result type comes from their arguments (sqlglot reads NVL and IFNULL as
# COALESCE; DECODE is DecodeCase in recent versions, Decode in older ones).
_TYPED_BY_ARGUMENTS: tuple[type[exp.Expression], ...] = tuple(
    cls
    for cls in (
        exp.Coalesce,
        getattr(exp, "Nvl2", None),
        getattr(exp, "DecodeCase", None),
        getattr(exp, "Decode", None),
        exp.Greatest,
        exp.Least,
    )
    if isinstance(cls, type)
)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Neg)
_CONCATENATION = (exp.DPipe, exp.Concat)
_TYPED = (exp.Cast, exp.TryCast)


@dataclass(frozen=True)
class Untyped:
    bind: str
    context: str  # the enclosing expression, as Oracle SQL


@dataclass(frozen=True)
class Analysis:
    binds: frozenset[str]
    untyped: tuple[Untyped, ...]  # binds needing a CAST (DRIVER_TYPED_BINDS left out)
    driver_typed: frozenset[str]  # DRIVER_TYPED_BINDS standing uncast in a typed position
    error: str = ""  # why the statement could not be analysed


def parse(sql: str) -> exp.Expression:
    """The statement as sqlglot reads it: Oracle's dialect, else SQLite's (its own SQL)."""
    failure: Exception | None = None
    for dialect in ("oracle", "sqlite"):
        try:
            parsed: list[exp.Expression] = [
                e for e in sqlglot.parse(sql, read=dialect) if isinstance(e, exp.Expression)
            ]
        except SqlglotError as exc:
            failure = failure or exc
            continue
        if len(parsed) != 1:
            raise ValueError(f"{len(parsed)} statements where one was expected")
        return parsed[0]
    raise ValueError(str(failure).splitlines()[0] if failure else "does not parse")


def _typed_position(node: exp.Expression) -> exp.Expression | None:
    """The expression that takes its type from ``node`` (a bind), or None when Oracle types
    the bind from what it is compared with or written into, or a CAST types it."""
    while isinstance(node.parent, exp.Paren):
        node = node.parent
    parent, key = node.parent, node.arg_key
    if parent is None or isinstance(parent, _TYPED):
        return None
    if isinstance(parent, _TYPED_BY_ARGUMENTS + _ARITHMETIC + _CONCATENATION):
        return parent
    if isinstance(parent, exp.If):  # a CASE branch (WHEN this THEN true), or IF/IIF
        case = parent.parent
        simple_case = isinstance(case, exp.Case) and case.args.get("this") is not None
        if key in ("true", "false") or (key == "this" and simple_case):
            return case if isinstance(case, exp.Case) else parent
        return None
    if isinstance(parent, exp.Case) and key in ("default", "this"):  # ELSE, or CASE :x WHEN
        return parent
    return None


@functools.cache
def analyse(sql: str) -> Analysis:
    """What :func:`check_call` needs of ``sql``; cached per SQL text (the suite repeats them)."""
    try:
        tree = parse(sql)
    except ValueError as exc:
        return Analysis(frozenset(), (), frozenset(), error=str(exc))
    binds: set[str] = set()
    untyped: list[Untyped] = []
    driver_typed: set[str] = set()
    for placeholder in tree.find_all(exp.Placeholder):
        name = str(placeholder.this)
        binds.add(name)
        position = _typed_position(placeholder)
        if position is None:
            continue
        if name in DRIVER_TYPED_BINDS:
            driver_typed.add(name)
        else:
            untyped.append(Untyped(name, position.sql(dialect="oracle")))
    return Analysis(frozenset(binds), tuple(untyped), frozenset(driver_typed))


def untyped_message(where: str, untyped: Sequence[Untyped]) -> str:
    found = "; ".join(f":{u.bind} in {u.context}" for u in untyped)
    return (
        f"{where}: untyped bind (python-oracledb binds None as VARCHAR2; Oracle raises"
        f" ORA-00932/ORA-12704 here): {found}. Type it in the SQL, e.g."
        f" CAST(:{untyped[0].bind} AS NUMBER) for a NUMBER column"
    )


def _one_line(sql: str, limit: int = 160) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@functools.cache
def _store_constants() -> tuple[tuple[str, str], ...]:
    """(text up to any str.format field, 'module.NAME') of bridge.store's SQL, longest first."""
    import bridge.store

    found: list[tuple[str, str]] = []
    for info in pkgutil.iter_modules(bridge.store.__path__, "bridge.store."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            text = value.split("{")[0].rstrip() if isinstance(value, str) else ""
            if name.isupper() and len(text.strip()) > 20:
                found.append((text, f"{info.name.rsplit('.', 1)[-1]}.{name}"))
    return tuple(sorted(found, key=lambda item: -len(item[0])))


def statement_name(sql: str) -> str:
    """The bridge.store constant ``sql`` was made from (``queries.REQUEUE``), or ""."""
    return next((name for text, name in _store_constants() if sql.startswith(text)), "")


def check_call(sql: str, rows: Sequence[Mapping[str, Any] | None]) -> str:
    """Why this call must not run ("" when it may): the statement's untyped binds, bind names
    that differ from its placeholders, a driver-typed bind holding something else."""
    analysis = analyse(sql)
    where = " ".join(filter(None, (statement_name(sql), f"SQL {_one_line(sql)!r}")))
    if analysis.error:
        return f"{where}: cannot be analysed for typed binds ({analysis.error})"
    if analysis.untyped:
        return untyped_message(where, analysis.untyped)
    for row in rows:
        if row is not None and not isinstance(row, Mapping):
            return f"{where}: binds must be given by name, got {type(row).__name__}"
        given = set(row or ())
        missing, extra = analysis.binds - given, given - analysis.binds
        if missing or extra:
            differ = [
                f"{what} {sorted(names)}"
                for what, names in (("missing", missing), ("extra", extra))
                if names
            ]
            return f"{where}: bind names differ from its placeholders: {', '.join(differ)}"
        for name in analysis.driver_typed:
            value = (row or {})[name]
            if not isinstance(value, DRIVER_TYPED_BINDS[name]):
                return (
                    f"{where}: :{name} stands uncast where Oracle takes its type from it, so it"
                    f" must always be a {DRIVER_TYPED_BINDS[name].__name__}; got {value!r}"
                )
    return ""


class TypedBindError(BaseException):
    """Raised inside the store's call. A BaseException, as pytest's own failures are: the
    bridge's ``except Exception`` handlers (a worker loop, the webhook's spool fallback) must
    not swallow it; and every problem is also kept in :data:`PROBLEMS` for teardown."""


# Problems found during the current test (tests/conftest.py fails a test that swallowed one).
PROBLEMS: list[str] = []


def checked(method: Callable[..., Any], *, many: bool) -> Callable[..., Any]:
    """``method`` (a Tx's execute/executemany/rows) with every call checked first."""

    @functools.wraps(method)
    def run(self: Any, sql: str, params: Any = None) -> Any:
        problem = check_call(sql, list(params or ()) if many else [params])
        if problem:
            PROBLEMS.append(problem)
            raise TypedBindError(problem)
        return method(self, sql, params)

    return run
