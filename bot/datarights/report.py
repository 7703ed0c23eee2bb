"""Outcome report: one self-contained HTML page with tables and plots, no one identifiable.

Every count, rate or mean based on fewer than ``MIN_CELL`` women is suppressed: shown
as "<5" in tables and left out of plots (``bot/datarights/suppression.py``). Every plot
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
from bot.datarights.flow import OUTCOME_ROWS, Flow, participant_flow
from bot.datarights.outcome_change import FOLLOW_UPS, MeasureChange, changes
from bot.datarights.report_plots import bar_plot, interval_plot, line_plot, stacked_plot
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
from bot.datarights.suppression import (
    COMPLEMENT,
    MIN_CELL,
    SUPPRESSED,
    cell,
    hidden,
    partition_cells,
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


def _percent(value: float | None, count_cell: str = "") -> str:
    """A rate, or how it is hidden: as its count is (``count_cell``), else "<5"."""
    if value is not None:
        return f"{value:.0%}"
    return COMPLEMENT if count_cell == COMPLEMENT else SUPPRESSED


def outcome_cells(flow: Flow) -> list[dict[str, str]]:
    """Per timepoint, the cells of its outcomes; every table repeating one of them uses these."""
    return [partition_cells(t.outcomes) for t in flow.timepoints]


def flow_table(flow: Flow) -> dict[str, Any]:
    """Rows of the participant flow (label, indent, a cell per timepoint) and its plot."""
    cells_at = outcome_cells(flow)
    rows: list[tuple[str, int, list[str]]] = [
        ("Planned (timepoint in her plan)", 0, [cell(t.planned) for t in flow.timepoints]),
        ("Not invited yet (not due, or held)", 1, [cell(t.not_yet_invited) for t in flow.timepoints]),
        ("Never invited (she had left before)", 1, [cell(t.never_invited) for t in flow.timepoints]),
        ("Invited (a contact went out)", 1, [cell(t.invited) for t in flow.timepoints]),
        ("Reached (she replied)", 2, [cell(t.reached) for t in flow.timepoints]),
        *((label, 2, [cells[key] for cells in cells_at]) for key, label, _ in OUTCOME_ROWS),
    ]  # fmt: skip
    totals = [t.invited if shown(t.invited) else None for t in flow.timepoints]
    segments = [
        (label, [t.outcomes[key] if not hidden(cells[key]) else None
                 for t, cells in zip(flow.timepoints, cells_at, strict=True)])
        for key, label, _ in OUTCOME_ROWS
    ]  # fmt: skip
    plot = stacked_plot("How each timepoint's contact ended", TIMEPOINTS, totals, segments)
    plotted = {"totals": totals, "segments": segments}
    return {"enrolled": cell(flow.enrolled), "rows": rows, "plot": plot, "plotted": plotted}


def retention_table(flow: Flow) -> dict[str, Any]:
    """Completed per timepoint as a share of the enrolled and of the T0 completers."""
    completed = [cells["completed"] for cells in outcome_cells(flow)]
    of_enrolled = [rate(t.outcomes["completed"], flow.enrolled) if not hidden(c) else None
                   for t, c in zip(flow.timepoints, completed, strict=True)]  # fmt: skip
    of_baseline = [rate(t.completed_with_baseline, flow.baseline_completed)
                   for t in flow.timepoints]  # fmt: skip
    rows = [
        {"timepoint": t.timepoint, "completed": c,
         "of_enrolled": _percent(e, c), "with_baseline": cell(t.completed_with_baseline),
         "of_baseline": _percent(b)}
        for t, c, e, b in zip(flow.timepoints, completed, of_enrolled, of_baseline, strict=True)
    ]  # fmt: skip
    plot = line_plot(
        "Retention: completed, share of enrolled", TIMEPOINTS, of_enrolled, 0, 1, "share"
    )
    return {"rows": rows, "plot": plot, "plotted": of_enrolled}


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
    cells_at = outcome_cells(flow)  # the flow's cells, so no table undoes its suppression
    rates: list[float | None] = [
        rate(s.completed, s.invited) if not hidden(cells["completed"]) else None
        for s, cells in zip(summary, cells_at, strict=True)
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
        flow=flow_table(flow),
        retention=retention_table(flow),
        changes=[change_view(c) for c in changes(records)],
        summary=[
            {
                "timepoint": s.timepoint,
                "invited": cell(s.invited),
                "completed": cells["completed"],
                "missed": cells["missed"],
                "withdrawn": cell(s.withdrawn),
                "rate": _percent(r, cells["completed"]),
            }
            for s, r, cells in zip(summary, rates, cells_at, strict=True)
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
