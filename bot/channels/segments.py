"""How many SMS segments a text costs, counted exactly as GSM 03.38 / 3GPP TS 23.038 say.

GSM-7 when every character is in the default alphabet or its extension table
(extension characters take two septets and are never split across segments);
otherwise UCS-2, counted in UTF-16 code units (a surrogate pair is never split).
"""

from __future__ import annotations

#: GSM 03.38 default alphabet (0x1B, the escape to the extension table, left out).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The default extension table: each costs ESC + itself, two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153  # septets per segment (multi: 7 octets go to the UDH)
UCS2_SINGLE, UCS2_MULTI = 70, 67  # UTF-16 code units per segment


def _pack(units: list[int], single: int, multi: int) -> int:
    """Segments for a sequence of indivisible units (their sizes), greedily packed."""
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return segments


def is_gsm7(text: str) -> bool:
    """Every character fits the GSM 03.38 default alphabet or its extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_segments(text: str) -> tuple[str, int]:
    """("GSM-7" | "UCS-2", segments) for ``text``; an empty text still costs one segment."""
    if is_gsm7(text):
        return "GSM-7", _pack(
            [2 if ch in GSM7_EXTENSION else 1 for ch in text], GSM7_SINGLE, GSM7_MULTI
        )
    units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return "UCS-2", _pack(units, UCS2_SINGLE, UCS2_MULTI)
