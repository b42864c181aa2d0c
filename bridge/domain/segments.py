"""SMS segment counting (pure): GSM-7 with its extension table, else UCS-2.

Twilio bills and meters per segment, so the per-sender rate is in segments per second.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def count(body: str) -> SegmentInfo:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in body)
        single, multi = 160, 153
        encoding = "GSM-7"
    else:
        units = utf16_units(body)
        single, multi = 70, 67
        encoding = "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SegmentInfo(encoding=encoding, units=units, segments=segments)


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units: how SMS (UCS-2), Oracle's LENGTH2 and an NVARCHAR2 column in
    the AL16UTF16 national character set count characters (an emoji counts as two)."""
    return len(text.encode("utf-16-le")) // 2


def fit_utf16(text: str, units: int) -> str:
    """The longest prefix of ``text`` of at most ``units`` UTF-16 code units, never splitting a
    character: what fits an NVARCHAR2(units) column."""
    if len(text) * 2 <= units:  # fast path: even all-astral text fits
        return text
    encoded = text.encode("utf-16-le")[: units * 2]
    return encoded.decode("utf-16-le", errors="ignore")  # drops a split surrogate pair
