"""Complementary cell suppression: no count under 5 women is shown, nor can be worked out.

A table is a grid of counts with its row totals (and, if shown, column totals and the
grand total). Every line (a row or a column with its total) is an equation, so a line
hiding exactly one entry gives it away, and a line whose hidden cells add up to fewer
than 5 tells too much about each. Hiding goes on, next smallest shown entry first, until
every line hides none or at least two entries, and no hidden entry is fixed by the
equations taken together (checked with exact linear algebra). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

MIN_CELL = 5

#: (row, column) of a table's entries; column ``len(row)`` is the row total, row
#: ``len(cells)`` the column totals (when they are shown).
Position = tuple[int, int]


def entries(cells: Sequence[Sequence[int]], *, column_totals: bool = False) -> dict[Position, int]:
    """Every shown-or-hidden figure of the table: its cells and its margins."""
    width = len(cells[0]) if cells else 0
    table: dict[Position, int] = {}
    for i, row in enumerate(cells):
        if len(row) != width:
            raise ValueError("every row needs the same number of cells")
        for j, value in enumerate(row):
            table[(i, j)] = value
        table[(i, width)] = sum(row)
    if column_totals and cells:
        for j in range(width + 1):
            table[(len(cells), j)] = sum(table[(i, j)] for i in range(len(cells)))
    return table


def lines(cells: Sequence[Sequence[int]], *, column_totals: bool = False) -> list[list[Position]]:
    """Each equation of the table as its positions, the total last."""
    height, width = len(cells), len(cells[0]) if cells else 0
    if not cells:
        return []
    rows = height + 1 if column_totals else height
    found = [[(i, j) for j in range(width + 1)] for i in range(rows)]
    if column_totals:
        found += [[(i, j) for i in range(height + 1)] for j in range(width + 1)]
    return found


def suppress(
    cells: Sequence[Sequence[int]],
    *,
    column_totals: bool = False,
    min_cell: int = MIN_CELL,
    also: Iterable[Position] = (),
) -> frozenset[Position]:
    """The positions to hide: every entry under ``min_cell``, those in ``also`` (a figure
    shown beside this one), and enough others to protect them."""
    table = entries(cells, column_totals=column_totals)
    equations = lines(cells, column_totals=column_totals)
    hidden = {p for p, value in table.items() if value < min_cell} | set(also)
    while True:
        exposed = _exposed_line(equations, table, hidden, min_cell)
        if exposed is None:
            fixed = _determined(equations, hidden)
            if fixed is None:
                return frozenset(hidden)
            around = [line for line in equations if fixed in line]
            exposed = next((x for x in around if any(p not in hidden for p in x)), None)
            if exposed is None:  # its own lines are all hidden: widen to the whole table
                exposed = [p for p in table if p not in hidden]
                if not exposed:
                    return frozenset(hidden)
        shown = [p for p in exposed if p not in hidden]
        hidden.add(min(shown, key=lambda p: (p == exposed[-1], table[p], p)))


def _exposed_line(
    equations: Sequence[list[Position]],
    table: dict[Position, int],
    hidden: set[Position],
    min_cell: int,
) -> list[Position] | None:
    """A line hiding exactly one entry, or hiding cells that sum to under ``min_cell``
    under a shown total."""
    for line in equations:
        mine = [p for p in line if p in hidden]
        if len(mine) == 1:
            return line
        small = mine and line[-1] not in hidden and sum(table[p] for p in mine) < min_cell
        if small and any(p not in hidden for p in line):
            return line
    return None


def _determined(equations: Sequence[list[Position]], hidden: set[Position]) -> Position | None:
    """A hidden entry the equations fix on their own (its unit vector lies in their span)."""
    unknowns = sorted(hidden)
    if not unknowns:
        return None
    index = {p: k for k, p in enumerate(unknowns)}
    matrix: list[list[Fraction]] = []
    for line in equations:
        row = [Fraction(0)] * len(unknowns)
        for p in line[:-1]:
            if p in index:
                row[index[p]] += 1
        if line[-1] in index:
            row[index[line[-1]]] -= 1
        if any(row):
            matrix.append(row)
    # In reduced row echelon form a unit vector is in the span iff it is one of the rows.
    for row in row_echelon(matrix):
        found = [k for k, value in enumerate(row) if value]
        if len(found) == 1:
            return unknowns[found[0]]
    return None


def row_echelon(matrix: Sequence[Sequence[Fraction]]) -> list[list[Fraction]]:
    """The non-zero rows of ``matrix`` in reduced row echelon form (Gauss-Jordan, exact)."""
    rows = [list(r) for r in matrix]
    out: list[list[Fraction]] = []
    width = len(rows[0]) if rows else 0
    for col in range(width):
        pivot = next((r for r in rows if r[col] != 0), None)
        if pivot is None:
            continue
        rows.remove(pivot)
        pivot = [v / pivot[col] for v in pivot]
        rows = [[a - r[col] * b for a, b in zip(r, pivot, strict=True)] for r in rows]
        out = [[a - o[col] * b for a, b in zip(o, pivot, strict=True)] for o in out]
        out.append(pivot)
    return out
