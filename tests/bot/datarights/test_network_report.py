"""The pooled network report: a programme at 4 women cannot be read or worked out from it,
a programme that opted out is absent, and nothing individual is on the page."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from bot.datarights.network_report import (
    HIDDEN,
    POOLED,
    ProgrammeFigures,
    build_report,
    network_report,
    render_network_report,
)
from bot.runtime.app import App
from conversations.survey import TIMEPOINTS

SMALL = "small-4"


def figures() -> list[ProgrammeFigures]:
    """One programme at 4 women, two larger ones (one of them with few answers at T4)."""

    def one(name: str, women: int, answered: int) -> ProgrammeFigures:
        invited = (women,) * len(TIMEPOINTS)
        completed = (*(answered,) * (len(TIMEPOINTS) - 1), 3)
        changes = {k: tuple(float(-i % 3) for i in range(min(women, answered)))
                   for k in ("fear", "feel_safe", "phq4", "violence")}  # fmt: skip
        return ProgrammeFigures(name, invited, completed, changes)

    return [one("alpha", 30, 20), one(SMALL, 4, 4), one("gamma", 12, 9)]


class Cells(HTMLParser):
    """The tables of a page as lists of rows of cell texts (header row included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._text: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._text = ""

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._text is not None:
            self.tables[-1][-1].append(self._text.strip())
            self._text = None


def assert_small_programme_hidden(html: str) -> None:
    """Its cells hidden, and every row holding them hides a second cell or the total."""
    parser = Cells()
    parser.feed(html)
    assert len(parser.tables) == 2
    for table in parser.tables:
        header, *rows = table
        assert header[-1] == POOLED
        small = header.index(SMALL)
        assert rows
        for row in rows:
            assert row[small] == HIDDEN, row
            hidden = [c for c in row[1:-1] if c == HIDDEN]
            assert len(hidden) >= 2 or row[-1] == HIDDEN, row


def test_a_programme_at_4_women_cannot_be_worked_out_from_the_page() -> None:
    report = build_report(figures())
    html = render_network_report(report, datetime(2026, 12, 1, tzinfo=UTC))
    assert_small_programme_hidden(html)
    assert "R-" not in html and "P-" not in html  # no research id, no pseudonym
    assert "4 of 4" not in html


def test_the_pooled_and_large_figures_are_shown() -> None:
    report = build_report(figures())
    rates = report.tables[0].lines[0].cells
    assert rates[-1] == "72% (33 of 46)"  # 20 + 4 + 9 of 30 + 4 + 12
    assert any(c != HIDDEN for c in report.figures)


async def pooled_world(app: App) -> None:
    """alpha (30 women), small-4 (4), gamma (12), and out-9 (9) which opted out."""
    now = app.stores.clock.now()
    async with app.db.transaction() as tx:
        for name, women in (("alpha", 30), (SMALL, 4), ("gamma", 12), ("out-9", 9)):
            settings = {"pool": False} if name == "out-9" else {}
            programme_id = await app.service.programmes.add(tx, name, now, settings=settings)
            for i in range(women):
                for tp in TIMEPOINTS:
                    state = "completed" if i % 3 else "missed"
                    await tx.execute(
                        "INSERT INTO research_timepoints (research_id, programme_id, timepoint,"
                        " state, invited, week) VALUES (?, ?, ?, ?, 1, '2026-W48')",
                        (f"R-{name}-{i}", programme_id, tp, state),
                    )


async def test_opted_out_programme_is_absent_and_the_small_one_protected(app: App) -> None:
    await pooled_world(app)
    stores = app.stores
    report = await network_report(stores.db, stores.ring, stores.programmes)
    assert SMALL in report.programmes and "out-9" not in report.programmes
    html = render_network_report(report, stores.clock.now())
    assert "out-9" not in html
    assert_small_programme_hidden(html)
    pooled = report.tables[0].lines[0].cells[-1]
    assert pooled == "65% (30 of 46)"  # alpha 20/30, small 2/4, gamma 8/12; out-9 not in it
