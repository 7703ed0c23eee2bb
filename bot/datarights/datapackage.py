"""A Frictionless data package: ``datapackage.json`` describing the export's CSV files.

The numeric table gets a full Table Schema: types, answer codes as ``categories``
with an ``enum`` constraint, ranges, and ``missingValues`` for the three reasons an
answer is empty (-7, -8, -9) and for an empty cell. The descriptor is plain JSON written
here (no runtime dependency); the tests validate it with the ``frictionless`` library.
It carries no creation time: no exact date leaves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.datarights.export_coded import variable_of
from bot.datarights.export_columns import MISSING_LABELS, Missing
from bot.datarights.export_layout import Field, Table
from conversations.survey import Survey

MISSING_VALUES = ["", *(str(int(m)) for m in Missing)]


def _field(f: Field) -> dict[str, Any]:
    variable = variable_of(f.column)
    out: dict[str, Any] = {"name": f.name, "title": variable.label(f.timepoint)}
    if not variable.numeric:
        out["type"] = "string"
        out["constraints"] = dict(variable.constraints)
        return out
    out["type"] = "integer"
    item = variable.item
    if item is not None and item.type in ("scale", "number"):
        bounds = {"minimum": item.minimum, "maximum": item.maximum}
        out["constraints"] = {k: v for k, v in bounds.items() if v is not None}
        if variable.value_labels:
            out["description"] = "; ".join(f"{k} = {v}" for k, v in variable.value_labels.items())
        return out
    out["categories"] = [{"value": k, "label": v} for k, v in variable.value_labels.items()]
    out["constraints"] = {"enum": sorted(variable.value_labels)}
    return out


def responses_schema(table: Table, *, wide: bool) -> dict[str, Any]:
    return {
        "fields": [_field(f) for f in table.fields],
        "missingValues": MISSING_VALUES,
        "primaryKey": ["research_id"] if wide else ["research_id", "timepoint"],
    }


def text_schema(columns: Sequence[str], integers: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "fields": [{"name": c, "type": "integer" if c in integers else "string"} for c in columns],
        "missingValues": [""],
    }


def _resource(name: str, path: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "path": path,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": schema,
    }


def descriptor(
    survey: Survey,
    responses: Table,
    others: Sequence[tuple[str, dict[str, Any]]],
    *,
    wide: bool,
) -> dict[str, Any]:
    """The package: the responses (numeric table) first, then ``others`` (name, schema)."""
    reasons = ", ".join(f"{int(m)} {MISSING_LABELS[m]}" for m in Missing)
    layout = (
        "one row per woman, columns suffixed _t0 ... _t4"
        if wide
        else ("one row per woman and timepoint")
    )
    return {
        "profile": "tabular-data-package",
        "name": re.sub(r"[^a-z0-9._-]", "-", f"{survey.id}-v{survey.version}".lower()),
        "title": f"{survey.title} (survey {survey.id}, version {survey.version})",
        "description": f"Coded answers, {layout}. Missing-value codes: {reasons}.",
        "resources": [
            _resource("responses", "responses.csv", responses_schema(responses, wide=wide)),
            *(_resource(name, f"{name}.csv", schema) for name, schema in others),
        ],
    }
