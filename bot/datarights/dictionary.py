"""A REDCap data dictionary of the export: REDCap's standard columns, one row per field.

Codes are those of the numeric table (SPSS, Stata, data package): yes/no 1/0, a single
choice its position from 0, a multiple choice a checkbox whose options are the answer
codes (REDCap exports them as ``item___code``, as we do). Skip logic becomes REDCap
branching logic. Timepoints are REDCap events, not fields, so the rows are per item.
"""

from __future__ import annotations

import re

from bot.datarights.export_coded import Translate, numeric_code
from bot.datarights.export_columns import META, exported_items
from conversations.conditions import AllOf, AnyOf, Compare, Condition, Not
from conversations.survey import TIMEPOINTS, Item, Survey

NAME, FORM, TYPE, LABEL = (
    "Variable / Field Name", "Form Name", "Field Type", "Field Label",
)  # fmt: skip
CHOICES, NOTE = "Choices, Calculations, OR Slider Labels", "Field Note"
VALIDATION, MINIMUM, MAXIMUM = (
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
)  # fmt: skip
BRANCHING, ANNOTATION = "Branching Logic (Show field only if...)", "Field Annotation"
#: REDCap's standard header, in its order.
COLUMNS = (
    NAME, FORM, "Section Header", TYPE, LABEL, CHOICES, NOTE, VALIDATION, MINIMUM, MAXIMUM,
    "Identifier?", BRANCHING, "Required Field?", "Custom Alignment",
    "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?", ANNOTATION,
)  # fmt: skip
FIELD_TYPES = {"yesno": "yesno", "single": "radio", "multi": "checkbox"}


def dictionary_rows(survey: Survey, translate: Translate) -> list[dict[str, str]]:
    """The meta columns as text fields, then one field per exported item, in survey order."""
    form = re.sub(r"[^a-z0-9_]", "_", survey.id.lower())
    rows = [
        _row({NAME: m.name, FORM: form, TYPE: "text", LABEL: m.label, NOTE: m.note}) for m in META
    ]
    for item in exported_items(survey):
        rows.append(_row({NAME: item.id, FORM: form, **_item_cells(survey, item, translate)}))
    return rows


def _row(cells: dict[str, str]) -> dict[str, str]:
    return {column: cells.get(column, "") for column in COLUMNS}


def _item_cells(survey: Survey, item: Item, translate: Translate) -> dict[str, str]:
    first = next(t for t in TIMEPOINTS if t in item.timepoints)
    text = translate(item.text.for_timepoint(first, survey.periods))
    asked = " ".join(t for t in TIMEPOINTS if t in item.timepoints)
    field_type = FIELD_TYPES.get(item.type, "text")
    cells = {
        TYPE: field_type,
        LABEL: " ".join(text.split()),
        BRANCHING: branching_logic(survey, item.when) if item.when else "",
        ANNOTATION: f"asked at {asked}",
    }
    if item.type == "single":
        cells[CHOICES] = " | ".join(
            f"{n}, {translate(c.label)}" for n, c in enumerate(item.choices)
        )
    elif item.type == "multi":
        cells[CHOICES] = " | ".join(f"{c.code}, {translate(c.label)}" for c in item.choices)
    elif field_type == "text":  # scales and numbers: integers within their range
        cells[VALIDATION] = "integer"
        cells[MINIMUM] = "" if item.minimum is None else str(item.minimum)
        cells[MAXIMUM] = "" if item.maximum is None else str(item.maximum)
        cells[NOTE] = ", ".join(f"{k} = {translate(v)}" for k, v in sorted(item.labels.items()))
    return cells


def branching_logic(survey: Survey, cond: Condition, negate: bool = False) -> str:
    """``cond`` in REDCap's logic syntax (a blank field compares unequal, as our skip logic)."""
    if isinstance(cond, Not):
        return branching_logic(survey, cond.part, not negate)
    if isinstance(cond, AllOf | AnyOf):
        joiner = " and " if isinstance(cond, AllOf) != negate else " or "
        return "(" + joiner.join(branching_logic(survey, p, negate) for p in cond.parts) + ")"
    return _compare(survey, cond, negate)


def _compare(survey: Survey, cond: Compare, negate: bool) -> str:
    if cond.item is None:
        raise ValueError("skip logic must name the item it reads")
    item = survey.item(cond.item)
    eq, ne = ("<>", "=") if negate else ("=", "<>")
    if cond.op == "answered":
        return f"[{item.id}] {ne if bool(cond.value) else eq} ''"
    if cond.op == "includes" and item.type == "multi":
        return f"[{item.id}({cond.value})] {eq} '1'"
    if cond.op in ("equals", "includes"):
        return f"[{item.id}] {eq} '{_code(item, cond.value)}'"
    if cond.op == "in":
        joiner = " and " if negate else " or "
        return "(" + joiner.join(f"[{item.id}] {eq} '{_code(item, v)}'" for v in cond.value) + ")"
    op = {"gte": (">=", "<"), "lte": ("<=", ">")}[cond.op][int(negate)]
    return f"[{item.id}] {op} {int(cond.value)}"


def _code(item: Item, value: object) -> str:
    return str(numeric_code(item, value))
