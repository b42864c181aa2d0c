"""The outbound suite's sandbox: one process per test module (fast lifecycle, magic numbers),
reset to no messages and no faults before each test. A module may override ``sandbox``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.outbound.support import reset_control, start
from tests.sandbox.sandbox_support import Control, SandboxProcess


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    process = start()
    yield process
    process.stop()


@pytest.fixture
def control(sandbox: SandboxProcess) -> Iterator[Control]:
    ctl = reset_control(sandbox.url)
    yield ctl
    ctl.close()
