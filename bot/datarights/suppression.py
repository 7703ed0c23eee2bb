"""Small-number suppression: nothing in a report rests on fewer than ``MIN_CELL`` women.

Invariant: a suppressed figure is shown as ``SUPPRESSED`` and never plotted; within a set of
counts that add up to a shown total, a lone suppressed cell takes a second one with it, so
it cannot be worked out by subtraction.
"""

from __future__ import annotations

from collections.abc import Mapping

MIN_CELL = 5
SUPPRESSED = f"<{MIN_CELL}"


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


def partition_cells(counts: Mapping[str, int]) -> dict[str, str]:
    """Cells of counts that add up to a shown total (complementary suppression)."""
    hidden = {key for key, n in counts.items() if not shown(n)}
    if len(hidden) == 1:
        rest = [(n, key) for key, n in counts.items() if key not in hidden]
        if rest:
            hidden.add(min(rest)[1])
    return {key: SUPPRESSED if key in hidden else str(n) for key, n in counts.items()}
