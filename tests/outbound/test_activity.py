"""The worker's start, minute-summary and stop lines (bridge.outbound.activity + Runner)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bridge.domain.models import Sender
from bridge.domain.statuses import Status
from bridge.outbound import activity
from bridge.runner import Runner
from tests.outbound.support import enqueue_many, local_settings, prepare_db


def test_figures_subtract_and_say_whether_anything_happened() -> None:
    before = activity.Figures(claimed=3, submitted=2, finalized={"INVALID": 1})
    after = activity.Figures(
        claimed=10, submitted=8, retried=1, finalized={"INVALID": 1, "FAILED": 2}
    )
    delta = after.minus(before)
    assert delta == activity.Figures(claimed=7, submitted=6, retried=1, finalized={"FAILED": 2})
    assert delta.any and not after.minus(after).any
    assert activity.should_summarise(activity.Figures(), queued=4)
    assert not activity.should_summarise(activity.Figures(), queued=0)


def test_lines_read_as_sentences() -> None:
    senders = [
        Sender(code="HR", mps=10),
        Sender(code="IT", mps=0.5),
        Sender(code="OLD", active=False),
    ]
    line = activity.start_line(
        version="0.1.0", worker="host:1", database="sqlite /var/x.db",
        twilio_base_url="https://api.twilio.com", concurrency=64, senders=senders,
    )  # fmt: skip
    assert line == (
        "sms-bridge 0.1.0 worker host:1 started: database sqlite /var/x.db, Twilio"
        " https://api.twilio.com, concurrency 64, senders HR 10/s, IT 0.5/s"
    )
    delta = activity.Figures(claimed=5, submitted=4, finalized={"INVALID": 1})
    assert activity.summary_line(60.2, delta, queued=12, due=3) == (
        "last 60 s: claimed 5, submitted 4, retried 0, unknown 0, final INVALID 1;"
        " queue 12 (3 due now)"
    )
    assert activity.stop_line("host:1", 3725, delta, "SIGTERM").startswith(
        "worker host:1 stopped (SIGTERM) after 1 h 02 min: claimed 5,"
    )


def test_the_runner_summarises_each_minute_while_there_is_work(tmp_path: Path) -> None:
    db = tmp_path / "activity.db"
    store = prepare_db(db)
    settings = local_settings(db, tmp_path / "mail")
    said: list[str] = []
    ticks = {"t": 1000.0}
    runner = Runner(
        settings, store, announce=said.append, monotonic=lambda: ticks["t"],
        clock=lambda: datetime.now(UTC),
    )  # fmt: skip
    try:
        runner.say_started()
        assert len(said) == 1 and " started: " in said[0] and "senders HR 1000/s" in said[0]
        runner.summarise()
        assert len(said) == 1  # nothing happened, nothing waits: no line
        enqueue_many(store, 3)
        runner.worker.stats.claimed += 2
        runner.worker.stats.final(Status.INVALID)
        ticks["t"] += 60
        runner.summarise()
        assert said[-1] == (
            "last 60 s: claimed 2, submitted 0, retried 0, unknown 0, final INVALID 1;"
            " queue 3 (3 due now)"
        )
        ticks["t"] += 60
        runner.summarise()  # nothing new, but three still wait: a line
        assert said[-1].startswith("last 60 s: claimed 0, submitted 0,") and "queue 3" in said[-1]
        ticks["t"] += 5
        runner.say_stopped("SIGTERM")
        assert said[-1].startswith(f"worker {runner.name} stopped (SIGTERM) after 2 min 05 s:")
        assert "claimed 2," in said[-1]
    finally:
        runner.worker.shutdown()
        store.close()
