"""Paired change from T0: pairs matched by research id, computed by hand, small numbers hidden."""

from __future__ import annotations

from math import sqrt
from statistics import mean, stdev

import pytest

from bot.datarights.outcome_change import MEASURES, changes, paired_change, pairs_of
from bot.datarights.paired_stats import paired_proportion_difference, t_quantile
from bot.datarights.scores import (
    FREQUENCY,
    PHQ,
    PHQ_ITEMS,
    VIOLENCE_TYPES,
    score_anxiety,
    score_depression,
    score_fear,
    score_phq4,
)
from bot.datarights.small_numbers import SUPPRESSED
from bot.store.research import ResearchRecord
from bot.text.surveys import load_survey
from conversations.answers import Answer

FEAR = {m.key: m for m in MEASURES}["fear"]
SAFE_NOW = {m.key: m for m in MEASURES}["safe_now"]


def record(rid: str, tp: str, **answers: object) -> ResearchRecord:
    return ResearchRecord(
        rid, tp, "completed", True, "2026-W48", {k: Answer(v) for k, v in answers.items()}
    )


#: Fear at T0 and T1 for six women; R-5 has no T1, R-6 has no T0 (neither is a pair).
FEAR_T0 = {"R-0": 8, "R-1": 7, "R-2": 9, "R-3": 6, "R-4": 10, "R-5": 5}
FEAR_T1 = {"R-0": 6, "R-1": 7, "R-2": 5, "R-3": 4, "R-4": 9, "R-6": 1}


def fear_records() -> list[ResearchRecord]:
    return [
        *(record(rid, "T0", fear=v) for rid, v in FEAR_T0.items()),
        *(record(rid, "T1", fear=v) for rid, v in FEAR_T1.items()),
    ]


def test_pairs_match_women_by_research_id() -> None:
    assert sorted(pairs_of(fear_records(), score_fear, "T1")) == sorted(
        [(8.0, 6.0), (7.0, 7.0), (9.0, 5.0), (6.0, 4.0), (10.0, 9.0)]
    )


def test_mean_change_and_interval_by_hand() -> None:
    found = paired_change(FEAR, fear_records(), "T1")
    diffs = [-2, 0, -4, -2, -1]
    half = t_quantile(0.975, 4) * stdev(diffs) / sqrt(5)
    assert found.pairs == 5
    assert found.baseline == mean([8, 7, 9, 6, 10]) and found.follow_up == mean([6, 7, 5, 4, 9])
    assert found.change is not None
    assert found.change.estimate == pytest.approx(-1.8)
    assert (found.change.low, found.change.high) == pytest.approx((-1.8 - half, -1.8 + half))
    assert found.change_cell() == f"-1.80 ({-1.8 - half:+.2f} to {-1.8 + half:+.2f})"
    assert found.level_cell(found.baseline) == "8.0" and found.pairs_cell() == "5"


def test_four_pairs_show_no_n_no_mean_no_interval() -> None:
    records = [r for r in fear_records() if r.research_id != "R-4"]
    found = paired_change(FEAR, records, "T1")
    assert found.pairs == 4
    assert (found.baseline, found.follow_up, found.change) == (None, None, None)
    assert found.pairs_cell() == found.change_cell() == found.level_cell(None) == SUPPRESSED


def test_yes_no_change_is_a_paired_difference_in_proportions() -> None:
    # 6 yes at both, 6 no then yes, 1 yes then no, 5 no at both: 18 pairs
    pattern = [("yes", "yes")] * 6 + [("no", "yes")] * 6 + [("yes", "no")] + [("no", "no")] * 5
    records = [
        r
        for i, (before, after) in enumerate(pattern)
        for r in (record(f"R-{i}", "T0", safe_now=before), record(f"R-{i}", "T2", safe_now=after))
    ]
    found = paired_change(SAFE_NOW, records, "T2")
    assert found.pairs == 18
    assert found.baseline == pytest.approx(7 / 18) and found.follow_up == pytest.approx(12 / 18)
    assert found.change == paired_proportion_difference(6, 6, 1, 5)
    assert found.change is not None and found.change.estimate == pytest.approx(5 / 18)
    assert found.level_cell(found.baseline) == "39%"
    assert found.change_cell().startswith("+27.8 pp (")


def test_yes_no_share_needs_five_each_way() -> None:
    # 11 pairs, only 4 answer yes at T0: T0 share and the change are suppressed
    pattern = [("yes", "yes")] * 4 + [("no", "yes")] * 2 + [("no", "no")] * 5
    records = [
        r
        for i, (before, after) in enumerate(pattern)
        for r in (record(f"R-{i}", "T0", safe_now=before), record(f"R-{i}", "T1", safe_now=after))
    ]
    found = paired_change(SAFE_NOW, records, "T1")
    assert found.pairs == 11 and found.baseline is None and found.change is None
    assert found.follow_up == pytest.approx(6 / 11)  # 6 yes, 5 no
    fewer_no = paired_change(SAFE_NOW, records[:-2], "T1")  # one no-at-both pair less
    assert fewer_no.follow_up is None  # 6 yes, 4 no: the no side is too small


def test_phq4_total_and_subscales() -> None:
    answers = {
        "phq4_1": Answer("nearly_every_day"),
        "phq4_2": Answer("several_days"),
        "phq4_3": Answer("more_than_half"),
        "phq4_4": Answer("not_at_all"),
    }
    assert score_phq4(answers) == 3 + 1 + 2 + 0
    assert score_anxiety(answers) == 4 and score_depression(answers) == 2
    assert score_depression({**answers, "phq4_4": Answer(None, skipped=True)}) is None
    assert score_anxiety({**answers, "phq4_4": Answer(None, skipped=True)}) == 4


def test_every_measure_has_every_follow_up() -> None:
    found = changes(fear_records())
    assert [m.measure.key for m in found] == [
        "fear", "feel_safe", "safe_now", "phq4", "phq4_anxiety", "phq4_depression",
        "violence_physical", "violence_sexual", "violence_psychological",
        "violence_controlling", "violence_stalking",
    ]  # fmt: skip
    assert all([c.timepoint for c in m.changes] == ["T1", "T2", "T3", "T4"] for m in found)


def test_the_measures_read_items_the_shipped_survey_has() -> None:
    """A renamed item or code would leave a measure silently empty."""
    items = {i.id: i for i in load_survey().items}
    assert (items["fear"].minimum, items["fear"].maximum) == (0, 10)
    assert (items["feel_safe"].minimum, items["feel_safe"].maximum) == (0, 10)
    assert items["safe_now"].type == "yesno"
    for item in PHQ_ITEMS:
        assert [c.code for c in items[item].effective_choices()] == list(PHQ)
    for item in VIOLENCE_TYPES:
        assert [c.code for c in items[item].effective_choices()] == list(FREQUENCY)
    assert [c.code for c in items["safe_now"].effective_choices()] == ["yes", "no"]
