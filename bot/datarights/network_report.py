"""The network's pooled report: per programme and pooled response and outcome change.

Only programmes that pool (``settings["pool"]`` is not False) are in it. Every figure
comes from a table protected by complementary suppression (``suppression.py``), so no
programme's small numbers can be read, or worked out from the pooled column and the
others. Nothing individual is used on the page: no pseudonym, research id or date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import mean

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bot.crypto import KeyRing
from bot.datarights.export import summarise
from bot.datarights.report import SCORES
from bot.datarights.suppression import MIN_CELL, Position, suppress
from bot.store.db import Database
from bot.store.participants import Programme, Programmes
from bot.store.research import ResearchRecord, all_records
from bot.store.scope import Scope
from conversations.answers import Answer
from conversations.survey import TIMEPOINTS

#: The last column: every pooled programme together.
POOLED = "Pooled"
#: One mark for every hidden figure: a small one and its protection look alike.
HIDDEN = "–"
FIRST, LAST = TIMEPOINTS[0], TIMEPOINTS[-1]
#: Roles that may read the pooled report (the CLI without ``--as`` is the operator).
REPORT_ROLES = frozenset({"network", "operator"})


def pools(programme: Programme) -> bool:
    """``followup programme set NAME --pool no`` keeps a programme out; pooling is the default."""
    return programme.settings.get("pool", True) is not False


@dataclass(frozen=True)
class ProgrammeFigures:
    """One programme's counts, already without identity: per timepoint and per score."""

    name: str
    invited: tuple[int, ...]
    completed: tuple[int, ...]
    #: score key -> each woman's change from the first timepoint to the last
    changes: dict[str, tuple[float, ...]]


def programme_figures(name: str, records: Sequence[ResearchRecord]) -> ProgrammeFigures:
    summary = summarise(records)
    by_woman: dict[str, dict[str, dict[str, Answer]]] = defaultdict(dict)
    for r in records:
        by_woman[r.research_id][r.timepoint] = r.answers
    changes: dict[str, tuple[float, ...]] = {}
    for key, _title, _scale, score, _low, _high in SCORES:
        found = []
        for answers in by_woman.values():
            start, end = answers.get(FIRST), answers.get(LAST)
            before = score(start) if start is not None else None
            after = score(end) if end is not None else None
            if before is not None and after is not None:
                found.append(after - before)
        changes[key] = tuple(found)
    return ProgrammeFigures(
        name,
        tuple(s.invited for s in summary),
        tuple(s.completed for s in summary),
        changes,
    )


@dataclass(frozen=True)
class Line:
    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    title: str
    note: str
    columns: tuple[str, ...]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class NetworkReport:
    programmes: tuple[str, ...]
    tables: tuple[Table, ...]

    @property
    def figures(self) -> list[str]:
        """Every cell shown, for a reader (or a test) to check."""
        return [c for t in self.tables for line in t.lines for c in line.cells]


def _response_table(figures: Sequence[ProgrammeFigures], columns: tuple[str, ...]) -> Table:
    invited = [[f.invited[t] for f in figures] for t in range(len(TIMEPOINTS))]
    completed = [[f.completed[t] for f in figures] for t in range(len(TIMEPOINTS))]
    hidden: frozenset[Position] = suppress(invited) | suppress(completed)
    hidden = suppress(invited, also=hidden) | suppress(completed, also=hidden)
    lines = []
    for t, tp in enumerate(TIMEPOINTS):
        asked, done = [*invited[t], sum(invited[t])], [*completed[t], sum(completed[t])]
        cells = tuple(
            HIDDEN if (t, j) in hidden else f"{done[j] / asked[j]:.0%} ({done[j]} of {asked[j]})"
            for j in range(len(columns))
        )
        lines.append(Line(tp, cells))
    return Table(
        "Response rate per timepoint",
        "completed of invited",
        columns,
        tuple(lines),
    )


def _change_table(figures: Sequence[ProgrammeFigures], columns: tuple[str, ...]) -> Table:
    counts = [[len(f.changes[key]) for f in figures] for key, *_ in SCORES]
    hidden = suppress(counts)
    lines = []
    for k, (key, title, scale, *_) in enumerate(SCORES):
        values = [f.changes[key] for f in figures]
        values.append(tuple(v for vs in values for v in vs))
        cells = tuple(
            HIDDEN if (k, j) in hidden else f"{mean(vs):+.1f} (n={len(vs)})"
            for j, vs in enumerate(values)
        )
        lines.append(Line(f"{title} ({scale})", cells))
    return Table(
        f"Outcome change {FIRST} to {LAST}",
        f"mean change per woman answering at both {FIRST} and {LAST}",
        columns,
        tuple(lines),
    )


def build_report(figures: Sequence[ProgrammeFigures]) -> NetworkReport:
    """The protected tables: nothing under ``MIN_CELL`` women shown, nor derivable."""
    columns = (*(f.name for f in figures), POOLED)
    if not figures:
        return NetworkReport((), ())
    return NetworkReport(
        tuple(f.name for f in figures),
        (_response_table(figures, columns), _change_table(figures, columns)),
    )


def _render(template: str, report: NetworkReport, generated: datetime) -> str:
    env = Environment(
        loader=PackageLoader("bot.datarights", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    return env.get_template(template).render(
        report=report, generated=generated.strftime("%Y-%m-%d"), min_cell=MIN_CELL, hidden=HIDDEN
    )


def render_network_report(report: NetworkReport, generated: datetime) -> str:
    """The report as one self-contained HTML page (``followup report --network``)."""
    return _render("network_report.html.j2", report, generated)


def render_network_tables(report: NetworkReport, generated: datetime) -> Markup:
    """The report's tables alone (escaped already), for the dashboard's page."""
    return Markup(_render("network_tables.html.j2", report, generated))


async def network_report(db: Database, ring: KeyRing, programmes: Programmes) -> NetworkReport:
    """Every pooling programme of the installation, whichever organisation holds it."""
    everyone = await programmes.all(Scope.installation("network report"))
    figures = [
        programme_figures(p.name, await all_records(db, ring, p.id)) for p in everyone if pools(p)
    ]
    return build_report(figures)
