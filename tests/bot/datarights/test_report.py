"""Outcome report: self-contained HTML, plots embedded, every cell under 5 women suppressed.

Rendered once for the module (matplotlib is the slow part).
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from bot.datarights.flow import Flow, participant_flow
from bot.datarights.flow_tables import flow_cells, flow_table, retention_table
from bot.datarights.outcome_change import changes
from bot.datarights.report import (
    SUPPRESSED,
    EscalationCount,
    Point,
    change_view,
    render_report,
    score_phq4,
    score_violence,
    scores,
)
from bot.store.research import ResearchRecord
from conversations.answers import Answer

#: Women answering per timepoint (of 12; the rest missed it): T2 has 4 (suppressed), T1
#: exactly 5 (shown).
WOMEN = {"T0": 7, "T1": 5, "T2": 4, "T3": 6, "T4": 3}


def answers(i: int, tp: str) -> dict[str, Answer]:
    step = ["T0", "T1", "T2", "T3", "T4"].index(tp)
    return {
        "fear": Answer(max(8 - step - i % 2, 0)),
        "feel_safe": Answer(min(3 + step, 10)),
        "phq4_1": Answer("more_than_half"),
        "phq4_2": Answer("several_days"),
        "phq4_3": Answer("not_at_all"),
        "phq4_4": Answer("nearly_every_day"),
        "viol_physical": Answer("once" if step < 2 else "never"),
        "viol_sexual": Answer("never"),
        "viol_psychological": Answer("monthly"),
        "viol_controlling": Answer(None, skipped=True),
        "viol_stalking": Answer("few_times"),
    }


def records() -> list[ResearchRecord]:
    out = []
    for tp, n in WOMEN.items():
        for i in range(12):
            if i < n:
                out.append(
                    ResearchRecord(f"R-{i}", tp, "completed", True, "2026-W48", answers(i, tp))
                )
            else:
                out.append(ResearchRecord(f"R-{i}", tp, "missed", True, "2026-W48", {}))
    return out


ESCALATIONS = [
    EscalationCount("URGENT", 4, 4),
    EscalationCount("HIGH", 9, 5),
    EscalationCount("ROUTINE", 7, 4),
]


@pytest.fixture(scope="module")
def html() -> str:
    return render_report(
        "berlin-2027", records(), ESCALATIONS, {}, datetime(2026, 11, 24, tzinfo=UTC)
    )


class Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.external: list[str] = []
        self.tags: list[str] = []
        self.alts: list[tuple[str | None, str | None]] = []  # (alt, aria-describedby)
        self.table_ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "img":
            self.alts.append((found.get("alt"), found.get("aria-describedby")))
        if tag == "table" and found.get("id"):
            self.table_ids.append(str(found["id"]))
        for name, value in attrs:
            if name in ("src", "href") and value:
                if value.startswith("data:image/png;base64,"):
                    self.images.append(value.split(",", 1)[1])
                else:
                    self.external.append(value)


def test_page_is_self_contained_with_embedded_plots(html: str) -> None:
    page = Structure()
    page.feed(html)
    assert page.external == []  # no script, stylesheet or image from anywhere
    assert "script" not in page.tags and "link" not in page.tags
    # flow, retention, 9 changes (no safe_now answers, viol_controlling skipped), response
    # rate, four outcomes, escalations
    assert len(page.images) == 17
    for image in page.images:
        assert base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n")
    for heading in ("Response per timepoint", "Fear of him", "Feeling safe", "PHQ-4",
                    "Violence frequency", "Escalations by level"):  # fmt: skip
        assert heading in html


def test_small_numbers_are_suppressed(html: str) -> None:
    fear = next(s for s in scores(records()) if s.key == "fear")
    by_tp = {p.timepoint: p for p in fear.points}
    assert by_tp["T1"].n == 5 and by_tp["T1"].mean is not None  # 5 women: shown
    assert by_tp["T2"].n == 4 and by_tp["T2"].mean is None  # 4 women: suppressed
    assert by_tp["T4"].cell == SUPPRESSED and by_tp["T1"].cell.endswith("(n=5)")
    response = html.split('id="response-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(T\d)</td>(.*?)</tr>", response)
    table = {tp: re.findall(r"<td>(.*?)</td>", cells) for tp, cells in rows}
    # invited, completed, missed, withdrawn, rate. T2: 4 completed, and the 8 who missed it
    # hidden with them, or 12 - 8 would give the 4 away
    assert table["T0"] == ["12", "7", "5", "&lt;5", "58%"]
    assert table["T1"] == ["12", "5", "7", "&lt;5", "42%"]
    assert table["T2"] == ["12", "&lt;5", "–", "&lt;5", "&lt;5"]
    assert "<td>HIGH</td><td>9</td>" in html
    assert "<td>URGENT</td><td>&lt;5</td>" in html
    assert "<td>ROUTINE</td><td>&lt;5</td>" in html  # 7 escalations but only 4 women
    assert "4.0 (n=4)" not in html


def test_scores() -> None:
    full = answers(0, "T0")
    assert score_phq4(full) == 2 + 1 + 0 + 3
    assert score_phq4({**full, "phq4_2": Answer(None, skipped=True)}) is None
    assert score_violence(full) == pytest.approx((1 + 0 + 3 + 2) / 4)
    assert score_violence({"viol_sexual": Answer("never")}) is None
    assert Point("T0", 5, 2.0).cell == "2.0 (n=5)"


def test_report_shows_no_ids(html: str) -> None:
    assert "R-0" not in html  # not even research ids (pseudonyms: see tests/bot/cli)


def tables_of(flow: Flow) -> tuple[Flow, object]:
    return flow, flow_cells(flow)


def table(html: str, table_id: str) -> dict[str, list[str]]:
    """Rows of one table by their first cell."""
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in rows]
    return {c[0]: c[1:] for c in cells if c}


def test_every_plot_has_alt_text_and_a_table_of_its_figures(html: str) -> None:
    page = Structure()
    page.feed(html)
    assert len(page.alts) == len(page.images) == 17
    for alt, described_by in page.alts:
        assert alt and alt.strip()
        assert described_by in page.table_ids  # the table with the same figures


def test_the_flow_shows_the_flow_and_hides_small_cells(html: str) -> None:
    flow = table(html, "flow-table")
    assert 'id="enrolled">12<' in html
    assert flow["Invited (a contact went out)"] == ["12"] * 5
    assert flow["Completed"] == ["7", "5", "&lt;5", "6", "&lt;5"]  # T2, T4: 4 and 3 women
    assert flow["Missed (no reply before it expired)"] == ["5", "7", "–", "6", "–"]
    plotted = flow_table(*tables_of(participant_flow(records(), {})))["plotted"]
    completed = dict(plotted["segments"])["Completed"]
    assert completed == [7, 5, None, 6, None]  # the cell of 4 is no plot point
    missed = dict(plotted["segments"])["Missed (no reply before it expired)"]
    assert missed == [5, 7, None, 6, None]  # nor the 8 hidden to protect it
    retention = table(html, "retention-table")
    # 5 (6) of the 7 T0 completers would tell that 2 (1) of them did not complete T1 (T3)
    assert retention["T1"] == ["5", "42%", "–", "–"]
    assert retention["T3"] == ["6", "50%", "–", "–"]
    assert retention["T2"] == ["&lt;5"] * 4
    shares = retention_table(*tables_of(participant_flow(records(), {})))["plotted"]
    assert shares == [7 / 12, 5 / 12, None, 6 / 12, None]


def test_changes_show_the_intervals_plotted(html: str) -> None:
    fear = table(html, "change-fear")
    # T1: five women at both, each 1 less afraid (8-i%2 -> 7-i%2): change -1 exactly
    assert fear["T1"] == ["5", "7.6", "6.6", "-1.00 (-1.00 to -1.00)"]
    assert fear["T2"] == ["&lt;5"] * 4  # four pairs: no n, no mean, no interval
    view = change_view(next(c for c in changes(records()) if c.measure.key == "fear"))
    assert view["plotted"][0] == pytest.approx((-1.0, -1.0, -1.0))
    assert view["plotted"][1] is None and view["plotted"][3] is None
    assert "Change from T0 (paired, 95 % confidence intervals)" in html


def test_a_hidden_flow_cell_stays_hidden_in_every_table() -> None:
    """T0: 3 withdrawn, every other outcome 7 or more but 6 completed: the lone small cell
    takes the completed with it, in the flow, the retention and the response table alike."""
    states = {"completed": 6, "snoozed": 7, "sent": 7, "missed": 30, "withdrawn": 3,
              "opted_out": 7, "paused": 14, "unreachable": 7, "cancelled": 7}  # fmt: skip
    names = [state for state, n in states.items() for _ in range(n)]
    records = [ResearchRecord(f"R-{i}", "T0", s, True, None, {}) for i, s in enumerate(names)]
    endings = {"T0": 7}  # seven of the fourteen paused ended by the safe word
    page = render_report("p", records, ESCALATIONS, endings, datetime(2026, 11, 24, tzinfo=UTC))
    flow = table(page, "flow-table")
    assert flow["Invited (a contact went out)"][0] == str(len(records))
    assert flow["Completed"][0] == "–" and flow["Withdrawn"][0] == "&lt;5"
    assert flow["Ended by the safe word"][0] == "7"
    assert flow["Missed (no reply before it expired)"][0] == "30"
    assert table(page, "retention-table")["T0"][:2] == ["–", "–"]
    response = table(page, "response-table")["T0"]
    assert response[:2] == [str(len(records)), "–"] and response[-1] == "–"  # rate hidden too
    plotted = flow_table(*tables_of(participant_flow(records, endings)))["plotted"]
    assert dict(plotted["segments"])["Completed"][0] is None
    assert retention_table(*tables_of(participant_flow(records, endings)))["plotted"][0] is None


def test_retention_of_baseline_completers() -> None:
    """20 complete T0; the first 15 of them T1, and 5 who missed T0 complete T1 too."""
    records = [
        *(ResearchRecord(f"R-{i}", "T0", "completed" if i < 20 else "missed", True, None, {})
          for i in range(30)),
        *(ResearchRecord(f"R-{i}", "T1", "completed" if i < 15 or i >= 25 else "missed", True,
                         None, {}) for i in range(30)),
    ]  # fmt: skip
    page = render_report("p", records, ESCALATIONS, {}, datetime(2026, 11, 24, tzinfo=UTC))
    retention = table(page, "retention-table")
    assert retention["T0"] == ["20", "67%", "20", "100%"]
    assert retention["T1"] == ["20", "67%", "15", "75%"]  # 15 of the 20 T0 completers
