"""The outcome report's cells: nothing on the page rests on fewer than ``MIN_CELL`` women.

Invariant: a figure under ``MIN_CELL`` is shown as ``SUPPRESSED`` and never plotted; the
flow's lines are protected by complementary suppression (``suppression.py``), and a figure
hidden only to protect another is shown as ``COMPLEMENT``, in every table that repeats it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.datarights.suppression import MIN_CELL, suppress

SUPPRESSED = f"<{MIN_CELL}"
#: A figure of ``MIN_CELL`` or more hidden so that a small one cannot be worked out.
COMPLEMENT = "–"

__all__ = ["COMPLEMENT", "MIN_CELL", "SUPPRESSED", "cell", "hidden", "nested_cell", "protect_line",
           "protect_two", "protected_cells", "rate", "share", "shown"]  # fmt: skip


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


def nested_cell(part: int, others: Sequence[int]) -> str:
    """A count shown beside counts that hold it or that it holds (``others``): hidden when
    small, or (``COMPLEMENT``) when a difference from one of them would be a small group."""
    if not shown(part):
        return SUPPRESSED
    if any(0 < abs(other - part) < MIN_CELL for other in others):
        return COMPLEMENT
    return str(part)


def hidden(text: str) -> bool:
    """Whether a table cell hides its figure (so its plot point must not be drawn)."""
    return text in (SUPPRESSED, COMPLEMENT)


def protect_line(values: Sequence[int], also: Iterable[int] = ()) -> set[int]:
    """Indices of ``values`` to hide, index ``len(values)`` being their total (shown unless
    small or in ``also``): every small one, and enough others that none can be worked out.

    Zeros are hidden ("<5") but left out of the protection: that a cell is empty names no
    one, and counting them as secrets would hide most flows of a small programme whole.
    """
    kept = [j for j, v in enumerate(values) if v > 0]
    total = len(values)
    wanted = set(also)
    also_kept = {(0, kept.index(j)) for j in wanted if j in kept}
    if total in wanted:
        also_kept.add((0, len(kept)))
    found = {j for j, v in enumerate(values) if v == 0}
    if not kept:
        return found | {total}
    for _, k in suppress([[values[j] for j in kept]], also=also_kept):
        found.add(total if k == len(kept) else kept[k])
    return found


def protected_cells(values: Sequence[int], hide: set[int]) -> list[str]:
    """``values`` and their total as cells, the indices in ``hide`` shown as "<5" when small,
    else as ``COMPLEMENT``."""
    return [
        (SUPPRESSED if not shown(v) else COMPLEMENT) if j in hide else str(v)
        for j, v in enumerate([*values, sum(values)])
    ]


def protect_two(
    first: Sequence[int], first_index: int, second: Sequence[int]
) -> tuple[set[int], set[int]]:
    """Protect two lines where ``first[first_index]`` is the total of ``second`` (one figure
    shown twice): hidden in one, hidden in both, until neither moves."""
    also_first: set[int] = set()
    also_second: set[int] = set()
    while True:
        a = protect_line(first, also_first)
        b = protect_line(second, also_second)
        to_second = ({len(second)} if first_index in a else set()) - b
        to_first = ({first_index} if len(second) in b else set()) - a
        if not to_first and not to_second:
            return a, b
        also_first |= to_first
        also_second |= to_second
