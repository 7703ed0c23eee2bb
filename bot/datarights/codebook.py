"""The codebook: per exported column its type, wording per recall period, codes and notes.

In the survey file's own language (English), as the item ids and answer codes are:
it is the reference a programme maps to its own codebook. It names both codings,
the words of CSV/JSON and the numbers of SPSS, Stata and the data package.
"""

from __future__ import annotations

from bot.datarights.export_columns import META, MISSING_LABELS, Missing, exported_items
from conversations.survey import TIMEPOINTS, Item, Survey

SKIPPED = "(skipped)"
NOT_REACHED = "(not reached)"
MISSING_NOTE = (
    "SPSS, Stata, data package: "
    + ", ".join(f"{int(m)} {MISSING_LABELS[m]}" for m in Missing)
    + " (Stata: .a .b .c)"
)


def _labels(item: Item) -> str:
    if item.type in ("single", "multi", "yesno"):
        return "; ".join(f"{c.code}={c.label}" for c in item.effective_choices())
    anchors = "; ".join(f"{k}={v}" for k, v in sorted(item.labels.items()))
    span = f"{item.minimum}-{item.maximum}"
    return f"{span} ({anchors})" if anchors else span


def numeric_codes(item: Item) -> str:
    """How SPSS, Stata and the data package code this item."""
    if item.type == "yesno":
        return "1=yes; 0=no"
    if item.type == "single":
        return "; ".join(f"{n}={c.code}" for n, c in enumerate(item.choices))
    if item.type == "multi":
        return f"one variable per option, {item.id}___<code>: 1 chosen, 0 not"
    return "the value"


def codebook_rows(survey: Survey) -> list[dict[str, str]]:
    periods = list(survey.periods) or ["default"]
    blank_texts = {f"text_{p}": "" for p in periods}
    rows: list[dict[str, str]] = []
    for meta in META:
        rows.append(
            {"column": meta.name, "type": "meta", **blank_texts, "value_labels": "",
             "numeric_codes": "", "timepoints": "", "attribution": "", "notes": meta.note}
        )  # fmt: skip
    for item in exported_items(survey):
        texts = {}
        for period in periods:
            members = sorted(survey.periods.get(period, frozenset(TIMEPOINTS)))
            asked = [t for t in members if t in item.timepoints]
            texts[f"text_{period}"] = (
                item.text.for_timepoint(asked[0], survey.periods) if asked else ""
            )
        notes = f"'{SKIPPED}' = she skipped it; '{NOT_REACHED}' = the session ended before it"
        notes += "; empty = not asked (skip logic)"
        if item.type == "multi":
            notes += "; several codes joined with ';' (JSON: a list)"
        rows.append(
            {
                "column": item.id,
                "type": item.type,
                **texts,
                "value_labels": _labels(item),
                "numeric_codes": numeric_codes(item),
                "timepoints": " ".join(t for t in TIMEPOINTS if t in item.timepoints),
                "attribution": survey.attributions.get(item.attribution, "")
                if item.attribution
                else "",
                "notes": f"{notes}. {MISSING_NOTE}",
            }
        )
    return rows
