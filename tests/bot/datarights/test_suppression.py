"""Complementary suppression: property tests over random tables, and the worked cases."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.datarights.suppression import MIN_CELL, entries, lines, row_echelon, suppress

counts = st.one_of(st.integers(0, 6), st.integers(0, 60))
tables = st.integers(1, 5).flatmap(
    lambda width: st.lists(st.lists(counts, min_size=width, max_size=width), min_size=1, max_size=6)
)


@settings(max_examples=300, deadline=None)
@given(tables, st.booleans())
def test_no_shown_entry_is_under_five(cells: list[list[int]], column_totals: bool) -> None:
    hidden = suppress(cells, column_totals=column_totals)
    table = entries(cells, column_totals=column_totals)
    assert all(value >= MIN_CELL for p, value in table.items() if p not in hidden)


@settings(max_examples=300, deadline=None)
@given(tables, st.booleans())
def test_every_hidden_cell_has_a_second_one_in_each_line_with_a_shown_total(
    cells: list[list[int]], column_totals: bool
) -> None:
    hidden = suppress(cells, column_totals=column_totals)
    for line in lines(cells, column_totals=column_totals):
        mine = [p for p in line if p in hidden]
        assert len(mine) != 1, (line, mine)
        if line[-1] not in hidden and mine:
            table = entries(cells, column_totals=column_totals)
            assert sum(table[p] for p in mine) >= MIN_CELL  # nor pinned near zero


@settings(max_examples=200, deadline=None)
@given(tables, st.booleans())
def test_no_hidden_entry_follows_from_the_shown_ones(
    cells: list[list[int]], column_totals: bool
) -> None:
    """Independent check: two tables that agree on every shown figure differ in each hidden one."""
    hidden = sorted(suppress(cells, column_totals=column_totals))
    index = {p: k for k, p in enumerate(hidden)}
    matrix = []
    for line in lines(cells, column_totals=column_totals):
        row = [Fraction(0)] * len(hidden)
        for p in line[:-1]:
            if p in index:
                row[index[p]] += 1
        if line[-1] in index:
            row[index[line[-1]]] -= 1
        matrix.append(row)
    basis = row_echelon(matrix)
    for p in hidden:
        unit = [Fraction(int(k == index[p])) for k in range(len(hidden))]
        assert len(row_echelon([*basis, unit])) > len(basis), p


def test_a_small_cell_takes_the_next_smallest_of_its_row_with_it() -> None:
    hidden = suppress([[4, 9, 30, 50]])
    assert hidden == {(0, 0), (0, 1)}  # the pooled total (0, 4) stays shown


def test_a_row_of_one_programme_hides_its_total_too() -> None:
    assert suppress([[3]]) == {(0, 0), (0, 1)}


def test_large_tables_hide_nothing() -> None:
    assert suppress([[5, 6], [7, 8]], column_totals=True) == frozenset()


def test_columns_are_protected_as_rows_are() -> None:
    hidden = suppress([[4, 20], [30, 40], [50, 60]], column_totals=True)
    assert (0, 0) in hidden
    assert any(p in hidden for p in ((1, 0), (2, 0)))  # a second hidden cell in its column
    assert any(p in hidden for p in ((0, 1),))  # and in its row


def test_positions_hidden_elsewhere_are_hidden_and_protected_here() -> None:
    hidden = suppress([[40, 30, 20]], also=[(0, 0)])
    assert hidden == {(0, 0), (0, 2)}
