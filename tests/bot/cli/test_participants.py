"""``followup participant show|set``, ``dropout``, ``complete``, ``pause``, ``resume``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from .conftest import Invoke, enrol, ok, one_line_error

Plan = dict[str, tuple[str | None, str]]


@pytest.fixture
def berlin(cli: Invoke) -> None:
    ok(cli("programme", "add", "--name", "berlin", "--timezone", "Europe/Berlin"))


def db(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "f.db")
    conn.row_factory = sqlite3.Row
    return conn


def plan_of(tmp_path: Path, pseudonym: str) -> Plan:
    with db(tmp_path) as conn:
        rows = conn.execute(
            "SELECT t.timepoint, t.due_on, t.state FROM timepoints t JOIN participants p"
            " ON p.id = t.participant_id WHERE p.pseudonym = ? ORDER BY t.timepoint",
            (pseudonym,),
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def enrolled_on(tmp_path: Path, pseudonym: str) -> date:
    with db(tmp_path) as conn:
        row = conn.execute(
            "SELECT enrolled_on FROM participants WHERE pseudonym = ?", (pseudonym,)
        ).fetchone()
    return date.fromisoformat(row[0])


def sql(tmp_path: Path, statement: str, *params: object) -> None:
    with db(tmp_path) as conn:
        conn.execute(statement, params)


def d(day: date) -> str:
    return day.isoformat()


@pytest.fixture
def her(cli: Invoke, berlin: None, tmp_path: Path) -> tuple[str, date, date, date]:
    """Enrolled today; his programme starts in 100 days and runs 180 days."""
    today = date.today()
    start, end = today + timedelta(days=100), today + timedelta(days=280)
    pseudonym = enrol(cli, "--start", d(start), "--end", d(end))
    return pseudonym, enrolled_on(tmp_path, pseudonym), start, end


def test_normal_course_and_show(
    cli: Invoke, tmp_path: Path, her: tuple[str, date, date, date]
) -> None:
    pseudonym, t0, start, end = her
    assert plan_of(tmp_path, pseudonym) == {
        "T0": (d(t0), "scheduled"),
        "T1": (d(start), "scheduled"),
        "T2": (d(start + timedelta(days=90)), "scheduled"),
        "T3": (d(end), "scheduled"),
        "T4": (d(end + timedelta(days=182)), "scheduled"),
    }
    shown = ok(cli("participant", "show", pseudonym, "--by", "alice"))
    assert pseudonym in shown and "status active" in shown
    assert "her time zone Europe/Berlin" in shown and "mon-sat 10:00-19:00 (default)" in shown
    assert d(end + timedelta(days=182)) in shown and "W1-T3-" in shown
    with db(tmp_path) as conn:
        audit = conn.execute("SELECT actor, action, subject FROM audit_log").fetchall()
    assert tuple(audit[-1]) == ("cli:alice", "participant_viewed", pseudonym)


def test_complete_sets_t3_and_t4(
    cli: Invoke, tmp_path: Path, her: tuple[str, date, date, date]
) -> None:
    pseudonym, _, start, end = her
    done = end - timedelta(days=30)
    out = ok(cli("complete", pseudonym, "--date", d(done)))
    assert f"completed {d(done)}" in out
    plan = plan_of(tmp_path, pseudonym)
    assert plan["T2"] == (d(start + timedelta(days=90)), "scheduled")
    assert plan["T3"] == (d(done), "scheduled")
    assert plan["T4"] == (d(done + timedelta(days=182)), "scheduled")


@pytest.mark.parametrize(
    ("after_start", "t1", "t2"),
    [
        (-50, "cancelled", "cancelled"),  # before the programme started
        (30, "scheduled", "cancelled"),  # before halfway
        (120, "scheduled", "scheduled"),  # after halfway
        (200, "scheduled", "scheduled"),  # after the planned end (T3 moves later)
    ],
)
def test_dropout_at_each_stage(
    cli: Invoke,
    tmp_path: Path,
    her: tuple[str, date, date, date],
    after_start: int,
    t1: str,
    t2: str,
) -> None:
    pseudonym, _, start, _ = her
    dropout = start + timedelta(days=after_start)
    ok(cli("dropout", pseudonym, "--date", d(dropout), "--by", "bob"))
    plan = plan_of(tmp_path, pseudonym)
    assert (plan["T1"][1], plan["T2"][1]) == (t1, t2)
    assert plan["T3"] == (d(dropout), "scheduled")  # due at once, no fortnight gap
    assert plan["T4"] == (None, "cancelled")


def test_dropout_with_t4_policy(
    cli: Invoke, tmp_path: Path, her: tuple[str, date, date, date]
) -> None:
    pseudonym, _, start, _ = her
    ok(cli("programme", "set", "berlin", "--t4-after-dropout", "--t4-days", "90"))
    dropout = start + timedelta(days=30)
    ok(cli("dropout", pseudonym, "--date", d(dropout)))
    assert plan_of(tmp_path, pseudonym)["T4"] == (d(dropout + timedelta(days=90)), "scheduled")


def test_dropout_defaults_to_today(
    cli: Invoke, tmp_path: Path, her: tuple[str, date, date, date]
) -> None:
    pseudonym, t0, _, _ = her
    ok(cli("dropout", pseudonym))
    plan = plan_of(tmp_path, pseudonym)
    assert plan["T3"][0] is not None and date.fromisoformat(plan["T3"][0]) >= t0
    assert plan["T1"] == (None, "cancelled")


def test_changed_dates_replan_only_what_has_not_happened(
    cli: Invoke, tmp_path: Path, her: tuple[str, date, date, date]
) -> None:
    pseudonym, t0, start, end = her
    sql(tmp_path, "UPDATE timepoints SET state = 'completed' WHERE timepoint IN ('T0', 'T1')")
    new_start, new_end = start + timedelta(days=10), end + timedelta(days=40)
    out = ok(cli("participant", "set", pseudonym, "--start", d(new_start), "--end", d(new_end)))
    assert "start, end changed" in out
    plan = plan_of(tmp_path, pseudonym)
    assert plan["T0"] == (d(t0), "completed")
    assert plan["T1"] == (d(start), "completed")  # happened: never rewritten
    assert plan["T2"] == (d(new_start + timedelta(days=(new_end - new_start).days // 2)),
                          "scheduled")  # fmt: skip
    assert plan["T3"] == (d(new_end), "scheduled")
    assert plan["T4"] == (d(new_end + timedelta(days=182)), "scheduled")
    with db(tmp_path) as conn:
        waves = {r[0] for r in conn.execute("SELECT wave_id FROM timepoints")}
    assert f"W1-T3-{new_end:%Y%m%d}" in waves  # the wave follows the date


def test_set_window_and_zone(
    cli: Invoke, tmp_path: Path, her: tuple[str, date, date, date]
) -> None:
    pseudonym = her[0]
    ok(cli("participant", "set", pseudonym, "--window", "tue,thu 14:00-16:00",
           "--timezone", "Europe/Lisbon"))  # fmt: skip
    shown = ok(cli("participant", "show", pseudonym))
    assert "her time zone Europe/Lisbon; safe window: tue,thu 14:00-16:00" in shown
    with db(tmp_path) as conn:
        raw = conn.execute("SELECT windows_enc FROM participants").fetchone()[0]
    assert b"14:00" not in raw  # sealed


def test_pause_and_resume_are_audited(
    cli: Invoke, tmp_path: Path, her: tuple[str, date, date, date]
) -> None:
    pseudonym = her[0]
    out = ok(cli("pause", pseudonym, "--reason", "wss_advice", "--by", "carol"))
    assert "contact paused" in out
    assert "nothing changed" in ok(cli("pause", pseudonym))
    assert "contact resumed (was paused)" in ok(cli("resume", pseudonym, "--by", "dana"))
    assert "active already" in ok(cli("resume", pseudonym))
    sql(tmp_path, "UPDATE participants SET status = 'opted_out'")
    assert "was opted_out" in ok(cli("resume", pseudonym, "--by", "erin"))
    with db(tmp_path) as conn:
        rows = conn.execute(
            "SELECT actor, action, detail FROM audit_log WHERE action LIKE 'contact_%'"
        ).fetchall()
    assert [tuple(r) for r in rows] == [
        ("cli:carol", "contact_paused", "wss_advice"),
        ("cli:dana", "contact_resumed", "was paused"),
        ("cli:erin", "contact_resumed", "was opted_out"),
    ]


def test_pause_cancels_queued_messages(
    cli: Invoke, tmp_path: Path, her: tuple[str, date, date, date]
) -> None:
    pseudonym, t0, _, _ = her
    # A sweep "at" the next weekday 11:00 in Berlin queues her T0 opener...
    when = t0 + timedelta(days=1 if t0.weekday() < 5 else 2)
    out = ok(cli("tick", "--at", f"{d(when)}T11:00+01:00"))
    assert f"did     opener      {pseudonym} T0" in out
    # ...and pausing her before it goes out cancels it.
    assert "1 queued message(s) cancelled" in ok(cli("pause", pseudonym))
    with db(tmp_path) as conn:
        states = [r[0] for r in conn.execute("SELECT state FROM outbox")]
    assert states == ["cancelled"]


def test_resume_refuses_withdrawn(
    cli: Invoke, tmp_path: Path, her: tuple[str, date, date, date]
) -> None:
    sql(tmp_path, "UPDATE participants SET status = 'withdrawn'")
    one_line_error(cli("resume", her[0]), "withdrawn", "cannot be resumed")


CONSENT = ["--consent-version", "v1", "--consent-date", "2026-01-01", "--consent-by", "Test"]
BAD_INPUT: list[tuple[list[str], tuple[str, ...]]] = [
    (["enrol", "--programme", "berlin", "--channel", "console", *CONSENT, "--timezone", "Mars/Base"],
     ("unknown time zone", "Mars/Base")),
    (["participant", "set", "{P}", "--timezone", "Mars/Base"], ("unknown time zone",)),
    (["enrol", "--programme", "berlin", "--channel", "console", *CONSENT, "--window", "someday 09:00-10:00"],
     ("--window", "someday")),
    (["participant", "set", "{P}", "--window", "mon 25:00-26:00"], ("--window", "hour 25")),
    (["participant", "set", "{P}", "--window", "mon 22:00-23:00"], ("--window", "quiet hours")),
    (["enrol", "--programme", "berlin", "--channel", "console", *CONSENT, "--start", "2027-05-01",
      "--end", "2027-01-01"], ("--end", "before --start")),
    (["participant", "set", "{P}", "--start", "2027-05-01", "--end", "2027-01-01"],
     ("before --start",)),
    (["participant", "set", "{P}", "--end", "2001-01-01"], ("{P}", "before its start")),
    (["participant", "set", "{P}", "--start", "01/05/2027"], ("--start", "YYYY-MM-DD")),
    (["dropout", "{P}", "--date", "20-01-2027"], ("--date", "YYYY-MM-DD", "20-01-2027")),
    (["complete", "{P}", "--date", "tomorrow"], ("--date", "YYYY-MM-DD")),
    (["participant", "show", "P-ZZZZZ"], ("no participant", "P-ZZZZZ")),
    (["participant", "set", "P-ZZZZZ", "--window", "mon 10:00-12:00"], ("P-ZZZZZ",)),
    (["dropout", "P-ZZZZZ"], ("no participant", "P-ZZZZZ")),
    (["complete", "P-ZZZZZ", "--date", "2027-01-01"], ("no participant",)),
    (["pause", "P-ZZZZZ"], ("no participant",)),
    (["resume", "P-ZZZZZ"], ("no participant",)),
    (["participant", "set", "{P}"], ("nothing to set",)),
]  # fmt: skip


@pytest.mark.parametrize(("args", "words"), BAD_INPUT)
def test_bad_input_is_one_line_exit_2_nothing_stored(
    cli: Invoke,
    dump: Callable[[], list[str]],
    her: tuple[str, date, date, date],
    args: list[str],
    words: tuple[str, ...],
) -> None:
    pseudonym = her[0]
    before = dump()
    result = cli(*(a.replace("{P}", pseudonym) for a in args))
    one_line_error(result, *(w.replace("{P}", pseudonym) for w in words))
    assert dump() == before


def test_completion_after_dropout_is_refused(
    cli: Invoke, dump: Callable[[], list[str]], her: tuple[str, date, date, date]
) -> None:
    pseudonym, _, start, _ = her
    ok(cli("dropout", pseudonym, "--date", d(start + timedelta(days=5))))
    before = dump()
    one_line_error(cli("complete", pseudonym, "--date", d(start + timedelta(days=9))),
                   "both a drop-out")  # fmt: skip
    assert dump() == before
