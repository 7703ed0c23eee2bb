"""A REDCap data dictionary of the export: REDCap's standard columns, one row per field.

Codes are those of the numeric table (SPSS, Stata, data package): yes/no 1/0, a single
choice its position from 0, a multiple choice a checkbox whose options are the answer
codes (REDCap exports them as ``item___code``, as we do). Skip logic becomes REDCap
branching logic. Timepoints are REDCap events, not fields, so the rows are per item.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.datarights.export_coded import numeric_code
from bot.datarights.export_columns import META, exported_items
from conversations.conditions import AllOf, AnyOf, Compare, Condition, Not
from conversations.survey import TIMEPOINTS, Item, Survey

Translate = Callable[[str], str]

COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
FIELD_TYPES = {"yesno": "yesno", "single": "radio", "multi": "checkbox"}


def dictionary_rows(survey: Survey, translate: Translate) -> list[dict[str, str]]:
    form = survey.id
    rows = [_row(meta.name, form, "text", meta.label, note=meta.note) for meta in META]
    for item in exported_items(survey):
        rows.append(_item_row(survey, item, form, translate))
    return rows


def _row(name: str, form: str, field_type: str, label: str, **cells: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        {
            "Variable / Field Name": name,
            "Form Name": form,
            "Field Type": field_type,
            "Field Label": label,
        }
    )
    names = {
        "choices": "Choices, Calculations, OR Slider Labels",
        "note": "Field Note",
        "validation": "Text Validation Type OR Show Slider Number",
        "minimum": "Text Validation Min",
        "maximum": "Text Validation Max",
        "branching": "Branching Logic (Show field only if...)",
        "annotation": "Field Annotation",
    }
    for key, value in cells.items():
        row[names[key]] = value
    return row


def _item_row(survey: Survey, item: Item, form: str, translate: Translate) -> dict[str, str]:
    first = next(t for t in TIMEPOINTS if t in item.timepoints)
    text = translate(item.text.for_timepoint(first, survey.periods))
    label = " ".join(text.split())
    asked = " ".join(t for t in TIMEPOINTS if t in item.timepoints)
    cells = {
        "branching": branching_logic(survey, item.when) if item.when else "",
        "annotation": f"asked at {asked}",
    }
    if item.type == "single":
        cells["choices"] = " | ".join(
            f"{n}, {translate(c.label)}" for n, c in enumerate(item.choices)
        )
    elif item.type == "multi":
        cells["choices"] = " | ".join(f"{c.code}, {translate(c.label)}" for c in item.choices)
    field_type = FIELD_TYPES.get(item.type, "text")
    if field_type == "text":
        cells["validation"] = "integer"
        cells["minimum"] = "" if item.minimum is None else str(item.minimum)
        cells["maximum"] = "" if item.maximum is None else str(item.maximum)
        anchors = [f"{k} = {translate(v)}" for k, v in sorted(item.labels.items())]
        cells["note"] = ", ".join(anchors)
    return _row(item.id, form, field_type, label, **cells)


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
