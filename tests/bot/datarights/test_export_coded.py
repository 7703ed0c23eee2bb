"""Numeric coding: yes/no 1/0, choices by position, one 0/1 variable per option."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.datarights.export import write_export
from bot.datarights.export_coded import ExportError, coded_table, numeric_code
from bot.store.research import ResearchRecord
from conversations.answers import Answer

from .support_export import RECORDS, SURVEY


def test_codes_follow_the_survey_file() -> None:
    assert numeric_code(SURVEY.item("safe_now"), "yes") == 1
    assert numeric_code(SURVEY.item("safe_now"), "no") == 0
    assert numeric_code(SURVEY.item("viol_physical"), "weekly_or_more") == 4
    assert numeric_code(SURVEY.item("phq4_1"), "not_at_all") == 0
    assert numeric_code(SURVEY.item("fear"), 10) == 10


def test_multiple_choice_becomes_one_variable_per_option() -> None:
    table = coded_table(SURVEY, RECORDS, wide=False, translate=str)
    impact = [n for n in table.names if n.startswith("impact")]
    assert impact == [f"impact___{c.code}" for c in SURVEY.item("impact").choices]
    first = table.rows[0]
    assert [first[n] for n in impact] == [1, 0, 0, 1, 0, 0, 0]  # afraid, sleep_problems


@pytest.mark.parametrize(
    ("item", "value"),
    [("viol_physical", "sometimes"), ("fear", -7), ("impact", ["afraid", "bored"])],
)
def test_an_answer_the_survey_cannot_code_stops_the_export_before_any_file(
    tmp_path: Path, item: str, value: str | int | list[str]
) -> None:
    odd = ResearchRecord("R-DDDDDDDDDD", "T0", "completed", True, None, {item: Answer(value)})
    with pytest.raises(ExportError, match=item):
        write_export(tmp_path, "sav", SURVEY, [*RECORDS, odd])
    assert list(tmp_path.iterdir()) == []
