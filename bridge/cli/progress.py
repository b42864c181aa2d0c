"""A live progress line that reads well both in a terminal and in a log file.

On a terminal the line is rewritten in place (carriage return, padded so a shorter line leaves
no remnants). Anywhere else (CI logs, ``make demo | tee``, journald) carriage returns would
glue every update into one unreadable line, so updates are written as separate lines, at most
one per ``interval`` seconds, and the final line always.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO


class ProgressLine:
    """Callable given each update; an update ending in a newline is the final one."""

    def __init__(
        self,
        stream: TextIO,
        *,
        prefix: str = "",
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.prefix = prefix
        self.interval = interval
        self.clock = clock
        self.live = stream.isatty()
        self._width = 0
        self._last_written = clock()  # a run shorter than the interval prints its final line only

    def __call__(self, update: str) -> None:
        final = update.endswith("\n")
        line = self.prefix + update.rstrip("\n")
        if self.live:
            padding = " " * max(0, self._width - len(line))
            self._width = len(line)
            self.stream.write("\r" + line + padding + ("\n" if final else ""))
        else:
            now = self.clock()
            if not final and now - self._last_written < self.interval:
                return
            self._last_written = now
            self.stream.write(line + "\n")
        self.stream.flush()
