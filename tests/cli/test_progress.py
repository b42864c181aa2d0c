"""The progress line: rewritten in place on a terminal, separate throttled lines elsewhere."""

from __future__ import annotations

import io

from bridge.cli.progress import ProgressLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_terminal_rewrites_in_place_and_pads_shorter_lines() -> None:
    out = Terminal()
    line = ProgressLine(out, prefix="  ")
    line("claimed 100")
    line("claimed 9")
    line("done\n")
    assert out.getvalue() == "\r  claimed 100\r  claimed 9  \r  done     \n"


def test_log_gets_separate_lines_throttled_and_always_the_final_one() -> None:
    out, clock = io.StringIO(), Clock()
    line = ProgressLine(out, interval=5.0, clock=clock)
    line("a")  # within the first interval: skipped
    clock.now += 5.0
    line("b")
    clock.now += 1.0
    line("c")  # too soon after b
    line("final\n")
    assert out.getvalue() == "b\nfinal\n"
    assert "\r" not in out.getvalue()
