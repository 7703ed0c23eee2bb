"""Paired change from T0: for each measure and later timepoint, the women who answered both.

Invariant: pure; a change on fewer than ``MIN_CELL`` pairs shows nothing (no n, no mean, no
interval), and a yes/no share or its change needs ``MIN_CELL`` women on each side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import mean

from bot.datarights.flow import BASELINE
from bot.datarights.paired_stats import Interval, mean_difference, paired_proportion_difference
from bot.datarights.scores import (
    VIOLENCE_TYPES,
    Scorer,
    score_anxiety,
    score_depression,
    score_fear,
    score_phq4,
    score_safe,
    score_safe_now,
    violence_of,
)
from bot.datarights.small_numbers import SUPPRESSED, share, shown
from bot.store.research import ResearchRecord
from conversations.survey import TIMEPOINTS

FOLLOW_UPS = TIMEPOINTS[1:]


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    scale: str
    score: Scorer
    #: Yes/no (1/0): the change is a difference in proportions (Newcombe), not of means (t).
    binary: bool = False


VIOLENCE_SCALE = "frequency code, 0 never - 4 once a week or more"
MEASURES: tuple[Measure, ...] = (
    Measure("fear", "Fear of him", "0 not afraid at all - 10 extremely afraid", score_fear),
    Measure("feel_safe", "Feeling safe", "0 not safe at all - 10 completely safe", score_safe),
    Measure("safe_now", "Feels safe right now", "share answering yes", score_safe_now, binary=True),
    Measure("phq4", "PHQ-4 total", "sum 0-12; 6 or more: moderate", score_phq4),
    Measure("phq4_anxiety", "PHQ-4 anxiety (GAD-2)", "sum 0-6; 3 or more: positive", score_anxiety),
    Measure(
        "phq4_depression",
        "PHQ-4 depression (PHQ-2)",
        "sum 0-6; 3 or more: positive",
        score_depression,
    ),
    *(
        Measure(f"violence_{kind}", f"Violence: {kind}", VIOLENCE_SCALE, violence_of(item))
        for item, kind in VIOLENCE_TYPES.items()
    ),
)


@dataclass(frozen=True)
class Change:
    """One measure at one follow-up against T0, over the women who answered both."""

    timepoint: str
    pairs: int
    #: Mean (or share) at T0 and at the follow-up over the pairs; None when suppressed.
    baseline: float | None
    follow_up: float | None
    #: Follow-up minus T0 with its 95 % CI; None when suppressed.
    change: Interval | None
    binary: bool = False

    @property
    def shown(self) -> bool:
        return shown(self.pairs)

    def pairs_cell(self) -> str:
        return str(self.pairs) if self.shown else SUPPRESSED

    def level_cell(self, value: float | None) -> str:
        if value is None:
            return SUPPRESSED
        return f"{value:.0%}" if self.binary else f"{value:.1f}"

    def change_cell(self) -> str:
        if self.change is None:
            return SUPPRESSED
        c = self.change
        if self.binary:
            return f"{100 * c.estimate:+.1f} pp ({100 * c.low:+.1f} to {100 * c.high:+.1f})"
        return f"{c.estimate:+.2f} ({c.low:+.2f} to {c.high:+.2f})"


@dataclass(frozen=True)
class MeasureChange:
    measure: Measure
    changes: list[Change]


def pairs_of(
    records: Sequence[ResearchRecord], score: Scorer, timepoint: str
) -> list[tuple[float, float]]:
    """(T0, follow-up) scores of every woman scored at both."""
    baseline = {
        r.research_id: v
        for r in records
        if r.timepoint == BASELINE and (v := score(r.answers)) is not None
    }
    return [
        (baseline[r.research_id], v)
        for r in records
        if r.timepoint == timepoint
        and r.research_id in baseline
        and (v := score(r.answers)) is not None
    ]


def _mean_change(timepoint: str, pairs: list[tuple[float, float]]) -> Change:
    before, after = [b for b, _ in pairs], [a for _, a in pairs]
    return Change(
        timepoint,
        len(pairs),
        mean(before),
        mean(after),
        mean_difference([a - b for b, a in pairs]),
    )


def _share_change(timepoint: str, pairs: list[tuple[float, float]]) -> Change:
    n = len(pairs)
    both = sum(1 for b, a in pairs if b == 1 and a == 1)
    after_only = sum(1 for b, a in pairs if b == 0 and a == 1)
    before_only = sum(1 for b, a in pairs if b == 1 and a == 0)
    baseline, follow_up = share(both + before_only, n), share(both + after_only, n)
    interval = None
    if baseline is not None and follow_up is not None and shown(after_only + before_only):
        interval = paired_proportion_difference(
            both, after_only, before_only, n - both - after_only - before_only
        )
    return Change(timepoint, n, baseline, follow_up, interval, binary=True)


def paired_change(measure: Measure, records: Sequence[ResearchRecord], timepoint: str) -> Change:
    pairs = pairs_of(records, measure.score, timepoint)
    if not shown(len(pairs)):
        return Change(timepoint, len(pairs), None, None, None, measure.binary)
    return (_share_change if measure.binary else _mean_change)(timepoint, pairs)


def changes(records: Sequence[ResearchRecord]) -> list[MeasureChange]:
    """Every measure's change from T0 at T1..T4 (records read once per timepoint pair)."""
    at: dict[str, list[ResearchRecord]] = {tp: [] for tp in TIMEPOINTS}
    for r in records:
        at.setdefault(r.timepoint, []).append(r)
    return [
        MeasureChange(m, [paired_change(m, [*at[BASELINE], *at[tp]], tp) for tp in FOLLOW_UPS])
        for m in MEASURES
    ]
