"""Participant flow: known records give known counts; a seeded database gives the same."""

from __future__ import annotations

import pytest

from bot.datarights.flow import OUTCOME_ROWS, outcome_of, participant_flow
from bot.datarights.small_numbers import (
    COMPLEMENT,
    SUPPRESSED,
    nested_cell,
    protect_two,
    protected_cells,
)
from bot.runtime.app import App
from bot.store import timepoints as tps
from bot.store.research import ResearchRecord, all_records, safe_word_endings
from conversations.answers import Answer
from conversations.vocabulary import TimepointState

from ..conftest import add_programme, enrol_console
from .support_datarights import say


def rec(rid: str, tp: str, state: str, invited: bool = True, **answers: object) -> ResearchRecord:
    return ResearchRecord(rid, tp, state, invited, None, {k: Answer(v) for k, v in answers.items()})


def test_every_timepoint_state_has_one_flow_row() -> None:
    for state in TimepointState:
        assert outcome_of(state) in {key for key, _, _ in OUTCOME_ROWS}
    states = [s for _, _, group in OUTCOME_ROWS for s in group]
    assert len(states) == len(set(states))  # no state in two rows
    with pytest.raises(ValueError, match="no row"):
        outcome_of("nonsense")


def test_known_records_give_known_counts() -> None:
    records = [
        *(rec(f"R-{i}", "T0", "completed") for i in range(6)),
        rec("R-6", "T0", "missed", fear=3),  # answered a little, then it expired: reached
        rec("R-7", "T0", "missed"),
        rec("R-8", "T0", "snoozed"),
        rec("R-9", "T0", "declined"),  # "not this time" (consent reaffirmation)
        *(rec(f"R-{i}", "T0", "paused") for i in (10, 11, 12)),
        rec("R-13", "T0", "withdrawn", invited=False),
        rec("R-14", "T0", "opted_out"),
        *(rec(f"R-{i}", "T1", "completed") for i in range(4)),
        rec("R-9", "T1", "completed"),
        *(rec(f"R-{i}", "T1", "scheduled", invited=False) for i in range(4, 9)),
    ]
    flow = participant_flow(records, {"T0": 2})
    assert flow.enrolled == 15 and flow.baseline_completed == 6
    t0, t1 = flow.timepoints[0], flow.timepoints[1]
    assert (t0.planned, t0.invited, t0.not_yet_invited, t0.never_invited) == (15, 14, 0, 1)
    assert t0.reached == 6 + 1 + 1 + 1 + 3  # completed, R-6, snoozed, declined, paused
    assert t0.outcomes == {
        "completed": 6, "declined_or_snoozed": 2, "open": 0, "missed": 2, "withdrawn": 0,
        "opted_out": 1, "safe_word": 2, "paused": 1, "unreachable": 0, "cancelled": 0,
    }  # fmt: skip
    assert sum(t0.outcomes.values()) == t0.invited
    assert (t1.planned, t1.invited, t1.not_yet_invited) == (10, 5, 5)
    assert t1.completed_with_baseline == 4  # R-9 completed T1 but not T0


def test_safe_word_count_never_exceeds_the_paused() -> None:
    flow = participant_flow([rec("R-0", "T0", "paused")], {"T0": 3})
    assert flow.timepoints[0].outcomes["safe_word"] == 1
    assert flow.timepoints[0].outcomes["paused"] == 0


def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    # completed, missed, withdrawn, opted out; their total (39) last
    line = [20, 7, 3, 9]
    stage_hidden, hide = protect_two([0, 0, 39], 2, line)
    assert protected_cells(line, hide) == ["20", COMPLEMENT, SUPPRESSED, "9", "39"]
    assert protected_cells([0, 0, 39], stage_hidden) == [SUPPRESSED, SUPPRESSED, "39", "39"]
    # two small ones adding up to 5 protect each other; a zero names no one and protects none
    assert protected_cells([20, 2, 3], protect_two([0, 0, 25], 2, [20, 2, 3])[1]) == [
        "20", SUPPRESSED, SUPPRESSED, "25",
    ]  # fmt: skip
    assert protected_cells([20, 7, 0], protect_two([0, 0, 27], 2, [20, 7, 0])[1]) == [
        "20", "7", SUPPRESSED, "27",
    ]  # fmt: skip


def test_a_count_nested_in_shown_ones_hides_a_small_difference() -> None:
    assert nested_cell(20, [20, 30]) == "20"  # differences 0 and 10 name no small group
    assert nested_cell(20, [23, 30]) == COMPLEMENT  # 3 women replied but did not complete
    assert nested_cell(4, [4]) == SUPPRESSED


def test_an_invited_count_hidden_in_one_line_is_hidden_in_the_other() -> None:
    # stages: 3 not yet, 40 never, 6 invited: the 3 takes the 6 with it, so the invited
    # total of the outcome line (6 completed) must go too, and with it the completed 6
    stage_hidden, ends_hidden = protect_two([3, 40, 6], 2, [6, 0])
    assert protected_cells([3, 40, 6], stage_hidden) == [SUPPRESSED, "40", COMPLEMENT, "49"]
    assert protected_cells([6, 0], ends_hidden) == [COMPLEMENT, SUPPRESSED, COMPLEMENT]


async def test_flow_from_a_seeded_database(app: App) -> None:
    """Five women end T0 with the safe word (the real path), six complete it, one is never
    contacted; the store's records and safe-word counts give the flow."""
    await add_programme(app, "demo")
    women = [await enrol_console(app, f"console:w{i}") for i in range(12)]
    for i, her in enumerate(women[:5]):
        await app.service.begin_contact(her.id, "T0")
        await app.dispatcher.drain_all()
        await say(app, "yes", f"console:w{i}")
        await say(app, "Pine apple!", f"console:w{i}")
    now = app.service.clock.now()
    async with app.db.transaction() as tx:
        for her in women[5:11]:
            await tps.update(tx, her.id, "T0", state="completed", first_sent_at=now, ended_at=now)
            await app.service.answers.save(tx, her.id, "T0", "fear", Answer(7), now)
    programme = women[0].programme_id
    endings = await safe_word_endings(app.db, app.ring, programme)
    assert endings == {"T0": 5}
    flow = participant_flow(await all_records(app.db, app.ring, programme), endings)
    t0 = flow.timepoints[0]
    assert flow.enrolled == 12
    assert (t0.planned, t0.invited, t0.reached) == (12, 11, 11)
    assert t0.outcomes["safe_word"] == 5 and t0.outcomes["paused"] == 0
    assert t0.outcomes["completed"] == 6
    assert all(t.invited == 0 for t in flow.timepoints[1:])
