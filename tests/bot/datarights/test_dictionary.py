"""The REDCap data dictionary: REDCap's standard header, items as REDCap fields."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.datarights.dictionary import branching_logic
from bot.datarights.export import FORMATS, write_export
from conversations.conditions import AllOf, Compare, Not

from .support_export import RECORDS, SURVEY

HEADER = (
    "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,"
    '"Choices, Calculations, OR Slider Labels",Field Note,'
    "Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation Max,"
    "Identifier?,Branching Logic (Show field only if...),Required Field?,Custom Alignment,"
    "Question Number (surveys only),Matrix Group Name,Matrix Ranking?,Field Annotation"
)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_header_and_item_rows_are_exact(tmp_path: Path) -> None:
    write_export(tmp_path, "csv", SURVEY, RECORDS)
    text = lines(tmp_path / "dictionary.csv")
    assert text[0] == HEADER
    by_name = {line.split(",")[0]: line for line in text[1:]}
    assert by_name["help_now"] == (
        "help_now,partner,,yesno,Would you like someone from the support service to contact"
        " you today?,,,,,,,[safe_now] = '0',,,,,,asked at T0 T1 T2 T3 T4"
    )
    assert by_name["viol_stalking"].split(",")[:4] == ["viol_stalking", "partner", "", "radio"]
    assert by_name["fear"] == (
        'fear,partner,,text,"These days, how afraid of him are you, from 0 to 10?",,'
        '"0 = Not afraid at all, 10 = Extremely afraid",integer,0,10,,,,,,,,asked at T0 T1 T2 T3 T4'
    )
    with (tmp_path / "dictionary.csv").open(newline="", encoding="utf-8") as handle:
        rows = {r["Variable / Field Name"]: r for r in csv.DictReader(handle)}
    assert list(rows)[:4] == ["research_id", "timepoint", "week", "state"]
    assert rows["viol_physical"]["Choices, Calculations, OR Slider Labels"] == (
        "0, Never | 1, Once | 2, A few times | 3, About once a month | 4, Once a week or more"
    )
    impact = rows["impact"]
    assert impact["Field Type"] == "checkbox"
    assert impact["Choices, Calculations, OR Slider Labels"].startswith("afraid, Fear | injured,")
    assert (
        rows["injured_care"]["Branching Logic (Show field only if...)"] == "[impact(injured)] = '1'"
    )
    assert rows["wants_contact"]["Branching Logic (Show field only if...)"] == "[help_now] <> '1'"
    assert rows["hopes"]["Field Annotation"] == "asked at T0 T1"
    assert "comments" not in rows  # free text is in no export


def test_every_format_writes_the_dictionary(tmp_path: Path) -> None:
    for fmt in FORMATS:
        write_export(tmp_path / fmt, fmt, SURVEY, RECORDS)
        assert lines(tmp_path / fmt / "dictionary.csv")[0] == HEADER


def test_negated_conditions_follow_de_morgan() -> None:
    both = AllOf((Compare("safe_now", "equals", "no"), Compare("fear", "gte", 8)))
    assert branching_logic(SURVEY, both) == "([safe_now] = '0' and [fear] >= 8)"
    assert branching_logic(SURVEY, Not(both)) == "([safe_now] <> '0' or [fear] < 8)"
    assert branching_logic(SURVEY, Compare("fear", "answered", True)) == "[fear] <> ''"
