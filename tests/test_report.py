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
