"""A durable local spool for webhooks that arrive while the database is unreachable.

Twilio does not queue webhooks for us: an inbound SMS answered with an error is retried a few
times at most, then lost. So when the database is down the inbound app appends the webhook to
``<spool_dir>/inbound.jsonl`` (one JSON object per line, fsync'd before the 200 goes out) and a
replay job moves it into the database later, in arrival order.

Concurrency: gunicorn runs several worker processes. Appends and the replay's hand-over take an
exclusive ``flock`` on ``append.lock``; the replay renames the active file to
``replay-<ns>.jsonl`` under that lock, so appends never race a reader. Only one replay runs at a
time (``replay.lock``, non-blocking). Progress is a line count in ``<file>.done``, fsync'd after
every entry: a replay that crashes or meets the database down again resumes where it stopped.
Entries that can never be applied (malformed, or rejected by a bug) go to ``rejected.jsonl``
for a human, never silently dropped.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ACTIVE = "inbound.jsonl"
REJECTED = "rejected.jsonl"


@dataclass(frozen=True)
class SpoolEntry:
    id: str
    kind: str  # "inbound" | "status"
    received_at: datetime
    form: dict[str, list[str]]
    query: dict[str, str] = field(default_factory=dict)
    # Request headers the replay needs (I-Twilio-Idempotency-Token); not in dedupe_key.
    headers: dict[str, str] = field(default_factory=dict)

    def dedupe_key(self) -> str:
        """The same webhook delivered twice (Twilio retried while we were down) has one key."""
        canonical = json.dumps([self.kind, self.form, self.query], sort_keys=True)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "kind": self.kind,
                "received_at": self.received_at.isoformat(),
                "form": self.form,
                "query": self.query,
                **({"headers": self.headers} if self.headers else {}),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str) -> SpoolEntry:
        data: dict[str, Any] = json.loads(line)
        return cls(
            id=str(data["id"]),
            kind=str(data["kind"]),
            received_at=datetime.fromisoformat(data["received_at"]),
            form={str(k): [str(v) for v in vs] for k, vs in data["form"].items()},
            query={str(k): str(v) for k, v in data.get("query", {}).items()},
            headers={str(k): str(v) for k, v in data.get("headers", {}).items()},
        )


@dataclass
class ReplayReport:
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    remaining: int = 0  # left in the spool because the database is still unavailable
    busy: bool = False  # another replay holds the lock

    def __str__(self) -> str:
        if self.busy:
            return "spool: another replay is running"
        return (
            f"spool: {self.applied} applied, {self.duplicates} duplicates ignored,"
            f" {self.rejected} rejected, {self.remaining} remaining"
        )


class Spool:
    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def append(
        self,
        kind: str,
        form: Mapping[str, Sequence[str]],
        received_at: datetime,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SpoolEntry:
        """Write one entry and fsync it; only then may the caller answer Twilio 200."""
        entry = SpoolEntry(
            id=uuid.uuid4().hex,
            kind=kind,
            received_at=received_at,
            form={k: list(v) for k, v in form.items()},
            query=dict(query or {}),
            headers=dict(headers or {}),
        )
        data = (entry.to_json() + "\n").encode("utf-8")
        self._make_directory()
        path = self.directory / ACTIVE
        with self._lock("append.lock", blocking=True):
            created = not path.exists()
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    # A write torn by a crash: end that line, so this entry stays whole.
                    data = b"\n" + data
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                self._sync_directory()
        return entry

    def pending(self) -> int:
        """Entries not yet replayed (all files, minus the progress of interrupted replays)."""
        total = 0
        active = self.directory / ACTIVE
        for path in self._replay_files() + ([active] if active.exists() else []):
            total += max(_count_lines(path) - _read_progress(path), 0)
        return total

    def replay(
        self,
        apply: Callable[[SpoolEntry], bool | None],
        is_unavailable: Callable[[BaseException], bool],
    ) -> ReplayReport:
        """Apply every entry in order; stop (keeping the rest) when the database is down.

        ``apply`` returns False for an entry the database already had (a duplicate)."""
        report = ReplayReport()
        if not self.directory.is_dir():
            return report
        try:
            with self._lock("replay.lock", blocking=False):
                self._hand_over()
                seen: set[str] = set()
                for path in self._replay_files():
                    if not self._replay_file(path, apply, is_unavailable, seen, report):
                        report.remaining = self.pending()
                        break
        except BlockingIOError:
            report.busy = True
        return report

    # -- internals -------------------------------------------------------------------------

    def _replay_file(
        self,
        path: Path,
        apply: Callable[[SpoolEntry], bool | None],
        is_unavailable: Callable[[BaseException], bool],
        seen: set[str],
        report: ReplayReport,
    ) -> bool:
        done = _read_progress(path)
        with path.open("r", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if number <= done or not line.strip():
                    continue
                try:
                    entry = SpoolEntry.from_json(line)
                except (ValueError, KeyError, TypeError) as exc:
                    # A torn last line (crash during a write) or damage: keep it for a human.
                    self._reject(line, f"unreadable spool line: {exc}")
                    report.rejected += 1
                else:
                    key = entry.dedupe_key()
                    if key in seen:
                        report.duplicates += 1
                    else:
                        try:
                            fresh = apply(entry)
                        except Exception as exc:
                            if is_unavailable(exc):
                                log.warning("spool replay stopped: database unavailable (%s)", exc)
                                return False
                            log.exception("spool entry %s rejected", entry.id)
                            self._reject(line, f"{type(exc).__name__}: {exc}")
                            report.rejected += 1
                        else:
                            if fresh is False:
                                report.duplicates += 1
                            else:
                                report.applied += 1
                        seen.add(key)
                _write_progress(path, number)
        path.unlink()
        _progress_path(path).unlink(missing_ok=True)
        self._sync_directory()
        return True

    def _hand_over(self) -> None:
        """Move the active file aside so appends continue in a fresh one while we read."""
        active = self.directory / ACTIVE
        with self._lock("append.lock", blocking=True):
            if active.exists() and active.stat().st_size > 0:
                active.rename(self.directory / f"replay-{time.time_ns():020d}.jsonl")
                self._sync_directory()

    def _replay_files(self) -> list[Path]:
        # Never the active file: appends may be landing in it, and a replayed file is deleted.
        return sorted(self.directory.glob("replay-*.jsonl"))

    def _reject(self, line: str, reason: str) -> None:
        record = json.dumps({"reason": reason, "line": line.rstrip("\n")}, ensure_ascii=False)
        fd = os.open(self.directory / REJECTED, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (record + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextmanager
    def _lock(self, name: str, *, blocking: bool) -> Iterator[None]:
        self._make_directory()
        fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _make_directory(self) -> None:
        # Phone numbers and message bodies: the directory 0700 and every file 0600, whatever
        # the umask (which can only narrow these). An existing directory keeps its mode.
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _sync_directory(self) -> None:
        # A new or renamed file survives a crash only once its directory entry is on disk.
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _progress_path(path: Path) -> Path:
    return path.with_name(path.name + ".done")


def _read_progress(path: Path) -> int:
    try:
        return int(_progress_path(path).read_text(encoding="ascii").strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def _write_progress(path: Path, lines_done: int) -> None:
    fd = os.open(_progress_path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, str(lines_done).encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())
