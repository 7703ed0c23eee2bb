"""Outcome report: one self-contained HTML page with tables and plots, no one identifiable.

Every count, rate or mean based on fewer than ``MIN_CELL`` women is suppressed: shown
as "<5" in tables and left out of plots (``bot/datarights/small_numbers.py``). Every plot
is a matplotlib PNG embedded as base64, with alt text and a table of the same figures
(screen readers); the page loads nothing from anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import mean
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from bot.datarights.export import summarise
from bot.datarights.flow import participant_flow
from bot.datarights.flow_tables import flow_cells, flow_table, percent, retention_table
from bot.datarights.outcome_change import FOLLOW_UPS, MeasureChange, changes
from bot.datarights.report_plots import bar_plot, interval_plot, line_plot
from bot.datarights.scores import (
    FREQUENCY,
    PHQ,
    PHQ_ITEMS,
    VIOLENCE_ITEMS,
    Scorer,
    score_fear,
    score_phq4,
    score_safe,
    score_violence,
)
from bot.datarights.small_numbers import (
    COMPLEMENT,
    MIN_CELL,
    SUPPRESSED,
    cell,
    hidden,
    rate,
    shown,
)
from bot.store.db import Database
from bot.store.research import ResearchRecord, escalations_per_level
from conversations.survey import TIMEPOINTS

__all__ = [
    "FREQUENCY", "LEVELS", "MIN_CELL", "PHQ", "PHQ_ITEMS", "SUPPRESSED", "VIOLENCE_ITEMS",
    "EscalationCount", "Point", "Score", "cell", "escalation_counts", "rate", "render_report",
    "score_fear", "score_phq4", "score_safe", "score_violence", "scores", "shown",
]  # fmt: skip

LEVELS = ("URGENT", "HIGH", "ROUTINE")


@dataclass(frozen=True)
class Point:
    timepoint: str
    n: int
    mean: float | None

    @property
    def cell(self) -> str:
        if not shown(self.n) or self.mean is None:
            return SUPPRESSED
        return f"{self.mean:.1f} (n={self.n})"


@dataclass(frozen=True)
class Score:
    key: str
    title: str
    scale: str
    points: list[Point]
    low: float
    high: float


SCORES: tuple[tuple[str, str, str, Scorer, float, float], ...] = (
    ("fear", "Fear of him", "0 not afraid at all - 10 extremely afraid", score_fear, 0, 10),
    ("feel_safe", "Feeling safe", "0 not safe at all - 10 completely safe", score_safe, 0, 10),
    ("phq4", "PHQ-4 (anxiety and depression)", "sum 0-12; 6 or more: moderate", score_phq4, 0, 12),
    (
        "violence",
        "Violence frequency",
        "mean over five types, 0 never - 4 once a week or more",
        score_violence,
        0,
        4,
    ),
)


def scores(records: Sequence[ResearchRecord]) -> list[Score]:
    out = []
    for key, title, scale, fn, low, high in SCORES:
        points = []
        for tp in TIMEPOINTS:
            values = [v for r in records if r.timepoint == tp and (v := fn(r.answers)) is not None]
            points.append(Point(tp, len(values), mean(values) if shown(len(values)) else None))
        out.append(Score(key, title, scale, points, low, high))
    return out


@dataclass(frozen=True)
class EscalationCount:
    level: str
    count: int
    women: int

    @property
    def cell(self) -> str:
        return str(self.count) if shown(self.count) and shown(self.women) else SUPPRESSED


def change_view(found: MeasureChange) -> dict[str, Any]:
    measure = found.measure
    factor = 100.0 if measure.binary else 1.0  # a share's change is drawn in percentage points
    intervals = [
        (factor * c.change.estimate, factor * c.change.low, factor * c.change.high)
        if c.change is not None
        else None
        for c in found.changes
    ]
    unit = "percentage points" if measure.binary else "change in score"
    plot = interval_plot(f"{measure.title}: change from T0", FOLLOW_UPS, intervals, unit)
    return {"measure": measure, "changes": found.changes, "plot": plot, "plotted": intervals}


def render_report(
    programme: str,
    records: Sequence[ResearchRecord],
    escalations: Sequence[EscalationCount],
    safe_word_endings: Mapping[str, int],
    generated: datetime,
) -> str:
    """The whole page as one string; ``safe_word_endings``: per timepoint, the paused
    timepoints whose session ended on the safe word (``bot/store/research.py``)."""
    summary = summarise(records)
    flow = participant_flow(records, safe_word_endings)
    cells = flow_cells(flow)  # the flow's protected cells: no table may undo them
    rates: list[float | None] = [
        None if hidden(c["completed"]) else rate(s.completed, s.invited)
        for s, c in zip(summary, cells.outcomes, strict=True)
    ]
    env = Environment(
        loader=PackageLoader("bot.datarights", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    template = env.get_template("report.html.j2")
    return template.render(
        programme=programme,
        generated=generated.strftime("%Y-%m-%d"),
        min_cell=MIN_CELL,
        suppressed=SUPPRESSED,
        complement=COMPLEMENT,
        timepoints=TIMEPOINTS,
        follow_ups=FOLLOW_UPS,
        flow=flow_table(flow, cells),
        retention=retention_table(flow, cells),
        changes=[change_view(c) for c in changes(records)],
        summary=[
            {
                "timepoint": s.timepoint,
                "invited": cells.invited(i),
                "completed": c["completed"],
                "missed": c["missed"],
                "withdrawn": COMPLEMENT if c["withdrawn"] == COMPLEMENT else cell(s.withdrawn),
                "rate": percent(r, c["completed"]),
            }
            for i, (s, r, c) in enumerate(zip(summary, rates, cells.outcomes, strict=True))
        ],
        rate_plot=bar_plot("Response rate (completed / invited)", list(TIMEPOINTS), rates, 1.0),
        scores=[
            (s, line_plot(s.title, TIMEPOINTS, [p.mean for p in s.points], s.low, s.high, "mean"))
            for s in scores(records)
        ],
        escalations=escalations,
        escalation_plot=bar_plot(
            "Escalations by level",
            [e.level for e in escalations],
            [float(e.count) if e.cell != SUPPRESSED else None for e in escalations],
            None,
        ),
    )


async def escalation_counts(db: Database, programme_id: int) -> list[EscalationCount]:
    """Escalations per level; women counted conservatively (erased ones as one group)."""
    found = await escalations_per_level(db, programme_id)
    return [EscalationCount(level, *found.get(level, (0, 0))) for level in LEVELS]
