"""Long and wide layouts (CSV and JSON read back with pandas), and valid variable names."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from bot.datarights.export import NOT_REACHED, SKIPPED, write_export
from bot.datarights.export_layout import stat_name

from .support_export import RECORDS, SURVEY, WOMAN_D


def test_long_csv_has_a_marker_for_each_reason(tmp_path: Path) -> None:
    write_export(tmp_path, "csv", SURVEY, RECORDS)
    frame = pd.read_csv(tmp_path / "responses.csv", dtype=str, keep_default_na=False)
    assert sorted(zip(frame.research_id, frame.timepoint, strict=True)) == [
        ("R-AAAAAAAAAA", "T0"), ("R-AAAAAAAAAA", "T1"), ("R-BBBBBBBBBB", "T0"),
    ]  # fmt: skip
    a1 = frame[(frame.research_id == "R-AAAAAAAAAA") & (frame.timepoint == "T1")].iloc[0]
    assert (a1.viol_physical, a1.help_now, a1.viol_sexual) == ("never", "", NOT_REACHED)
    a0 = frame[(frame.research_id == "R-AAAAAAAAAA") & (frame.timepoint == "T0")].iloc[0]
    assert (a0.fear, a0.impact, a0.feel_safe) == (SKIPPED, "afraid;sleep_problems", "7")
    assert (a0.consent, a0.consent_version, a1.consent_version) == ("yes", "v1", "v2")


def test_a_declined_timepoint_says_so_and_every_answer_is_not_reached(tmp_path: Path) -> None:
    write_export(tmp_path, "csv", SURVEY, [*RECORDS, *WOMAN_D])
    frame = pd.read_csv(tmp_path / "responses.csv", dtype=str, keep_default_na=False)
    d0 = frame[frame.research_id == "R-DDDDDDDDDD"].iloc[0]
    assert (d0.state, d0.consent, d0.consent_version) == ("declined", "not_this_time", "v1")
    assert (d0.safe_now, d0.fear) == (NOT_REACHED, NOT_REACHED)
    b0 = frame[frame.research_id == "R-BBBBBBBBBB"].iloc[0]
    assert b0.consent == ""  # never answered the opener: never asked
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary[summary.timepoint == "T0"].iloc[0].declined == 1


def test_wide_csv_has_one_row_per_woman_with_suffixed_columns(tmp_path: Path) -> None:
    write_export(tmp_path, "csv", SURVEY, RECORDS, wide=True)
    frame = pd.read_csv(tmp_path / "responses.csv", dtype=str, keep_default_na=False)
    assert sorted(frame.research_id) == ["R-AAAAAAAAAA", "R-BBBBBBBBBB"]  # R-C was never asked
    columns = list(frame.columns)
    assert columns[:6] == [
        "research_id", "week_t0", "state_t0", "consent_t0", "consent_version_t0", "safe_now_t0"
    ]  # fmt: skip
    assert "timepoint" not in columns
    assert "hopes_t1" in columns and "hopes_t2" not in columns and "hopes_met_t2" in columns
    a = frame[frame.research_id == "R-AAAAAAAAAA"].iloc[0]
    assert (a.fear_t0, a.viol_physical_t1, a.viol_sexual_t1) == (SKIPPED, "never", NOT_REACHED)
    assert (a.state_t2, a.safe_now_t2, a.state_t4, a.week_t4) == ("scheduled", NOT_REACHED, "", "")


def test_wide_json_keeps_lists_and_nulls(tmp_path: Path) -> None:
    write_export(tmp_path, "json", SURVEY, RECORDS, wide=True)
    data = json.loads((tmp_path / "responses.json").read_text())
    a = next(r for r in data["rows"] if r["research_id"] == "R-AAAAAAAAAA")
    assert a["impact_t0"] == ["afraid", "sleep_problems"] and a["help_now_t0"] is None
    assert a["week_t3"] is None and data["columns"][0] == "research_id"


def test_names_are_made_valid_unique_and_keep_their_suffix() -> None:
    taken: set[str] = set()
    first = stat_name("a-very-long-item-id-that-goes-on", "_t0", taken)
    assert first == "a_very_long_item_id_that_t0" and len(first) <= 28
    taken.add(first.lower())
    second = stat_name("a_very_long_item_id_that_goes_on_and_on", "_t0", taken)
    assert second == "a_very_long_item_id_tha_2_t0"
    assert stat_name("1st", "", set()) == "v1st"
