"""How many SMS segments a body needs, and in which encoding (GSM-7 or UCS-2).

Twilio bills per segment, so the sandbox must count them the way carriers do instead of trusting
the caller: GSM-7 when every character is in the GSM 03.38 basic or extension table (extension
characters take two septets: ESC + char), otherwise UCS-2 counted in UTF-16 code units (so an emoji
outside the BMP costs two). A single segment holds 160 septets / 70 units; a concatenated one
loses room to the UDH and holds 153 / 67. Segments are filled greedily without splitting an
escape sequence or a surrogate pair, which is what handsets and Twilio do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["GSM-7", "UCS-2"]

_LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SegmentInfo:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def _char_units(body: str) -> tuple[Encoding, list[int]]:
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body):
        return "GSM-7", [2 if c in GSM7_EXTENSION else 1 for c in body]
    return "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in body]


def count_segments(body: str) -> SegmentInfo:
    """Segments for ``body``; an empty body still costs one segment."""
    encoding, units = _char_units(body)
    total = sum(units)
    single, multi = _LIMITS[encoding]
    if total <= single:
        return SegmentInfo(encoding, total, 1)
    segments, used = 1, 0
    for width in units:
        if used + width > multi:  # never split an escape sequence or a surrogate pair
            segments += 1
            used = 0
        used += width
    return SegmentInfo(encoding, total, segments)
