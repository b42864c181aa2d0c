from __future__ import annotations

from bridge.domain.models import StatusCount
from bridge.report import render_counts


def test_table_has_rows_columns_and_totals() -> None:
    text = render_counts(
        [
            StatusCount("HR", "DELIVERED", 5),
            StatusCount("HR", "INVALID", 1),
            StatusCount("IT", "QUEUED", 2),
        ]
    )
    lines = text.splitlines()
    assert lines[0].split() == ["sender", "QUEUED", "DELIVERED", "INVALID", "total"]
    assert lines[2].split() == ["HR", "0", "5", "1", "6"]
    assert lines[3].split() == ["IT", "2", "0", "0", "2"]
    assert lines[4].split() == ["total", "2", "5", "1", "8"]


def test_daily_table_shows_the_statuses_the_period_has() -> None:
    from bridge.domain.models import DailyCount
    from bridge.report import render_daily

    lines = render_daily(
        [
            DailyCount("HR", "2030-05-01", "DELIVERED", 7),
            DailyCount("HR", "2030-05-01", "INVALID", 3),
            DailyCount("IT", "2030-05-02", "QUEUED", 12345),
        ]
    ).splitlines()
    assert lines[0].split() == ["sender", "day", "queued", "deliv", "invalid", "total"]
    assert lines[2].split() == ["HR", "2030-05-01", "0", "7", "3", "10"]
    assert lines[3].split() == ["IT", "2030-05-02", "12345", "0", "0", "12345"]
    assert len({len(line) for line in lines}) == 1  # columns line up


def test_daily_table_with_every_status_fits_100_columns() -> None:
    from bridge.domain.models import DailyCount
    from bridge.report import DAILY_COLUMNS, render_daily

    counts = [DailyCount("HR", "2030-05-01", s, 1000) for s in DAILY_COLUMNS]
    lines = render_daily(counts).splitlines()
    assert len(lines[0].split()) == 2 + len(DAILY_COLUMNS) + 1
    assert max(len(line) for line in lines) <= 100
