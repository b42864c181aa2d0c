"""What the console's templates need beyond the rows: the Jinja2 environment, number masking,
error-code meanings and the server-rendered SVG chart (no JavaScript anywhere)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from bridge.domain import policy
from bridge.domain.phone import mask, mask_numbers_in
from bridge.store.console_store import HourCount

PACKAGE = Path(__file__).resolve().parents[1]  # inbound/
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static" / "console"
TROUBLESHOOTING = PACKAGE.parent / "docs" / "troubleshooting.md"
_HEADING = re.compile(r"^### (\d{5}) — (.+)$", re.M)


def error_meanings(path: Path = TROUBLESHOOTING) -> dict[int, str]:
    """Twilio error code -> its title in docs/troubleshooting.md, read once at start; codes
    the page does not list get the action of bridge.domain.policy's table."""
    meanings = {
        code: f"{action.value.lower()} (bridge policy)"
        for code, action in policy.CODE_ACTIONS.items()
    }
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return meanings
    for match in _HEADING.finditer(text):
        meanings[int(match[1])] = match[2].strip()
    return meanings


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["ago"] = ago
    return env


def when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "-"
    seconds = int((now - value).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


class Numbers:
    """Masks numbers for operators whose key lacks raw-numbers (bridge.domain.phone.mask)."""

    def __init__(self, raw: bool) -> None:
        self.raw = raw

    def number(self, value: str | None) -> str:
        if value is None:
            return "-"
        return value if self.raw else mask(value)

    def text(self, value: str | None) -> str:
        return (value if self.raw else mask_numbers_in(value)) or ""


# -- the chart -------------------------------------------------------------------------------

SERIES = (("submitted", "#2b6cb0"), ("delivered", "#2f855a"), ("failed", "#c53030"))
_W, _H, _LEFT, _BOTTOM, _TOP = 720, 240, 40, 28, 12


def hourly_chart(hours: Sequence[HourCount]) -> Markup:
    """Grouped bars per hour, as inline SVG with a title, a description and a legend."""
    highest = max([0, *(max(h.submitted, h.delivered, h.failed) for h in hours)])
    peak = max(4, -(-highest // 4) * 4)  # four whole-number steps on the scale
    plot_w, plot_h = _W - _LEFT - 8, _H - _BOTTOM - _TOP
    slot = plot_w / max(1, len(hours))
    bar = max(1.0, (slot - 4) / 3)
    total = {name: sum(getattr(h, name) for h in hours) for name, _ in SERIES}
    summary = ", ".join(f"{total[n]} {n}" for n, _ in SERIES)
    busiest = max(hours, key=lambda h: h.submitted, default=None)
    desc = f"Last 24 hours: {summary}."
    if busiest is not None and busiest.submitted:
        desc += f" Busiest hour {busiest.start:%H}:00 UTC with {busiest.submitted} submitted."
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-labelledby="chart-title'
        ' chart-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Messages per hour, last 24 hours (UTC)</title>',
        f'<desc id="chart-desc">{escape(desc)}</desc>',
    ]
    for step in range(5):  # grid lines and the scale
        value = peak * step // 4
        y = _TOP + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - 8}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{value}</text>"
        )
    for i, h in enumerate(hours):
        x0 = _LEFT + i * slot + 2
        for k, (name, colour) in enumerate(SERIES):
            n = getattr(h, name)
            height = plot_h * n / peak
            parts.append(
                f'<rect x="{x0 + k * bar:.1f}" y="{_TOP + plot_h - height:.1f}" width="{bar:.1f}"'
                f' height="{height:.1f}" fill="{colour}"><title>{h.start:%H}:00 {name}: {n}'
                "</title></rect>"
            )
        if i % 3 == 0:
            parts.append(
                f'<text x="{x0 + slot / 2:.1f}" y="{_H - 10}" class="axis" text-anchor="middle">'
                f"{h.start:%H}h</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def legend() -> list[dict[str, Any]]:
    return [{"name": name, "colour": colour} for name, colour in SERIES]
