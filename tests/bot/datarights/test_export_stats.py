"""SPSS and Stata files read back with pyreadstat: labels, value labels, missing codes intact."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from bot.datarights.export import write_export
from bot.datarights.export_stats import clipped
from bot.text.i18n import Translator

from .support_export import RECORDS, SURVEY

VALID_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,27}$")


def row(frame: pd.DataFrame, research_id: str, timepoint: str) -> pd.Series:  # type: ignore[type-arg]
    found = frame[(frame.research_id == research_id) & (frame.timepoint == timepoint)]
    assert len(found) == 1
    return found.iloc[0]


def test_sav_keeps_labels_and_user_missing_codes(tmp_path: Path) -> None:
    write_export(tmp_path, "sav", SURVEY, RECORDS)
    path = tmp_path / "responses.sav"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data, meta = pyreadstat.read_sav(path, user_missing=True)
    assert all(VALID_NAME.match(n) for n in meta.column_names)
    assert len({n.lower() for n in meta.column_names}) == len(meta.column_names)
    assert "hopes___takes_responsibility" in meta.column_names
    assert (
        meta.column_names_to_labels["fear"]
        == "These days, how afraid of him are you, from 0 to 10?"
    )
    assert meta.column_names_to_labels["phq4_1"] == "Feeling nervous, anxious or on edge"
    physical = SURVEY.item("viol_physical").text.variants["baseline"]
    assert meta.column_names_to_labels["viol_physical"] == physical  # SPSS has room: whole
    assert meta.variable_value_labels["safe_now"] == {
        1.0: "Yes", 0.0: "No", -7.0: "skipped", -8.0: "not asked (skip logic)", -9.0: "not reached"
    }  # fmt: skip
    assert meta.variable_value_labels["viol_physical"][4.0] == "Once a week or more"
    assert meta.missing_ranges["fear"] == [{"lo": v, "hi": v} for v in (-7.0, -8.0, -9.0)]
    a0, a1 = row(data, "R-AAAAAAAAAA", "T0"), row(data, "R-AAAAAAAAAA", "T1")
    assert (a0.safe_now, a0.viol_physical, a0.feel_safe) == (1, 2, 7)
    assert (a0.fear, a0.help_now, a1.help_now, a1.viol_sexual) == (-7, -8, -8, -9)
    assert (a0.impact___afraid, a0.impact___injured, a1.impact___afraid) == (1, 0, -9)
    assert a0.hopes_met == -8 and a0.week == "2026-W48" and a0.state == "completed"
    assert sorted(zip(data.research_id, data.timepoint, strict=True)) == [
        ("R-AAAAAAAAAA", "T0"), ("R-AAAAAAAAAA", "T1"), ("R-BBBBBBBBBB", "T0"),
    ]  # fmt: skip
    plain, _ = pyreadstat.read_sav(path)  # without user_missing: the three codes are missing
    assert pd.isna(row(plain, "R-AAAAAAAAAA", "T0").fear)


def test_dta_keeps_labels_and_extended_missing_values(tmp_path: Path) -> None:
    write_export(tmp_path, "dta", SURVEY, RECORDS)
    path = tmp_path / "responses.dta"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"<release>118</release>" in path.read_bytes()[:80]  # Stata 14 and later
    data, meta = pyreadstat.read_dta(path, user_missing=True)
    assert meta.missing_user_values["help_now"] == ["b", "c"]  # the codes that occur
    assert meta.variable_value_labels["safe_now"] == {
        1: "Yes", 0: "No", "a": "skipped", "b": "not asked (skip logic)", "c": "not reached"
    }  # fmt: skip
    assert all(len(label) <= 80 for label in meta.column_names_to_labels.values() if label)
    assert meta.column_names_to_labels["viol_physical"].endswith("…")  # Stata's 80 characters
    a0, a1 = row(data, "R-AAAAAAAAAA", "T0"), row(data, "R-AAAAAAAAAA", "T1")
    assert (a0.fear, a0.help_now, a1.viol_sexual, a0.viol_physical) == ("a", "b", "c", 2)
    plain = pd.read_stata(path, convert_categoricals=False)
    assert pd.isna(row(plain, "R-AAAAAAAAAA", "T0").fear)
    assert row(plain, "R-AAAAAAAAAA", "T0").safe_now == 1


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_labels_are_in_the_programme_language(tmp_path: Path, fmt: str) -> None:
    write_export(tmp_path, fmt, SURVEY, RECORDS, translate=Translator("de").gettext)
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    _, meta = read(tmp_path / f"responses.{fmt}")
    assert meta.variable_value_labels["safe_now"][1] == "Ja"
    assert meta.variable_value_labels["viol_physical"][0] == "Nie"
    english = "These days, how afraid of him are you, from 0 to 10?"
    assert meta.column_names_to_labels["fear"] not in ("", english, None)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_wide_has_one_row_per_woman(tmp_path: Path, fmt: str) -> None:
    write_export(tmp_path, fmt, SURVEY, RECORDS, wide=True)
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    data, meta = read(tmp_path / f"responses.{fmt}", user_missing=True)
    assert sorted(data.research_id) == ["R-AAAAAAAAAA", "R-BBBBBBBBBB"]
    assert "timepoint" not in meta.column_names and "fear_t0" in meta.column_names
    assert (
        "hopes___feel_safe_t1" in meta.column_names
        and "hopes___feel_safe_t2" not in meta.column_names
    )
    assert "hopes___takes_responsibil_t0" in meta.column_names  # 28 characters, suffix kept
    a = data[data.research_id == "R-AAAAAAAAAA"].iloc[0]
    assert a.state_t2 == "scheduled" and a.state_t3 == ""
    assert a.viol_physical_t0 == 2 and a.viol_physical_t1 == 0
    assert meta.column_names_to_labels["viol_physical_t2"].startswith("Since we last asked")
    assert meta.column_names_to_labels["state_t2"] == "Timepoint state (T2)"


def test_empty_programme_still_writes_typed_files(tmp_path: Path) -> None:
    for fmt in ("sav", "dta"):
        write_export(tmp_path / fmt, fmt, SURVEY, [])
    data, meta = pyreadstat.read_sav(tmp_path / "sav" / "responses.sav")
    assert len(data) == 0 and meta.readstat_variable_types["fear"] == "double"
    _, meta = pyreadstat.read_dta(tmp_path / "dta" / "responses.dta")
    assert meta.readstat_variable_types["research_id"] == "string"


def test_labels_are_clipped_by_characters_and_bytes() -> None:
    assert clipped("short", 80, 320) == "short"
    assert clipped("x" * 81, 80, 320) == "x" * 79 + "…"
    cut = clipped("ä" * 100, 120, 120)  # SPSS value labels: 120 bytes, not characters
    assert cut == "ä" * 58 + "…" and len(cut.encode()) <= 120
