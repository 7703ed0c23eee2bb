"""Small-number suppression: nothing in a report rests on fewer than ``MIN_CELL`` women.

Invariant: a suppressed figure is shown as ``SUPPRESSED`` and never plotted; within a set of
counts that add up to a shown total, a lone suppressed cell takes a second one with it, so
it cannot be worked out by subtraction.
"""

from __future__ import annotations

from collections.abc import Mapping

MIN_CELL = 5
SUPPRESSED = f"<{MIN_CELL}"
#: A cell of ``MIN_CELL`` or more hidden so that a small one beside it cannot be worked out.
COMPLEMENT = "*"


def shown(n: int) -> bool:
    return n >= MIN_CELL


def cell(n: int) -> str:
    return str(n) if shown(n) else SUPPRESSED


def rate(part: int, whole: int) -> float | None:
    """``part / whole``, or None (suppressed) when either is under ``MIN_CELL`` women."""
    return part / whole if shown(part) and shown(whole) else None


def share(part: int, whole: int) -> float | None:
    """A yes/no proportion: None unless both the yes and the no side have ``MIN_CELL`` women."""
    return part / whole if shown(part) and shown(whole - part) else None


def hidden(text: str) -> bool:
    """Whether a table cell hides its figure (so its plot point must not be drawn)."""
    return text in (SUPPRESSED, COMPLEMENT)


def partition_cells(counts: Mapping[str, int]) -> dict[str, str]:
    """Cells of counts that add up to a shown total (complementary suppression)."""
    cells = {key: cell(n) for key, n in counts.items()}
    small = [key for key, n in counts.items() if not shown(n)]
    if len(small) == 1:
        rest = [(n, key) for key, n in counts.items() if shown(n)]
        if rest:
            cells[min(rest)[1]] = COMPLEMENT
    return cells
