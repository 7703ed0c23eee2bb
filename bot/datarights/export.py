"""Research export: coded answers under research ids, a codebook, a response summary.

What never appears: contact details, pseudonyms, chat ids, exact dates (weeks only),
free text (text items are left out of every export; free text may name people and
places), message content. Files: ``responses``, ``codebook`` and ``summary`` as CSV
or JSON in the output directory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.private_files import open_private, write_private_text
from bot.store.research import ResearchRecord
from conversations.answers import Answer
from conversations.survey import TIMEPOINTS, Item, Survey
from conversations.vocabulary import TimepointState

#: Marks an item she chose to skip; an empty cell (JSON null) means it was not asked.
SKIPPED = "(skipped)"
META_COLUMNS = ("research_id", "timepoint", "week", "state")
FORMATS = ("csv", "json")


def exported_items(survey: Survey) -> list[Item]:
    """Answerable items, free text left out."""
    return [i for i in survey.items if i.answerable and i.type != "text"]


def response_columns(survey: Survey) -> list[str]:
    return [*META_COLUMNS, *(i.id for i in exported_items(survey))]


def coded(answer: Answer | None, *, for_csv: bool) -> Any:
    if answer is None:
        return "" if for_csv else None
    if answer.skipped:
        return SKIPPED
    value = answer.value
    if isinstance(value, list):
        return ";".join(value) if for_csv else list(value)
    return value


def responses(records: Sequence[ResearchRecord]) -> list[ResearchRecord]:
    """The records written as response rows: planned but never asked is a summary count only."""
    return [r for r in records if r.invited]


def response_rows(
    survey: Survey, records: Sequence[ResearchRecord], *, for_csv: bool
) -> list[dict[str, Any]]:
    items = exported_items(survey)
    rows = []
    for r in responses(records):
        row: dict[str, Any] = {
            "research_id": r.research_id,
            "timepoint": r.timepoint,
            "week": r.week or ("" if for_csv else None),
            "state": r.state,
        }
        for item in items:
            row[item.id] = coded(r.answers.get(item.id), for_csv=for_csv)
        rows.append(row)
    return rows


def _labels(item: Item) -> str:
    if item.type in ("single", "multi", "yesno"):
        return "; ".join(f"{c.code}={c.label}" for c in item.effective_choices())
    anchors = "; ".join(f"{k}={v}" for k, v in sorted(item.labels.items()))
    span = f"{item.minimum}-{item.maximum}"
    return f"{span} ({anchors})" if anchors else span


def codebook_rows(survey: Survey) -> list[dict[str, str]]:
    periods = list(survey.periods) or ["default"]
    meta = {
        "research_id": "Random id per participant; not linkable to her without the key, "
        "and not at all once her answers are kept anonymously.",
        "timepoint": "T0 baseline, T1 programme start, T2 halfway, T3 end, T4 follow-up.",
        "week": "ISO week (YYYY-Www) in which the timepoint ended, else was first sent, else was due.",
        "state": "completed, missed, withdrawn, in_progress, scheduled, ... (timepoint state).",
    }
    rows: list[dict[str, str]] = []
    for column, text in meta.items():
        rows.append(
            {"column": column, "type": "meta", **{f"text_{p}": "" for p in periods},
             "value_labels": "", "timepoints": "", "attribution": "", "notes": text}
        )  # fmt: skip
    for item in exported_items(survey):
        texts = {}
        for period in periods:
            members = sorted(survey.periods.get(period, frozenset(TIMEPOINTS)))
            asked = [t for t in members if t in item.timepoints]
            texts[f"text_{period}"] = (
                item.text.for_timepoint(asked[0], survey.periods) if asked else ""
            )
        notes = f"'{SKIPPED}' = she skipped it; empty = not asked"
        if item.type == "multi":
            notes += "; several codes joined with ';' (JSON: a list)"
        rows.append(
            {
                "column": item.id,
                "type": item.type,
                **texts,
                "value_labels": _labels(item),
                "timepoints": " ".join(t for t in TIMEPOINTS if t in item.timepoints),
                "attribution": survey.attributions.get(item.attribution, "")
                if item.attribution
                else "",
                "notes": notes,
            }
        )
    return rows


@dataclass(frozen=True)
class TimepointSummary:
    timepoint: str
    planned: int
    invited: int
    completed: int
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
                sum(r.state == TimepointState.MISSED for r in mine),
                sum(r.state == TimepointState.WITHDRAWN for r in mine),
            )
        )
    return out


def write_export(
    out_dir: Path, fmt: str, survey: Survey, records: Sequence[ResearchRecord]
) -> list[Path]:
    """Write responses, codebook and summary; returns the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for_csv = fmt == "csv"
    tables: dict[str, tuple[list[str], list[dict[str, Any]]]] = {
        "responses": (response_columns(survey), response_rows(survey, records, for_csv=for_csv)),
    }
    book = codebook_rows(survey)
    tables["codebook"] = (list(book[0]), book)
    summary = [vars(s) for s in summarise(records)]
    tables["summary"] = (list(TimepointSummary.__dataclass_fields__), summary)
    written = []
    for name, (columns, rows) in tables.items():
        path = out_dir / f"{name}.{fmt}"
        if for_csv:
            with open_private(path, newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
        else:
            payload: dict[str, Any] = {"columns": columns, "rows": rows}
            if name == "codebook":
                payload["survey"] = {"id": survey.id, "version": survey.version}
                payload["markers"] = {"skipped": SKIPPED, "not_asked": None}
            write_private_text(path, json.dumps(payload, indent=2, ensure_ascii=False))
        written.append(path)
    return written
