"""The rooms' import rules (docs/architecture.md), checked on the source tree's syntax.

Each rule is checked on the real tree and, so that a broken checker cannot pass silently, on a
small tree written here that breaks it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What each room of bridge/ may import from bridge/ (besides itself). A top-level module is a room
# of its own, named by its module name.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "apikeys": {"domain"},
    "logsetup": set(),
    "config": {"errors"},
    "domain": {"errors"},
    "report": {"domain"},
    "store": {"domain", "errors", "config", "apikeys"},
    "replies": {"domain", "store", "errors", "config"},
    "mail": {"domain", "store", "errors", "config"},
    "outbound": {"domain", "store", "errors", "config", "mail"},
    "hr": {"domain", "store", "errors", "config"},
    "runner": {
        *("domain", "store", "errors", "config", "logsetup"),
        *("outbound", "replies", "mail", "hr"),
    },
    "demo": {"*"},
    "cli": {"*"},
}
# What the inbound service (Falcon) may use of the bridge: never the worker, the CLI or the demo.
INBOUND_ALLOWED = {"domain", "store", "replies", "errors", "config", "apikeys", "logsetup"}
# The domain room is pure: no module doing I/O, no environment, no clock.
IO_MODULES = {
    *("sqlite3", "oracledb", "twilio", "smtplib", "falcon", "requests", "socket"),
    *("subprocess", "urllib.request", "http.client", "mailbox", "shutil", "ssl", "aiosmtpd"),
}
CLOCK_CALLS = {
    *("datetime.now", "datetime.utcnow", "datetime.today", "date.today"),
    *("time.time", "time.monotonic", "time.perf_counter", "time.time_ns", "time.sleep"),
}
ENVIRON_READS = {"os.environ", "os.getenv", "os.environb", "environ", "getenv"}
# The one place bridge/ may import inbound/: the CLI's serve command, which execs gunicorn.
INBOUND_ENTRY = ("cli/inbound.py", "cmd_serve")


@dataclass(frozen=True)
class Import:
    path: str  # relative to its package, e.g. "domain/phone.py"
    module: str  # the full module name imported, e.g. "bridge.store.dialect"
    function: str | None  # the enclosing function, None at module level
    line: int


def imports_of(package: Path) -> Iterator[Import]:
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(package).as_posix()
        yield from _walk(tree, rel, None)


def _walk(node: ast.AST, rel: str, function: str | None) -> Iterator[Import]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            for alias in child.names:
                yield Import(rel, alias.name, function, child.lineno)
        elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
            # The imported name too: `from bridge import errors` is bridge.errors (a room of its
            # own), `from os import environ` is os.environ.
            for alias in child.names:
                yield Import(rel, f"{child.module}.{alias.name}", function, child.lineno)
        elif isinstance(child, ast.ImportFrom) and child.level:
            yield Import(rel, "." * child.level + (child.module or ""), function, child.lineno)
        name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
        yield from _walk(child, rel, name)


def room_of_path(rel: str) -> str:
    first = rel.split("/")[0]
    return first.removesuffix(".py")


def room_of_module(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "bridge" and len(parts) > 1 else None


def bridge_violations(bridge: Path) -> list[str]:
    found = []
    for imp in imports_of(bridge):
        room = room_of_path(imp.path)
        where = f"bridge/{imp.path}:{imp.line}"
        top = imp.module.split(".")[0]
        if imp.module.startswith("."):
            found.append(f"{where}: relative import {imp.module} (use bridge.<room>...)")
        elif top == "inbound" and (imp.path, imp.function) != INBOUND_ENTRY:
            found.append(f"{where}: imports {imp.module} (only {'/'.join(INBOUND_ENTRY)} may)")
        elif (target := room_of_module(imp.module)) is not None and target != room:
            allowed = ALLOWED.get(room, set())
            if "*" not in allowed and target not in allowed:
                found.append(f"{where}: room {room} imports {imp.module} (room {target})")
        if room == "domain":
            if any(imp.module == m or imp.module.startswith(m + ".") for m in IO_MODULES):
                found.append(f"{where}: the domain room imports I/O module {imp.module}")
            if imp.module in {"os.environ", "os.getenv"}:
                found.append(f"{where}: the domain room reads the environment")
    for path in sorted((bridge / "domain").rglob("*.py")):
        found += _impure_calls(path, f"bridge/{path.relative_to(bridge).as_posix()}")
    return found


def _impure_calls(path: Path, shown: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        dotted = _dotted(node) if isinstance(node, ast.Attribute | ast.Name) else None
        if dotted is None:
            continue
        line = getattr(node, "lineno", 0)
        if dotted in ENVIRON_READS or dotted.startswith("os.environ."):
            found.append(f"{shown}:{line}: the domain room reads the environment ({dotted})")
        if any(dotted == c or dotted.endswith("." + c) for c in CLOCK_CALLS):
            found.append(f"{shown}:{line}: the domain room reads the clock ({dotted})")
        if dotted == "open":
            found.append(f"{shown}:{line}: the domain room opens a file")
    return found


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def foreign_imports(
    package: Path, forbidden: set[str], allowed_rooms: set[str] | None
) -> list[str]:
    """Imports of `forbidden` top-level packages, or of bridge rooms not in `allowed_rooms`."""
    found = []
    for imp in imports_of(package):
        top = imp.module.split(".")[0]
        where = f"{package.name}/{imp.path}:{imp.line}"
        if top in forbidden:
            found.append(f"{where}: imports {imp.module}")
            continue
        room = room_of_module(imp.module)
        if allowed_rooms is not None and room is not None and room not in allowed_rooms:
            found.append(f"{where}: imports {imp.module} (room {room})")
    return found


# --- the real tree ---------------------------------------------------------------------------


def test_bridge_rooms_keep_their_import_rules() -> None:
    assert (ROOT / "bridge" / "domain").is_dir()
    assert bridge_violations(ROOT / "bridge") == []


def test_bridge_has_few_modules_at_its_top_level() -> None:
    modules = sorted(p.name for p in (ROOT / "bridge").glob("*.py"))
    assert "config.py" in modules and len(modules) <= 8, modules


def test_every_room_is_listed_in_the_rules() -> None:
    rooms = {p.name for p in (ROOT / "bridge").iterdir() if (p / "__init__.py").exists()}
    rooms |= {p.stem for p in (ROOT / "bridge").glob("*.py") if p.stem != "__init__"}
    assert rooms - set(ALLOWED) == set()


def test_the_inbound_service_uses_only_the_shared_rooms() -> None:
    assert foreign_imports(ROOT / "inbound", {"sandbox"}, INBOUND_ALLOWED) == []


def test_the_sandbox_imports_nothing_from_bridge_or_inbound() -> None:
    """An independent fake catches our mistakes instead of sharing them (design §2)."""
    assert len(list((ROOT / "sandbox").glob("*.py"))) > 10
    assert foreign_imports(ROOT / "sandbox", {"bridge", "inbound"}, None) == []


# --- the checker itself, on trees that break each rule ---------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    bridge = tmp_path / "bridge"
    for rel, text in {"__init__.py": "", "domain/__init__.py": "", **files}.items():
        path = bridge / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return bridge


@pytest.mark.parametrize(
    ("rel", "source", "expected"),
    [
        ("domain/phone.py", "import sqlite3\n", "I/O module sqlite3"),
        ("domain/phone.py", "from twilio.rest import Client\n", "I/O module twilio.rest"),
        ("domain/phone.py", "import os\nx = os.environ['A']\n", "reads the environment"),
        ("domain/phone.py", "from os import environ\n", "reads the environment"),
        ("domain/phone.py", "import os\nx = os.getenv('A')\n", "reads the environment"),
        ("domain/phone.py", "from datetime import datetime\nx = datetime.now()\n", "the clock"),
        ("domain/phone.py", "import time\nx = time.monotonic()\n", "the clock"),
        ("domain/phone.py", "from bridge.store import Store\n", "room domain imports"),
        ("store/store.py", "from bridge.outbound import worker\n", "room store imports"),
        ("mail/notify.py", "from bridge import runner\n", "room mail imports bridge.runner"),
        ("outbound/worker.py", "import inbound.app\n", "imports inbound.app"),
        ("cli/main.py", "from inbound.app import get_app\n", "only cli/inbound.py/cmd_serve"),
        ("cli/inbound.py", "from inbound.app import get_app\n", "only cli/inbound.py/cmd_serve"),
        ("domain/phone.py", "from . import segments\n", "relative import"),
    ],
)
def test_the_checker_finds_a_broken_rule(
    tmp_path: Path, rel: str, source: str, expected: str
) -> None:
    found = bridge_violations(_tree(tmp_path, {rel: source}))
    assert any(expected in line for line in found), found


def test_the_checker_allows_what_the_rules_allow(tmp_path: Path) -> None:
    bridge = _tree(
        tmp_path,
        {
            "domain/phone.py": "from datetime import datetime\nfrom bridge import errors\n"
            "def at(now: datetime) -> datetime:\n    return now\n",
            "cli/inbound.py": "def cmd_serve():\n    from inbound.app import check_settings\n",
            "cli/main.py": "from bridge.outbound import worker\nimport sandbox.cli\n",
        },
    )
    assert bridge_violations(bridge) == []


def test_the_foreign_import_check_finds_one(tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    (sandbox / "app.py").write_text("def f():\n    from bridge.domain import phone\n")
    assert foreign_imports(sandbox, {"bridge", "inbound"}, None) == [
        "sandbox/app.py:2: imports bridge.domain.phone"
    ]
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    (inbound / "app.py").write_text("from bridge.outbound.worker import Worker\n")
    assert foreign_imports(inbound, {"sandbox"}, INBOUND_ALLOWED) == [
        "inbound/app.py:1: imports bridge.outbound.worker.Worker (room outbound)"
    ]
