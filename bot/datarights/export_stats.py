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
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from bot.datarights.export_coded import Variable, variable_of
from bot.datarights.export_columns import MISSING_LABELS, STATA_MISSING, Missing
from bot.datarights.export_layout import Table
from bot.private_files import PRIVATE

#: Stata's limit for a variable label (and ours for value labels in both formats).
STATA_LABEL_LIMIT = 80
MISSING_CODES = [int(m) for m in Missing]
#: Format 118, which Stata 14 and every later release reads (pyreadstat's default, 15, writes 119).
STATA_VERSION = 14


def clipped(text: str, limit: int = STATA_LABEL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frame(table: Table, numeric_cell: Callable[[int], Any]) -> pd.DataFrame:
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


def _labels(table: Table) -> dict[str, str | None]:
    return {
        f.name: clipped(variable_of(f.column).label(f.timepoint) or f.name) for f in table.fields
    }


def _numeric(table: Table) -> list[tuple[str, Variable]]:
    out = []
    for f in table.fields:
        variable = variable_of(f.column)
        if variable.numeric:
            out.append((f.name, variable))
    return out


def write_sav(path: Path, table: Table, file_label: str) -> None:
    numeric = _numeric(table)
    value_labels: dict[str, dict[int | float, str]] = {
        name: {
            **{k: clipped(v) for k, v in var.value_labels.items()},
            **{int(m): MISSING_LABELS[m] for m in Missing},
        }
        for name, var in numeric
    }
    _written_privately(
        path,
        lambda tmp: pyreadstat.write_sav(
            _frame(table, lambda v: v),
            tmp,
            file_label=clipped(file_label, 64),
            column_labels=_labels(table),
            variable_value_labels=value_labels,
            missing_ranges={name: list(MISSING_CODES) for name, _ in numeric},
            variable_measure={name: var.measure for name, var in numeric},
        ),
    )


def write_dta(path: Path, table: Table, file_label: str) -> None:
    numeric = _numeric(table)
    letters = {int(m): letter for m, letter in STATA_MISSING.items()}
    value_labels: dict[str, dict[Any, str]] = {
        name: {
            **{k: clipped(v) for k, v in var.value_labels.items()},
            **{STATA_MISSING[m]: MISSING_LABELS[m] for m in Missing},
        }
        for name, var in numeric
    }
    _written_privately(
        path,
        lambda tmp: pyreadstat.write_dta(
            _frame(table, lambda v: letters.get(v, v)),
            tmp,
            file_label=clipped(file_label),
            column_labels=_labels(table),
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
