"""The numeric table of SPSS, Stata and the data package: codes, labels, missing codes.

Answers become numbers: yes/no 1/0, a single choice its position in the survey file
(0, 1, ...: frequency 0 never - 4 weekly, PHQ-4 0-3 as it is scored), scales and
numbers their value, and a multiple choice one 0/1 variable per option
(``item___code``, REDCap's naming). An empty answer is a ``Missing`` code (-7, -8, -9),
never a blank, so every reason survives. Labels are in the programme's language where
the survey's catalog has them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.datarights.export_columns import (
    META,
    AnswerReasons,
    MetaColumn,
    Missing,
    exported_items,
)
from bot.datarights.export_layout import Column, Table, long_table, wide_table
from bot.store.research import ResearchRecord
from conversations.survey import NO, TIMEPOINTS, YES, Item, Survey

Translate = Callable[[str], str]
MISSING_CODES = frozenset(int(m) for m in Missing)


@dataclass(frozen=True)
class Variable(Column):
    """A column with what a statistics package keeps about it."""

    label: Callable[[str | None], str] = lambda _timepoint: ""
    numeric: bool = False
    value_labels: Mapping[int, str] = field(default_factory=dict)
    measure: str = "nominal"
    item: Item | None = None
    constraints: Mapping[str, Any] = field(default_factory=dict)


class ExportError(ValueError):
    """A stored answer the survey file cannot code (the file was changed under its answers)."""


def numeric_code(item: Item, value: object) -> int:
    """The number an answer is stored as (see the module docstring)."""
    return coder(item)(value)


def coder(item: Item) -> Callable[[object], int]:
    """``numeric_code`` for one item, its code table built once (it runs for every cell)."""
    if item.type in ("yesno", "single"):
        codes = item.choice_codes()
        numbers = {YES: 1, NO: 0} if item.type == "yesno" else {c: n for n, c in enumerate(codes)}

        def choice(value: object) -> int:
            if not isinstance(value, str) or value not in numbers:
                raise ExportError(
                    f"item {item.id}: a stored answer '{value}' is none of its codes"
                    f" ({', '.join(codes)}); was an answer code renamed in the survey file?"
                )
            return numbers[value]

        return choice

    def number(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ExportError(f"item {item.id}: a stored answer {value!r} is not a number")
        if value in MISSING_CODES:
            raise ExportError(f"item {item.id}: a stored answer {value} is a missing-value code")
        return value

    return number


def value_labels(item: Item, translate: Translate) -> dict[int, str]:
    if item.type == "yesno":
        return {1: translate("Yes"), 0: translate("No")}
    if item.type == "single":
        return {n: translate(c.label) for n, c in enumerate(item.choices)}
    if item.type == "multi":
        return {1: translate("Yes"), 0: translate("No")}
    return {k: translate(v) for k, v in sorted(item.labels.items())}


def question(survey: Survey, item: Item, timepoint: str | None, translate: Translate) -> str:
    """Her question at ``timepoint`` (else at the first one asked), on one line.

    Only the last line is kept: a shared stem (PHQ-4's "Over the last 2 weeks ...")
    comes first, and a label has little room (Stata: 80 characters).
    """
    asked = timepoint or next(t for t in TIMEPOINTS if t in item.timepoints)
    text = translate(item.text.for_timepoint(asked, survey.periods))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines[-1].split()) if lines else item.id


def coded_variables(survey: Survey, translate: Translate) -> list[Variable]:
    """Meta columns, then each item's variable(s), in survey order."""
    variables = [_meta_variable(m) for m in META]
    reasons = AnswerReasons(survey)
    for item in exported_items(survey):
        variables.extend(_item_variables(survey, item, reasons, translate))
    return variables


def _meta_variable(meta: MetaColumn) -> Variable:
    return Variable(
        meta.name,
        lambda r: meta.value(r) or "",
        per_timepoint=meta.per_timepoint,
        in_wide=meta.in_wide,
        label=lambda tp: f"{meta.label} ({tp})" if tp else meta.label,
        constraints=meta.constraints,
    )


def _item_variables(
    survey: Survey, item: Item, reasons: AnswerReasons, translate: Translate
) -> list[Variable]:
    def label(tp: str | None) -> str:
        return question(survey, item, tp, translate)

    code = coder(item)

    def cell(record: ResearchRecord) -> int:
        got = reasons(item, record)
        return int(got) if isinstance(got, Missing) else code(got.value)

    measure = "scale" if item.type in ("scale", "number") else "nominal"
    if item.type != "multi":
        return [
            Variable(
                item.id,
                cell,
                item.timepoints,
                label=label,
                numeric=True,
                value_labels=value_labels(item, translate),
                measure=measure,
                item=item,
            )
        ]
    out = []
    for choice in item.choices:
        out.append(
            Variable(
                f"{item.id}___{choice.code}",
                _dummy(reasons, item, choice.code),
                item.timepoints,
                label=_choice_label(label, translate(choice.label)),
                numeric=True,
                value_labels=value_labels(item, translate),
                item=item,
            )
        )
    return out


def _dummy(reasons: AnswerReasons, item: Item, code: str) -> Callable[[ResearchRecord], int]:
    known = set(item.choice_codes())

    def cell(record: ResearchRecord) -> int:
        got = reasons(item, record)
        if isinstance(got, Missing):
            return int(got)
        chosen = got.value if isinstance(got.value, list) else [got.value]
        unknown = [c for c in chosen if c not in known]
        if unknown:
            raise ExportError(
                f"item {item.id}: a stored answer '{unknown[0]}' is none of its codes"
                f" ({', '.join(sorted(known))}); was an answer code renamed in the survey file?"
            )
        return int(code in chosen)

    return cell


def _choice_label(label: Callable[[str | None], str], choice: str) -> Callable[[str | None], str]:
    return lambda tp: f"{choice} ({label(tp)})"


def coded_table(
    survey: Survey, records: Sequence[ResearchRecord], *, wide: bool, translate: Translate
) -> Table:
    """The numeric table, names valid in SPSS and Stata."""
    variables = coded_variables(survey, translate)
    shape = wide_table if wide else long_table
    return shape(variables, records, stat_names=True)


def variable_of(column: Column) -> Variable:
    if not isinstance(column, Variable):
        raise TypeError(f"{column.name} is not a coded variable")
    return column
