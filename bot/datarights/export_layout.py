"""Long and wide layouts of an export: one row per woman and timepoint, or one per woman.

Every format builds its table from column specs (a name and a cell per record) through
these two functions, so the two layouts hold the same cells. Only records of women
who were invited at least once make rows; in the wide layout a timepoint she has no
record for is a placeholder (every item not reached). Names can be made valid for
SPSS and Stata (letters, digits, underscore, at most 28, unique ignoring case).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.datarights.export_columns import placeholder
from bot.store.research import ResearchRecord
from conversations.survey import TIMEPOINTS

#: Stata and SPSS allow 32; pyreadstat names a Stata value-label set after its variable plus
#: a running count (``fear12``), and that name too must fit in 32: 28 leaves room for 9999.
STAT_NAME_LIMIT = 28
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class Column:
    """One column of the long layout; in the wide one, one per timepoint it has."""

    name: str
    cell: Callable[[ResearchRecord], Any]
    timepoints: frozenset[str] = frozenset(TIMEPOINTS)
    per_timepoint: bool = True
    in_wide: bool = True


@dataclass(frozen=True)
class Field:
    """An output column: its final name, its spec, and its timepoint in the wide layout."""

    name: str
    column: Column
    timepoint: str | None = None


@dataclass(frozen=True)
class Table:
    fields: list[Field]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


def suffix(timepoint: str) -> str:
    return f"_{timepoint.lower()}"


def long_table(
    columns: Sequence[Column], records: Sequence[ResearchRecord], *, stat_names: bool = False
) -> Table:
    fields = _named([Field(c.name, c) for c in columns], stat_names)
    rows = [{f.name: f.column.cell(r) for f in fields} for r in records if r.invited]
    return Table(fields, rows)


def wide_table(
    columns: Sequence[Column], records: Sequence[ResearchRecord], *, stat_names: bool = False
) -> Table:
    once = [Field(c.name, c) for c in columns if c.in_wide and not c.per_timepoint]
    repeated = [
        Field(c.name + suffix(tp), c, tp)
        for tp in TIMEPOINTS
        for c in columns
        if c.in_wide and c.per_timepoint and tp in c.timepoints
    ]
    fields = _named([*once, *repeated], stat_names)
    by_woman: dict[str, dict[str, ResearchRecord]] = {}
    for record in records:
        by_woman.setdefault(record.research_id, {})[record.timepoint] = record
    rows = []
    for research_id, mine in by_woman.items():
        if not any(r.invited for r in mine.values()):
            continue
        first = next(iter(mine.values()))
        row = {}
        for f in fields:
            record = (
                first
                if f.timepoint is None
                else mine.get(f.timepoint) or placeholder(research_id, f.timepoint)
            )
            row[f.name] = f.column.cell(record)
        rows.append(row)
    return Table(fields, rows)


def _named(fields: list[Field], stat_names: bool) -> list[Field]:
    if not stat_names:
        return fields
    taken: set[str] = set()
    out = []
    for f in fields:
        tail = suffix(f.timepoint) if f.timepoint else ""
        name = stat_name(f.column.name, tail, taken)
        taken.add(name.lower())
        out.append(Field(name, f.column, f.timepoint))
    return out


def stat_name(base: str, tail: str, taken: set[str]) -> str:
    """``base + tail`` made valid in SPSS and Stata, the tail kept; unique among ``taken``."""
    clean = _NOT_NAME.sub("_", base)
    if not clean[:1].isalpha():
        clean = "v" + clean
    n = 1
    while True:
        mark = "" if n == 1 else f"_{n}"
        room = STAT_NAME_LIMIT - len(tail) - len(mark)
        cut = clean if len(clean) <= room else clean[:room].rstrip("_") or clean[:room]
        name = cut + mark + tail
        if name.lower() not in taken:
            return name
        n += 1
