"""T0–T4 due dates: normal course, drop-out at each stage, early completion, replanning."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.timepoints import (
    TIMEPOINTS,
    DateError,
    Offsets,
    ProgrammeDates,
    plan_timepoints,
    replan,
)

D = date
ENROLLED, START, END = D(2025, 12, 1), D(2026, 1, 12), D(2026, 7, 13)  # 182-day programme
HALF = D(2026, 4, 13)  # START + 91 days


def plan(**changes: date | None) -> dict[str, date | None]:
    fields: dict[str, date | None] = {"start": START, "end": END, **changes}
    enrolled = fields.pop("enrolled", ENROLLED)
    assert enrolled is not None
    return plan_timepoints(ProgrammeDates(enrolled=enrolled, **fields))


def test_timepoint_names() -> None:
    assert TIMEPOINTS == ("T0", "T1", "T2", "T3", "T4")


def test_default_offsets() -> None:
    o = Offsets()
    assert (o.t0_days_after_enrol, o.t1_days_after_start, o.min_days_between) == (0, 0, 14)
    assert (o.t4_days_after_end, o.t4_after_dropout) == (182, False)


def test_normal_course() -> None:
    assert plan() == {
        "T0": ENROLLED,
        "T1": START,
        "T2": HALF,
        "T3": END,
        "T4": D(2027, 1, 11),
    }


def test_halfway_rounds_down() -> None:
    p = plan(end=START + timedelta(days=61))
    assert p["T2"] == START + timedelta(days=30)


def test_only_t0_without_programme_dates() -> None:
    assert plan(start=None, end=None) == {
        "T0": ENROLLED,
        "T1": None,
        "T2": None,
        "T3": None,
        "T4": None,
    }


def test_start_without_end_plans_t1_only() -> None:
    assert plan(end=None) == {"T0": ENROLLED, "T1": START, "T2": None, "T3": None, "T4": None}


def test_offsets_are_applied() -> None:
    offsets = Offsets(t0_days_after_enrol=2, t1_days_after_start=3, t4_days_after_end=365)
    p = plan_timepoints(ProgrammeDates(ENROLLED, START, END), offsets)
    assert p == {
        "T0": D(2025, 12, 3),
        "T1": D(2026, 1, 15),
        "T2": HALF,
        "T3": END,
        "T4": D(2027, 7, 13),
    }


# --- drop-out --------------------------------------------------------------------------


def test_dropout_before_start() -> None:
    p = plan(dropout=D(2026, 1, 5))
    assert p == {"T0": ENROLLED, "T1": None, "T2": None, "T3": D(2026, 1, 5), "T4": None}


def test_dropout_before_start_without_programme_dates() -> None:
    p = plan(start=None, end=None, dropout=D(2026, 1, 5))
    assert p == {"T0": ENROLLED, "T1": None, "T2": None, "T3": D(2026, 1, 5), "T4": None}


def test_dropout_on_start_day_cancels_t1() -> None:
    p = plan(dropout=START)
    assert (p["T1"], p["T2"], p["T3"]) == (None, None, START)


def test_dropout_before_halfway() -> None:
    p = plan(dropout=D(2026, 3, 1))
    assert p == {"T0": ENROLLED, "T1": START, "T2": None, "T3": D(2026, 3, 1), "T4": None}


def test_dropout_on_halfway_day_cancels_t2() -> None:
    p = plan(dropout=HALF)
    assert (p["T2"], p["T3"]) == (None, HALF)


def test_dropout_after_halfway_is_due_at_once_despite_the_gap() -> None:
    dropout = HALF + timedelta(days=3)
    p = plan(dropout=dropout)
    assert p == {"T0": ENROLLED, "T1": START, "T2": HALF, "T3": dropout, "T4": None}


def test_dropout_with_t4_follow_up() -> None:
    offsets = Offsets(t4_after_dropout=True)
    p = plan_timepoints(ProgrammeDates(ENROLLED, START, END, dropout=D(2026, 1, 5)), offsets)
    assert (p["T3"], p["T4"]) == (D(2026, 1, 5), D(2026, 7, 6))


def test_dropout_before_enrolment_is_not_asked_before_baseline() -> None:
    p = plan(enrolled=D(2026, 2, 1), dropout=D(2026, 1, 20))
    assert p == {"T0": D(2026, 2, 1), "T1": None, "T2": None, "T3": D(2026, 2, 1), "T4": None}


# --- completion ---------------------------------------------------------------------


def test_completion_earlier_than_planned() -> None:
    p = plan(completed=D(2026, 6, 1))
    assert p == {
        "T0": ENROLLED,
        "T1": START,
        "T2": HALF,
        "T3": D(2026, 6, 1),
        "T4": D(2026, 11, 30),
    }


def test_completion_before_halfway_cancels_t2() -> None:
    p = plan(completed=D(2026, 4, 1))
    assert p == {
        "T0": ENROLLED,
        "T1": START,
        "T2": None,
        "T3": D(2026, 4, 1),
        "T4": D(2026, 9, 30),
    }


def test_completion_just_after_halfway_keeps_the_gap() -> None:
    p = plan(completed=D(2026, 4, 20))
    assert p["T2"] == HALF
    assert p["T3"] == HALF + timedelta(days=14)  # shifted later, never earlier
    assert p["T4"] == D(2026, 10, 19)  # from the real completion date


def test_completion_later_than_planned() -> None:
    p = plan(completed=D(2026, 8, 1))
    assert (p["T2"], p["T3"], p["T4"]) == (HALF, D(2026, 8, 1), D(2027, 1, 30))


def test_completion_without_planned_end_uses_it_for_halfway() -> None:
    p = plan(end=None, completed=D(2026, 3, 14))
    assert (p["T2"], p["T3"]) == (D(2026, 2, 11), D(2026, 3, 14))  # 61 days: +30


# --- minimum gap ----------------------------------------------------------------------


def test_late_enrolment_shifts_t1() -> None:
    p = plan(enrolled=D(2026, 1, 10))
    assert p["T1"] == D(2026, 1, 24)


def test_short_programme_shifts_later_timepoints() -> None:
    p = plan(end=D(2026, 2, 1))  # 20 days: halfway Jan 22 is too close to T1
    assert p == {
        "T0": ENROLLED,
        "T1": START,
        "T2": D(2026, 1, 26),
        "T3": D(2026, 2, 9),
        "T4": D(2026, 8, 2),
    }


def test_enrolment_after_the_end_cancels_t1_t2() -> None:
    p = plan(enrolled=D(2026, 7, 1))
    assert p == {
        "T0": D(2026, 7, 1),
        "T1": None,
        "T2": None,
        "T3": D(2026, 7, 15),
        "T4": D(2027, 1, 11),
    }


def test_gap_of_zero_allows_same_day() -> None:
    offsets = Offsets(min_days_between=0)
    p = plan_timepoints(ProgrammeDates(START, START, END), offsets)
    assert (p["T0"], p["T1"]) == (START, START)


dates = st.dates(D(2024, 1, 1), D(2030, 12, 31))


@st.composite
def programmes(draw: st.DrawFn) -> tuple[ProgrammeDates, Offsets]:
    enrolled = draw(dates)
    start = draw(st.none() | dates)
    end = completed = dropout = None
    if start is not None:
        end = draw(st.none() | st.builds(lambda n: start + timedelta(days=n), st.integers(0, 400)))
        outcome = draw(st.sampled_from(["open", "dropout", "completed"]))
        moved = st.builds(lambda n: start + timedelta(days=n), st.integers(-60, 400))
        if outcome == "dropout":
            dropout = draw(moved)
        elif outcome == "completed":
            completed = draw(moved.filter(lambda d: d >= start))
    elif draw(st.booleans()):
        dropout = draw(dates)
    offsets = Offsets(
        t0_days_after_enrol=draw(st.integers(0, 10)),
        t1_days_after_start=draw(st.integers(0, 10)),
        min_days_between=draw(st.integers(0, 30)),
        t4_days_after_end=draw(st.integers(1, 400)),
        t4_after_dropout=draw(st.booleans()),
    )
    return ProgrammeDates(enrolled, start, end, dropout, completed), offsets


@settings(max_examples=200, deadline=None)
@given(programmes())
def test_plan_properties(case: tuple[ProgrammeDates, Offsets]) -> None:
    d, offsets = case
    p = plan_timepoints(d, offsets)
    assert list(p) == list(TIMEPOINTS)
    assert p["T0"] == d.enrolled + timedelta(days=offsets.t0_days_after_enrol)
    planned = [(tp, day) for tp, day in p.items() if day is not None]
    gap = timedelta(days=offsets.min_days_between)
    for (_, before), (tp, after) in itertools.pairwise(planned):
        assert after >= before, p
        if not (tp == "T3" and d.dropout is not None):
            assert after - before >= gap, p
    actual_end = d.dropout or d.completed or d.end
    for tp in ("T1", "T2"):
        value = p[tp]
        if value is not None and actual_end is not None:
            assert value < actual_end  # only while the programme runs
    if d.dropout is not None:
        assert p["T3"] == max(d.dropout, p["T0"] or d.dropout)
        assert (p["T4"] is None) == (not offsets.t4_after_dropout)
    if d.start is not None and p["T1"] is not None:
        assert p["T1"] >= d.start + timedelta(days=offsets.t1_days_after_start)
    end = d.completed or d.end
    if d.dropout is None and end is not None:
        assert p["T3"] is not None and p["T3"] >= end
        assert p["T4"] is not None
        assert p["T4"] >= end + timedelta(days=offsets.t4_days_after_end)


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"end": D(2026, 1, 1)}, "programme end 2026-01-01 is before its start 2026-01-12"),
        ({"completed": D(2026, 1, 1)}, "completion 2026-01-01 is before the programme start"),
        ({"dropout": D(2026, 3, 1), "completed": D(2026, 6, 1)}, "both a drop-out"),
        ({"start": None}, "without a start date"),
        ({"start": None, "end": None, "completed": D(2026, 6, 1)}, "without a start date"),
    ],
)
def test_contradicting_dates_are_rejected(fields: dict[str, date | None], message: str) -> None:
    with pytest.raises(DateError, match=message) as info:
        plan(**fields)
    assert isinstance(info.value, ValueError)


def test_offsets_are_validated() -> None:
    with pytest.raises(ValueError):
        Offsets(min_days_between=-1)
    with pytest.raises(ValueError):
        Offsets(t4_days_after_end=0)


# --- replan ---------------------------------------------------------------------------


def test_replan_keeps_done_timepoints() -> None:
    before = plan()
    later_start = plan(start=D(2026, 2, 9), end=D(2026, 8, 10))
    merged = replan(before, later_start, {"T0"})
    assert merged == {
        "T0": ENROLLED,
        "T1": D(2026, 2, 9),
        "T2": D(2026, 5, 11),
        "T3": D(2026, 8, 10),
        "T4": D(2027, 2, 8),
    }


def test_replan_after_dropout_keeps_history() -> None:
    before = plan()
    dropout = plan(dropout=D(2026, 5, 4))
    merged = replan(before, dropout, {"T0", "T1", "T2"})
    assert merged == {"T0": ENROLLED, "T1": START, "T2": HALF, "T3": D(2026, 5, 4), "T4": None}


def test_replan_done_keeps_previous_even_if_new_differs() -> None:
    before = plan()
    moved = plan(start=D(2026, 1, 19))  # start date was entered wrong; T1 already happened
    merged = replan(before, moved, {"T0", "T1"})
    assert merged["T1"] == START
    assert merged["T2"] == moved["T2"]


def test_replan_nothing_done_is_the_new_plan() -> None:
    new = plan(completed=D(2026, 6, 1))
    assert replan(plan(), new, set()) == new


def test_replan_rejects_unknown_timepoints() -> None:
    with pytest.raises(ValueError, match="T5"):
        replan(plan(), plan(), {"T5"})
