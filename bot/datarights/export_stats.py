"""SPSS ``.sav`` and Stata ``.dta`` files of the numeric table, through pyreadstat.

Both keep variable labels, value labels and the three reasons for an empty answer:
SPSS as user-missing values -7/-8/-9 (``missing_ranges``), Stata as extended missing
values .a/.b/.c (``missing_user_values``), each labelled. pyreadstat opens the file
itself, so it writes into a 0700 directory beside the target and the finished file,
narrowed to 0600, is moved into place: no moment where it is readable by others.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.datarights.export_coded import Variable, variable_of
from bot.datarights.export_columns import MISSING_LABELS, STATA_MISSING, Missing
from bot.datarights.export_layout import Table
from bot.private_files import PRIVATE

if TYPE_CHECKING:
    import pandas as pd

MISSING_CODES = [int(m) for m in Missing]
#: Format 118, which Stata 14 and every later release reads (pyreadstat's default, 15, writes 119).
STATA_VERSION = 14


@dataclass(frozen=True)
class LabelLimits:
    """What a format holds; pyreadstat refuses a Stata label too long, cuts SPSS ones silently."""

    variable_chars: int
    variable_bytes: int
    value_bytes: int
    file_bytes: int


SPSS_LIMITS = LabelLimits(variable_chars=256, variable_bytes=256, value_bytes=120, file_bytes=64)
STATA_LIMITS = LabelLimits(variable_chars=80, variable_bytes=320, value_bytes=32000, file_bytes=80)


def clipped(text: str, chars: int, max_bytes: int) -> str:
    """``text`` within both limits, a cut one ending in an ellipsis (whole UTF-8 characters)."""
    if len(text) <= chars and len(text.encode()) <= max_bytes:
        return text
    keep = text[: chars - 1]
    while len((keep + "…").encode()) > max_bytes:
        keep = keep[:-1]
    return keep + "…"


def _frame(table: Table, numeric_cell: Callable[[int], Any]) -> pd.DataFrame:
    """pandas on first use, like matplotlib in the report: every CLI call and service start
    imports this module, and pandas costs ~0.3 s and tens of MB there."""
    import pandas as pd

    data: dict[str, pd.Series[Any]] = {}
    for f in table.fields:
        values = [row[f.name] for row in table.rows]
        if variable_of(f.column).numeric:
            cells = [numeric_cell(v) for v in values]
            dtype = "int64" if all(isinstance(c, int) for c in cells) else "object"
            data[f.name] = pd.Series(cells, dtype=dtype)
        else:
            data[f.name] = pd.Series(values, dtype="object")
    return pd.DataFrame(data, columns=table.names)


def _labels(table: Table, limits: LabelLimits) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for f in table.fields:
        label = variable_of(f.column).label(f.timepoint) or f.name
        out[f.name] = clipped(label, limits.variable_chars, limits.variable_bytes)
    return out


def _value_labels(
    variable: Variable, missing: dict[Any, str], limits: LabelLimits
) -> dict[Any, str]:
    values = {
        k: clipped(v, limits.value_bytes, limits.value_bytes)
        for k, v in variable.value_labels.items()
    }
    return {**values, **missing}


def _numeric(table: Table) -> list[tuple[str, Variable]]:
    out = []
    for f in table.fields:
        variable = variable_of(f.column)
        if variable.numeric:
            out.append((f.name, variable))
    return out


def write_sav(path: Path, table: Table, file_label: str) -> None:
    import pyreadstat

    numeric = _numeric(table)
    missing = {int(m): MISSING_LABELS[m] for m in Missing}
    value_labels = {name: _value_labels(var, missing, SPSS_LIMITS) for name, var in numeric}
    _written_privately(
        path,
        lambda tmp: pyreadstat.write_sav(
            _frame(table, lambda v: v),
            tmp,
            file_label=clipped(file_label, SPSS_LIMITS.file_bytes, SPSS_LIMITS.file_bytes),
            column_labels=_labels(table, SPSS_LIMITS),
            variable_value_labels=value_labels,
            missing_ranges={name: list(MISSING_CODES) for name, _ in numeric},
            variable_measure={name: var.measure for name, var in numeric},
        ),
    )


def write_dta(path: Path, table: Table, file_label: str) -> None:
    import pyreadstat

    numeric = _numeric(table)
    letters = {int(m): letter for m, letter in STATA_MISSING.items()}
    missing = {STATA_MISSING[m]: MISSING_LABELS[m] for m in Missing}
    value_labels = {name: _value_labels(var, missing, STATA_LIMITS) for name, var in numeric}
    _written_privately(
        path,
        lambda tmp: pyreadstat.write_dta(
            _frame(table, lambda v: letters.get(v, v)),
            tmp,
            file_label=clipped(file_label, STATA_LIMITS.file_bytes, STATA_LIMITS.file_bytes),
            column_labels=_labels(table, STATA_LIMITS),
            version=STATA_VERSION,
            variable_value_labels=value_labels,
            missing_user_values={name: list(STATA_MISSING.values()) for name, _ in numeric},
        ),
    )


def _written_privately(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as private_dir:
        tmp = Path(private_dir) / path.name
        write(tmp)
        os.chmod(tmp, PRIVATE)
        os.replace(tmp, path)
