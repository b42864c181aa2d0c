"""Run the real ``sms-bridge`` console script in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

CONSOLE_SCRIPT = Path(sys.executable).with_name("sms-bridge")


def sms_bridge(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``sms-bridge ARGS`` in `cwd` with only `env` (plus PATH/HOME) of SMS_BRIDGE_* set."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMS_BRIDGE_")}
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        check=False,
    )


def one_line(text: str) -> str:
    """The single line of `text`, failing the test when there is not exactly one."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]
