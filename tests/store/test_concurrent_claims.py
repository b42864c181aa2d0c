"""Two worker processes claiming from one SQLite file never claim the same row."""

from __future__ import annotations

import subprocess
import sys
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from bridge.config import DatabaseSettings
from bridge.domain.models import EnqueueRequest, Sender
from bridge.domain.statuses import Status
from bridge.store import open_store

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 600


def test_two_processes_never_claim_the_same_row(tmp_path: Path, now: datetime) -> None:
    db = tmp_path / "shared.db"
    store = open_store(DatabaseSettings(url=f"sqlite:///{db}"))
    store.install(now)
    store.save_sender(Sender(code="HR", from_number="+15005550006"), now)
    for i in range(MESSAGES):
        store.enqueue(
            EnqueueRequest(
                sender_code="HR", body=f"m{i}", to_number="+14155550100", priority=1 + i % 3
            ),
            now,
        )
    logs = [tmp_path / f"w{n}.err" for n in (1, 2)]
    with ExitStack() as stack:
        procs = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.store.claimer", str(db), "HR", log.stem],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stack.enter_context(log.open("w")),
                    text=True,
                )
            )
            for log in logs
        ]
        for proc, log in zip(procs, logs, strict=True):  # both imported and opened the store
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", log.read_text()
        for proc in procs:  # then release both at once
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.close()
        outputs = [proc.stdout.read() if proc.stdout else "" for proc in procs]
        for proc, log in zip(procs, logs, strict=True):
            assert proc.wait(timeout=120) == 0, log.read_text()
    claimed = [[int(line) for line in out.split()] for out in outputs]
    assert claimed[0] and claimed[1], "both workers should have won some claims"
    assert not set(claimed[0]) & set(claimed[1])
    assert sorted(claimed[0] + claimed[1]) == list(range(1, MESSAGES + 1))
    counts = {c.status: c.count for c in store.counts()}
    assert counts == {Status.SENDING.value: MESSAGES}
    store.close()
