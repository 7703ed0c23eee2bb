"""How many SMS segments a text costs, exactly as GSM 03.38 / 3GPP TS 23.038 count them.

A text goes as GSM-7 when every character is in the default alphabet (basic
set, or the extension table at two septets each); otherwise the whole message
goes as UCS-2 (UTF-16 code units). One segment holds 160 septets or 70 units;
a concatenated message loses room to its header: 153 septets or 67 units per
segment, and an escape pair or a surrogate pair is never split between two
segments. Used by the SMS channel and by the tests that keep every message of
every locale within its budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SMS_MAX_SEGMENTS",
    "SMS_MAX_SEGMENTS_UCS2",
    "Encoding",
    "SmsMeasure",
    "is_gsm7",
    "measure",
    "non_gsm7_characters",
    "sms_segments",
]

Encoding = Literal["GSM-7", "UCS-2"]

#: The GSM 03.38 default alphabet, basic set (one septet each), in code order 0x00-0x7F.
#: 0x1B (ESC) is left out: it introduces the extension table. 0x09 is the capital Ç.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ" + "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

#: The extension table: each costs two septets (ESC + code). \x0c is the page break.
GSM7_EXTENSION: frozenset[str] = frozenset("\x0c^{}\\[~]|€")

#: One message to her costs at most this many segments where the language allows
#: (DESIGN.md §4); a longer step goes as several (``bot.channels.split``).
SMS_MAX_SEGMENTS = 2
#: ... and at most this many where it needs UCS-2 (a third of the characters per segment).
SMS_MAX_SEGMENTS_UCS2 = 3

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class SmsMeasure:
    """What a text costs: its encoding, its length in septets or UTF-16 units, its segments."""

    encoding: Encoding
    units: int
    segments: int

    @property
    def capacity(self) -> int:
        """Units this many segments could hold (for 'n characters left' hints)."""
        if self.encoding == "GSM-7":
            return GSM7_SINGLE if self.segments <= 1 else GSM7_MULTI * self.segments
        return UCS2_SINGLE if self.segments <= 1 else UCS2_MULTI * self.segments


def is_gsm7(text: str) -> bool:
    """True if ``text`` can go as GSM-7 (basic set and extension table only)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def non_gsm7_characters(text: str) -> list[str]:
    """The distinct characters that force ``text`` into UCS-2, in order of first use."""
    return list(
        dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION)
    )


def _pack(widths: list[int], single: int, multi: int) -> int:
    """Segments needed for characters of the given widths; no character is split."""
    total = sum(widths)
    if total <= single:
        return 1
    segments, used = 1, 0
    for width in widths:
        if used + width > multi:
            segments, used = segments + 1, 0
        used += width
    return segments


def measure(text: str) -> SmsMeasure:
    """Encoding, length and segment count of ``text`` (an empty text is one empty SMS)."""
    if is_gsm7(text):
        widths = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return SmsMeasure("GSM-7", sum(widths), _pack(widths, GSM7_SINGLE, GSM7_MULTI))
    widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SmsMeasure("UCS-2", sum(widths), _pack(widths, UCS2_SINGLE, UCS2_MULTI))


def sms_segments(text: str) -> tuple[Encoding, int]:
    """``("GSM-7" | "UCS-2", segments)`` for ``text``: the figures a carrier bills."""
    result = measure(text)
    return result.encoding, result.segments
