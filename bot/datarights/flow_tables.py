"""The participant flow and retention as the page shows them: protected cells and their plots.

Invariant: the flow's stages (not yet, never, invited: of the planned) and its outcomes (of
the invited) are protected together by complementary suppression, and every table that
repeats one of their figures (retention, response) takes the cell from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.datarights.flow import OUTCOME_ROWS, Flow
from bot.datarights.report_plots import line_plot, stacked_plot
from bot.datarights.small_numbers import (
    COMPLEMENT,
    SUPPRESSED,
    cell,
    hidden,
    nested_cell,
    protect_two,
    protected_cells,
    rate,
)
from conversations.survey import TIMEPOINTS

OUTCOME_KEYS = tuple(key for key, _, _ in OUTCOME_ROWS)
#: Columns of the stage table; its row total is the planned count.
NOT_YET, NEVER, INVITED, PLANNED = range(4)


@dataclass(frozen=True)
class FlowCells:
    """Per timepoint: stage cells (not yet, never, invited, planned) and outcome cells."""

    stages: list[list[str]]
    outcomes: list[dict[str, str]]

    def invited(self, i: int) -> str:
        return self.stages[i][INVITED]


def flow_cells(flow: Flow) -> FlowCells:
    """Each timepoint's two lines (stages of the planned, outcomes of the invited) protected."""
    stages, outcomes = [], []
    for t in flow.timepoints:
        stage = [t.not_yet_invited, t.never_invited, t.invited]
        ends = [t.outcomes[key] for key in OUTCOME_KEYS]
        stage_hidden, ends_hidden = protect_two(stage, INVITED, ends)
        stages.append(protected_cells(stage, stage_hidden))
        outcomes.append(dict(zip(OUTCOME_KEYS, protected_cells(ends, ends_hidden), strict=False)))
    return FlowCells(stages, outcomes)


def percent(value: float | None, count_cell: str = "") -> str:
    """A rate, or how it is hidden: as its count is (``count_cell``), else "<5"."""
    if value is not None:
        return f"{value:.0%}"
    return COMPLEMENT if count_cell == COMPLEMENT else SUPPRESSED


def flow_table(flow: Flow, cells: FlowCells) -> dict[str, Any]:
    """Rows of the participant flow (label, indent, a cell per timepoint) and its plot."""
    stage = list(zip(*cells.stages, strict=True))
    rows: list[tuple[str, int, list[str]]] = [
        ("Planned (timepoint in her plan)", 0, list(stage[PLANNED])),
        ("Not invited yet (not due, or held)", 1, list(stage[NOT_YET])),
        ("Never invited (she had left, or it was cancelled)", 1, list(stage[NEVER])),
        ("Invited (a contact went out)", 1, list(stage[INVITED])),
        (
            "Reached (she replied)",
            2,
            [nested_cell(t.reached, [t.invited, t.outcomes["completed"]]) for t in flow.timepoints],
        ),
        *((label, 2, [c[key] for c in cells.outcomes]) for key, label, _ in OUTCOME_ROWS),
    ]
    totals = [
        None if hidden(cells.invited(i)) else t.invited for i, t in enumerate(flow.timepoints)
    ]
    segments = [
        (label, [None if hidden(c[key]) else t.outcomes[key]
                 for t, c in zip(flow.timepoints, cells.outcomes, strict=True)])
        for key, label, _ in OUTCOME_ROWS
    ]  # fmt: skip
    plot = stacked_plot("How each timepoint's contact ended", TIMEPOINTS, totals, segments)
    plotted = {"totals": totals, "segments": segments}
    return {"enrolled": cell(flow.enrolled), "rows": rows, "plot": plot, "plotted": plotted}


def retention_table(flow: Flow, cells: FlowCells) -> dict[str, Any]:
    """Completed per timepoint as a share of the enrolled and of the T0 completers."""
    completed = [c["completed"] for c in cells.outcomes]
    of_enrolled = [None if hidden(c) else rate(t.outcomes["completed"], flow.enrolled)
                   for t, c in zip(flow.timepoints, completed, strict=True)]  # fmt: skip
    with_baseline = [
        nested_cell(t.completed_with_baseline, [t.outcomes["completed"], flow.baseline_completed])
        for t in flow.timepoints
    ]
    of_baseline = [None if hidden(w) else rate(t.completed_with_baseline, flow.baseline_completed)
                   for t, w in zip(flow.timepoints, with_baseline, strict=True)]  # fmt: skip
    rows = [
        {"timepoint": t.timepoint, "completed": c, "of_enrolled": percent(e, c),
         "with_baseline": w, "of_baseline": percent(b, w)}
        for t, c, e, w, b in zip(flow.timepoints, completed, of_enrolled, with_baseline,
                                 of_baseline, strict=True)
    ]  # fmt: skip
    plot = line_plot(
        "Retention: completed, share of enrolled", TIMEPOINTS, of_enrolled, 0, 1, "share"
    )
    return {"rows": rows, "plot": plot, "plotted": of_enrolled}
