"""Outcome report: one self-contained HTML page with tables and plots, no one identifiable.

Every count, rate or mean based on fewer than ``MIN_CELL`` women is suppressed: shown
as "<5" in tables and left out of plots. Plots are matplotlib PNGs (Agg backend)
embedded as base64; the page loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import mean
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from bot.datarights.export import summarise
from bot.store.db import Database
from bot.store.research import ResearchRecord, escalations_per_level
from conversations.answers import Answer
from conversations.survey import TIMEPOINTS

MIN_CELL = 5
SUPPRESSED = f"<{MIN_CELL}"
LEVELS = ("URGENT", "HIGH", "ROUTINE")
FREQUENCY = {"never": 0, "once": 1, "few_times": 2, "monthly": 3, "weekly_or_more": 4}
PHQ = {"not_at_all": 0, "several_days": 1, "more_than_half": 2, "nearly_every_day": 3}
VIOLENCE_ITEMS = (
    "viol_physical",
    "viol_sexual",
    "viol_psychological",
    "viol_controlling",
    "viol_stalking",
)
PHQ_ITEMS = ("phq4_1", "phq4_2", "phq4_3", "phq4_4")


def shown(n: int) -> bool:
    return n >= MIN_CELL


def cell(n: int) -> str:
    return str(n) if shown(n) else SUPPRESSED


def rate(part: int, whole: int) -> float | None:
    """``part / whole``, or None (suppressed) when either is under ``MIN_CELL`` women."""
    return part / whole if shown(part) and shown(whole) else None


def _value(answers: dict[str, Answer], item: str) -> Any:
    a = answers.get(item)
    return None if a is None or a.skipped else a.value


def score_fear(answers: dict[str, Answer]) -> float | None:
    v = _value(answers, "fear")
    return float(v) if isinstance(v, int) else None


def score_safe(answers: dict[str, Answer]) -> float | None:
    v = _value(answers, "feel_safe")
    return float(v) if isinstance(v, int) else None


def score_phq4(answers: dict[str, Answer]) -> float | None:
    """PHQ-4 sum 0-12, only when all four items were answered."""
    values = [PHQ.get(str(_value(answers, i))) for i in PHQ_ITEMS]
    return float(sum(v for v in values if v is not None)) if None not in values else None


def score_violence(answers: dict[str, Answer]) -> float | None:
    """Mean frequency (0 never .. 4 weekly or more) over the five types; needs 3 answered."""
    values = [FREQUENCY[v] for i in VIOLENCE_ITEMS if (v := _value(answers, i)) in FREQUENCY]
    return mean(values) if len(values) >= 3 else None


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


SCORES: tuple[
    tuple[str, str, str, Callable[[dict[str, Answer]], float | None], float, float], ...
] = (
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


def _pyplot() -> Any:
    """matplotlib on first use: importing it costs every CLI call and service start ~0.5 s."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    _pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _score_plot(score: Score) -> str | None:
    if all(p.mean is None for p in score.points):
        return None
    fig, ax = _pyplot().subplots(figsize=(5.5, 3))
    xs = list(range(len(TIMEPOINTS)))
    ys = [p.mean if p.mean is not None else float("nan") for p in score.points]
    ax.plot(xs, ys, marker="o", color="#5b3f8c")
    for x, p in zip(xs, score.points, strict=True):
        if p.mean is None:
            ax.text(x, score.low, SUPPRESSED, ha="center", va="bottom", fontsize=8, color="#777")
    ax.set_xticks(xs, list(TIMEPOINTS))
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_ylim(score.low, score.high)
    ax.set_title(score.title)
    ax.set_ylabel("mean")
    ax.grid(alpha=0.3)
    return _png(fig)


def _bar_plot(
    title: str, labels: list[str], values: list[float | None], ylim: float | None
) -> str | None:
    if all(v is None for v in values):
        return None
    fig, ax = _pyplot().subplots(figsize=(5.5, 3))
    ax.bar(labels, [v if v is not None else 0 for v in values], color="#2f7f7a")
    for i, v in enumerate(values):
        if v is None:
            ax.text(i, 0, SUPPRESSED, ha="center", va="bottom", fontsize=8)
    if ylim is not None:
        ax.set_ylim(0, ylim)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


@dataclass(frozen=True)
class EscalationCount:
    level: str
    count: int
    women: int

    @property
    def cell(self) -> str:
        return str(self.count) if shown(self.count) and shown(self.women) else SUPPRESSED


def render_report(
    programme: str,
    records: Sequence[ResearchRecord],
    escalations: Sequence[EscalationCount],
    generated: datetime,
) -> str:
    """The whole page as one string."""
    summary = summarise(records)
    rates: list[float | None] = [rate(s.completed, s.invited) for s in summary]
    score_list = scores(records)
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
        summary=[
            {
                "timepoint": s.timepoint,
                "invited": cell(s.invited),
                "completed": cell(s.completed),
                "missed": cell(s.missed),
                "withdrawn": cell(s.withdrawn),
                "rate": f"{r:.0%}" if r is not None else SUPPRESSED,
            }
            for s, r in zip(summary, rates, strict=True)
        ],
        rate_plot=_bar_plot("Response rate (completed / invited)", list(TIMEPOINTS), rates, 1.0),
        scores=[(s, _score_plot(s)) for s in score_list],
        escalations=escalations,
        escalation_plot=_bar_plot(
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
