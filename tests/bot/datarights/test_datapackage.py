"""The data package validates with frictionless and describes codes and missing values."""

from __future__ import annotations

import json
from pathlib import Path

import frictionless
import pandas as pd
import pytest

from bot.datarights.export import write_export

from .support_export import RECORDS, SURVEY


def package(tmp_path: Path, *, wide: bool = False) -> dict[str, object]:
    write_export(tmp_path, "datapackage", SURVEY, RECORDS, wide=wide)
    data = json.loads((tmp_path / "datapackage.json").read_text())
    assert isinstance(data, dict)
    return data


def fields(descriptor: dict[str, object]) -> dict[str, dict[str, object]]:
    resources = descriptor["resources"]
    assert isinstance(resources, list) and resources[0]["name"] == "responses"
    return {f["name"]: f for f in resources[0]["schema"]["fields"]}


@pytest.mark.parametrize("wide", [False, True])
def test_package_is_valid(tmp_path: Path, wide: bool) -> None:
    package(tmp_path, wide=wide)
    report = frictionless.validate(tmp_path / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    names = [
        r["name"] for r in json.loads((tmp_path / "datapackage.json").read_text())["resources"]
    ]
    assert names == ["responses", "codebook", "summary", "dictionary"]


def test_schema_carries_codes_labels_and_missing_values(tmp_path: Path) -> None:
    descriptor = package(tmp_path)
    schema = descriptor["resources"][0]["schema"]  # type: ignore[index]
    assert schema["missingValues"] == ["", "-7", "-8", "-9"]
    assert schema["primaryKey"] == ["research_id", "timepoint"]
    by_name = fields(descriptor)
    assert by_name["safe_now"]["type"] == "integer"
    assert by_name["safe_now"]["categories"] == [
        {"value": 1, "label": "Yes"}, {"value": 0, "label": "No"},
    ]  # fmt: skip
    assert by_name["safe_now"]["constraints"] == {"enum": [0, 1]}
    assert by_name["fear"]["constraints"] == {"minimum": 0, "maximum": 10}
    assert by_name["timepoint"]["constraints"] == {"enum": ["T0", "T1", "T2", "T3", "T4"]}
    assert "created" not in descriptor  # no exact date leaves
    assert "-9 not reached" in str(descriptor["description"])
    frame = pd.read_csv(tmp_path / "responses.csv")
    a0 = frame[(frame.research_id == "R-AAAAAAAAAA") & (frame.timepoint == "T0")].iloc[0]
    assert (a0.safe_now, a0.fear, a0.help_now) == (1, -7, -8)


def test_a_code_outside_the_schema_fails_validation(tmp_path: Path) -> None:
    package(tmp_path)
    frame = pd.read_csv(tmp_path / "responses.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "safe_now"] = "5"
    frame.to_csv(tmp_path / "responses.csv", index=False)
    report = frictionless.validate(tmp_path / "datapackage.json")
    assert not report.valid
    assert report.flatten(["fieldName", "type"]) == [["safe_now", "constraint-error"]]


def test_wide_package_has_one_row_per_woman(tmp_path: Path) -> None:
    descriptor = package(tmp_path, wide=True)
    assert descriptor["resources"][0]["schema"]["primaryKey"] == ["research_id"]  # type: ignore[index]
    assert fields(descriptor)["viol_physical_t2"]["title"].startswith("Since we last asked")  # type: ignore[union-attr]
    frame = pd.read_csv(tmp_path / "responses.csv", keep_default_na=False)
    assert sorted(frame.research_id) == ["R-AAAAAAAAAA", "R-BBBBBBBBBB"]
    b = frame[frame.research_id == "R-BBBBBBBBBB"].iloc[0]
    assert (b.state_t0, b.safe_now_t0, b.state_t1, b.safe_now_t1) == ("missed", -9, "", -9)
