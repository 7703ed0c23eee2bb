"""Research export: coded answers under research ids, a codebook, a data dictionary, a summary.

What never appears: contact details, pseudonyms, chat ids, exact dates (weeks only),
free text (text items are left out of every export; free text may name people and
places), message content. ``FORMATS``: ``responses`` as CSV or JSON (answer codes as
words), SPSS ``.sav``, Stata ``.dta`` or a Frictionless data package (numeric codes,
labels, missing-value codes); long (one row per woman and timepoint) or wide (one row
per woman). Beside it always ``codebook``, ``summary`` and the REDCap ``dictionary``.
Every file is 0600.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.datarights import datapackage
from bot.datarights.codebook import NOT_REACHED, SKIPPED, codebook_rows
from bot.datarights.dictionary import COLUMNS as DICTIONARY_COLUMNS
from bot.datarights.dictionary import dictionary_rows
from bot.datarights.export_coded import Translate, coded_table
from bot.datarights.export_columns import (
    META,
    MISSING_LABELS,
    AnswerReasons,
    MetaColumn,
    Missing,
    exported_items,
)
from bot.datarights.export_layout import Column, Table, long_table, wide_table
from bot.datarights.export_stats import write_dta, write_sav
from bot.private_files import open_private, write_private_text
from bot.store.research import ResearchRecord
from conversations.answers import Answer
from conversations.survey import TIMEPOINTS, Item, Survey
from conversations.vocabulary import TimepointState

FORMATS = ("csv", "json", "sav", "dta", "datapackage")


def _same(text: str) -> str:
    return text


def coded(answer: Answer | Missing, *, for_csv: bool) -> Any:
    """A cell of the CSV/JSON responses: the answer code(s), or a marker for why there is none."""
    if answer is Missing.NOT_ASKED:
        return "" if for_csv else None
    if answer is Missing.SKIPPED:
        return SKIPPED
    if answer is Missing.NOT_REACHED:
        return NOT_REACHED
    assert isinstance(answer, Answer)
    value = answer.value
    if isinstance(value, list):
        return ";".join(value) if for_csv else list(value)
    return value


def responses(records: Sequence[ResearchRecord]) -> list[ResearchRecord]:
    """The records written as response rows: planned but never asked is a summary count only."""
    return [r for r in records if r.invited]


def response_columns(survey: Survey, *, for_csv: bool) -> list[Column]:
    """The CSV/JSON columns: the meta columns, then one per item (codes as words)."""
    columns = [
        Column(m.name, _meta_cell(m, for_csv), per_timepoint=m.per_timepoint, in_wide=m.in_wide)
        for m in META
    ]
    reasons = AnswerReasons(survey)
    for item in exported_items(survey):
        columns.append(Column(item.id, _item_cell(reasons, item, for_csv), item.timepoints))
    return columns


def _meta_cell(meta: MetaColumn, for_csv: bool) -> Callable[[ResearchRecord], str | None]:
    empty = "" if for_csv else None
    return lambda r: meta.value(r) or empty


def _item_cell(
    reasons: AnswerReasons, item: Item, for_csv: bool
) -> Callable[[ResearchRecord], Any]:
    return lambda r: coded(reasons(item, r), for_csv=for_csv)


def response_table(
    survey: Survey, records: Sequence[ResearchRecord], *, for_csv: bool, wide: bool = False
) -> Table:
    shape = wide_table if wide else long_table
    return shape(response_columns(survey, for_csv=for_csv), records)


@dataclass(frozen=True)
class TimepointSummary:
    timepoint: str
    planned: int
    invited: int
    completed: int
    #: "Not this time" at the consent question.
    declined: int
    missed: int
    withdrawn: int


def summarise(records: Sequence[ResearchRecord]) -> list[TimepointSummary]:
    out = []
    for tp in TIMEPOINTS:
        mine = [r for r in records if r.timepoint == tp]
        out.append(
            TimepointSummary(
                tp,
                len(mine),
                sum(r.invited for r in mine),
                sum(r.state == TimepointState.COMPLETED for r in mine),
                sum(r.state == TimepointState.DECLINED for r in mine),
                sum(r.state == TimepointState.MISSED for r in mine),
                sum(r.state == TimepointState.WITHDRAWN for r in mine),
            )
        )
    return out


def write_export(
    out_dir: Path,
    fmt: str,
    survey: Survey,
    records: Sequence[ResearchRecord],
    *,
    wide: bool = False,
    translate: Translate = _same,
) -> list[Path]:
    """Write responses, codebook, summary and the REDCap dictionary; returns the files written.

    ``translate`` gives labels (SPSS, Stata, data package, dictionary) in the programme's
    language; the codebook keeps the survey file's own text.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    side = "json" if fmt == "json" else "csv"
    book = codebook_rows(survey)
    summary = [vars(s) for s in summarise(records)]
    summary_columns = list(TimepointSummary.__dataclass_fields__)
    if fmt in ("csv", "json"):
        words = response_table(survey, records, for_csv=fmt == "csv", wide=wide)
        written = [_write_rows(out_dir / f"responses.{fmt}", words.names, words.rows, survey)]
    else:
        table = coded_table(survey, records, wide=wide, translate=translate)
        written = [_write_numeric(out_dir, fmt, survey, table)]
    written.append(_write_rows(out_dir / f"codebook.{side}", list(book[0]), book, survey))
    written.append(_write_rows(out_dir / f"summary.{side}", summary_columns, summary, survey))
    dictionary = dictionary_rows(survey, translate)
    written.append(_write_csv(out_dir / "dictionary.csv", list(DICTIONARY_COLUMNS), dictionary))
    if fmt == "datapackage":
        package = datapackage.descriptor(
            survey,
            table,
            [
                ("codebook", datapackage.text_schema(list(book[0]))),
                ("summary", datapackage.text_schema(summary_columns, summary_columns[1:])),
                ("dictionary", datapackage.text_schema(DICTIONARY_COLUMNS)),
            ],
            wide=wide,
        )
        path = out_dir / "datapackage.json"
        write_private_text(path, json.dumps(package, indent=2, ensure_ascii=False))
        written.append(path)
    return written


def _write_numeric(out_dir: Path, fmt: str, survey: Survey, table: Table) -> Path:
    title = f"{survey.title} (survey {survey.id}, version {survey.version})"
    if fmt == "sav":
        path = out_dir / "responses.sav"
        write_sav(path, table, title)
    elif fmt == "dta":
        path = out_dir / "responses.dta"
        write_dta(path, table, title)
    else:
        path = _write_csv(out_dir / "responses.csv", table.names, table.rows)
    return path


def _write_rows(
    path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]], survey: Survey
) -> Path:
    if path.suffix == ".csv":
        return _write_csv(path, columns, rows)
    payload: dict[str, Any] = {"columns": list(columns), "rows": list(rows)}
    if path.stem == "codebook":
        payload["survey"] = {"id": survey.id, "version": survey.version}
        payload["markers"] = {"skipped": SKIPPED, "not_reached": NOT_REACHED, "not_asked": None}
        payload["missing_codes"] = {MISSING_LABELS[m]: int(m) for m in Missing}
    write_private_text(path, json.dumps(payload, indent=2, ensure_ascii=False))
    return path


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Path:
    with open_private(path, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path
