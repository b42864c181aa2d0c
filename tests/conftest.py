"""Shared fixtures: a controlled clock and small builders used across the suites."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.fixture
def now() -> datetime:
    # Close to the real clock (Oracle's sms_api stamps created_at with its own UTC clock), but
    # fixed for the duration of a test.
    return datetime.now(UTC).replace(microsecond=0)
