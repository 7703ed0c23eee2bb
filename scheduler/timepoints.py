"""When the follow-up timepoints T0–T4 fall due, as calendar dates in the programme's zone.

T0 baseline soon after she enrols, T1 at programme start, T2 halfway, T3 at the end
(or when he drops out), T4 about six months after the end. She is never asked twice
within ``min_days_between`` days, except for T3 on drop-out, which is due at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "TIMEPOINTS",
    "DateError",
    "Offsets",
    "ProgrammeDates",
    "plan_timepoints",
    "replan",
]

TIMEPOINTS = ("T0", "T1", "T2", "T3", "T4")

Plan = dict[str, date | None]


class DateError(ValueError):
    """Programme dates that contradict each other."""


@dataclass(frozen=True)
class Offsets:
    """Study-protocol offsets, in days."""

    t0_days_after_enrol: int = 0
    """T0 (baseline) as soon as possible: on the enrolment day by default."""
    t1_days_after_start: int = 0
    """T1 on the day the programme starts."""
    min_days_between: int = 14
    """Each timepoint at least this long after the previous planned one, so she is not
    asked twice in a fortnight (later ones are shifted later, never earlier)."""
    t4_days_after_end: int = 182
    """T4, the long-term follow-up, about six months after the (actual) end."""
    t4_after_dropout: bool = False
    """Whether T4 still happens after a drop-out (then dropout + ``t4_days_after_end``)."""

    def __post_init__(self) -> None:
        for name in ("t0_days_after_enrol", "t1_days_after_start", "min_days_between"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.t4_days_after_end < 1:
            raise ValueError("t4_days_after_end must be at least 1")


@dataclass(frozen=True)
class ProgrammeDates:
    """His programme's dates: planned ``start``/``end``, and how it actually ended."""

    enrolled: date
    """When she enrolled in the follow-up study."""
    start: date | None
    end: date | None
    """Planned end; replaced by ``completed`` once he has actually completed."""
    dropout: date | None = None
    completed: date | None = None


def _validate(d: ProgrammeDates) -> None:
    if d.dropout is not None and d.completed is not None:
        raise DateError(f"both a drop-out ({d.dropout}) and a completion ({d.completed}) date")
    if d.start is None:
        if d.end is not None or d.completed is not None:
            raise DateError("programme end or completion given without a start date")
        return
    if d.end is not None and d.end < d.start:
        raise DateError(f"programme end {d.end} is before its start {d.start}")
    if d.completed is not None and d.completed < d.start:
        raise DateError(f"completion {d.completed} is before the programme start {d.start}")


def _not_before(day: date, previous: date, gap: int) -> date:
    """Shift ``day`` later (never earlier) to keep ``gap`` days after ``previous``."""
    return max(day, previous + timedelta(days=gap))


def plan_timepoints(dates: ProgrammeDates, offsets: Offsets = Offsets()) -> Plan:
    """Due dates of T0–T4 (None = not planned or cancelled).

    Rules, in order:

    * T0 = enrolled + offset. T1 = start + offset (needs start). T2 = halfway between
      start and the planned end (or the completion date if no end was planned).
    * Each of T1, T2 is shifted to at least ``min_days_between`` after the previous one.
    * T1 and T2 only happen while the programme runs: they are cancelled if not due
      strictly before its actual end (drop-out, else completion, else planned end).
      So a drop-out before start cancels T1 and T2.
    * Drop-out: T3 = drop-out date, due at once (no gap; but never before T0);
      T4 = drop-out + ``t4_days_after_end`` only if ``t4_after_dropout``.
    * Otherwise T3 = completion date or planned end, T4 = that + ``t4_days_after_end``;
      both shifted to keep the gap.
    * Without a start only T0 (and T3 on a drop-out) is planned; without an end or
      completion, T2–T4 are None.

    Raises ``DateError`` when the dates contradict each other (end before start,
    completion before start, both drop-out and completion, end without start).
    """
    _validate(dates)
    gap = offsets.min_days_between
    plan: Plan = dict.fromkeys(TIMEPOINTS)
    t0 = dates.enrolled + timedelta(days=offsets.t0_days_after_enrol)
    plan["T0"] = t0
    planned_end = dates.end if dates.end is not None else dates.completed
    actual_end = dates.dropout or dates.completed or dates.end

    if dates.start is not None:
        t1: date | None = _not_before(
            dates.start + timedelta(days=offsets.t1_days_after_start), t0, gap
        )
        t2: date | None = None
        if planned_end is not None:
            half = timedelta(days=(planned_end - dates.start).days // 2)
            t2 = _not_before(dates.start + half, t1 or t0, gap)
        if actual_end is not None:
            t1 = t1 if t1 is not None and t1 < actual_end else None
            t2 = t2 if t2 is not None and t2 < actual_end else None
        plan["T1"], plan["T2"] = t1, t2

    last = plan["T2"] or plan["T1"] or t0
    t4_after = timedelta(days=offsets.t4_days_after_end)
    if dates.dropout is not None:
        # He left the programme: ask her about it now, a fortnight gap would leave her
        # without follow-up exactly when risk can rise.
        t3 = max(dates.dropout, t0)
        plan["T3"] = t3
        if offsets.t4_after_dropout:
            plan["T4"] = _not_before(dates.dropout + t4_after, t3, gap)
    elif dates.start is not None and actual_end is not None:
        end_t3 = _not_before(actual_end, last, gap)
        plan["T3"] = end_t3
        plan["T4"] = _not_before(actual_end + t4_after, end_t3, gap)
    return plan


def replan(
    previous: Mapping[str, date | None],
    new: Mapping[str, date | None],
    done: set[str] | frozenset[str],
) -> Plan:
    """Merge a recomputed plan: timepoints in ``done`` keep their previous date, the
    others take the new one, so changed programme dates never rewrite history.

    ``new`` should come from ``plan_timepoints`` with the changed dates; the gap is
    only guaranteed among the recomputed timepoints, not against done ones.
    """
    unknown = set(done) - set(TIMEPOINTS)
    if unknown:
        raise ValueError(f"unknown timepoints in done: {sorted(unknown)}")
    return {tp: previous.get(tp) if tp in done else new.get(tp) for tp in TIMEPOINTS}
