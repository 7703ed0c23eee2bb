"""``followup waves``, ``wave hold|release|send-now`` and ``tick`` from the command line."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from .conftest import Invoke, enrol, ok, one_line_error


@pytest.fixture
def berlin(cli: Invoke) -> None:
    ok(cli("programme", "add", "--name", "berlin", "--timezone", "Europe/Berlin"))


def next_weekday(after: date, weekday: int) -> date:
    return after + timedelta(days=(weekday - after.weekday()) % 7 or 7)


def test_walkthrough_dropout_then_t3_inside_her_window(
    cli: Invoke, berlin: None, tmp_path: Path, dump: Callable[[], list[str]]
) -> None:
    """The issue's "done when": set up, enrol, see waves, record a drop-out, watch T3 go out."""
    start = date.today() + timedelta(days=30)
    end = start + timedelta(days=180)
    her = enrol(cli, "--start", start.isoformat(), "--end", end.isoformat(),
                "--window", "tue,thu 14:00-16:00", "--timezone", "Europe/Lisbon")  # fmt: skip
    other = enrol(cli, "--start", start.isoformat(), "--end", end.isoformat())
    waves = ok(cli("waves"))
    t1_wave = f"W1-T1-{start:%Y%m%d}"
    assert re.search(rf"{t1_wave}\s+berlin\s+T1\s+{start}\s+2\b", waves), waves

    dropout = start + timedelta(days=40)
    ok(cli("dropout", her, "--date", dropout.isoformat()))
    waves = ok(cli("waves", "--programme", "berlin", "--from", dropout.isoformat()))
    assert f"W1-T3-{dropout:%Y%m%d}" in waves

    # Her next Tuesday after the drop-out, at 09:00 Lisbon: due, but not yet her window.
    tuesday = next_weekday(dropout, 1)
    before = dump()
    early = ok(cli("tick", "--dry-run", "--at", f"{tuesday}T09:00:00+00:00"))
    assert f"opener      {her} T3" not in early
    assert dump() == before  # the dry run wrote nothing
    on_time = ok(cli("tick", "--dry-run", "--at", f"{tuesday}T14:00:00+00:00"))
    assert f"would   opener      {her} T3  at Tue {tuesday} 14:00 WET" in on_time
    # A real sweep at that time queues it (the running service sends it then).
    done = ok(cli("tick", "--at", f"{tuesday}T14:00:00+00:00"))
    assert f"did     opener      {her} T3" in done
    # The other partner's T0 was never sent (we jumped months ahead): only her latest, T1.
    assert f"superseded  {other} T0" in done and f"opener      {other} T1" in done
    shown = ok(cli("participant", "show", her))
    assert re.search(rf"T3[\s│]+{dropout}[\s│]+sent", shown), shown
    assert f"Tue {tuesday} 14:00 WET" in shown
    with sqlite3.connect(tmp_path / "f.db") as conn:
        rows = conn.execute(
            "SELECT dedupe_key, priority, not_before FROM outbox WHERE dedupe_key LIKE 'opener:%:T3:1'"
        ).fetchall()
    assert len(rows) == 1 and rows[0][1] == 2  # wave priority, behind live replies
    assert rows[0][2].startswith(f"{tuesday}T14:00")


def test_hold_and_release_from_the_cli(cli: Invoke, berlin: None, tmp_path: Path) -> None:
    pseudonym = enrol(cli)
    with sqlite3.connect(tmp_path / "f.db") as conn:
        wave = conn.execute("SELECT wave_id FROM timepoints WHERE timepoint = 'T0'").fetchone()[0]
    assert f"wave {wave} held" in ok(cli("wave", "hold", wave, "--by", "alice"))
    assert f"{wave} (held)" in ok(cli("waves"))
    assert re.search(rf"{wave} \(held\)\s+berlin\s+T0\s+\S+\s+1\b", ok(cli("waves")))
    one_line_error(cli("wave", "send-now", wave), "held", "release it first")
    when = date.today() + timedelta(days=2)
    held = ok(cli("tick", "--dry-run", "--at", f"{when}T12:00:00+01:00"))
    assert f"opener      {pseudonym}" not in held
    assert f"wave {wave} released" in ok(cli("wave", "release", wave, "--by", "alice"))
    assert "(held)" not in ok(cli("waves"))


def test_tick_dry_run_shows_what_would_be_sent(
    cli: Invoke, berlin: None, dump: Callable[[], list[str]]
) -> None:
    a, b = enrol(cli), enrol(cli, "--window", "sat 10:00-12:00")
    monday = next_weekday(date.today(), 0)
    before = dump()
    out = ok(cli("tick", "--dry-run", "--at", f"{monday}T11:00:00+01:00"))
    assert "(dry run)" in out
    assert f"would   opener      {a} T0" in out and b not in out
    assert "1 opener; 1 waiting for a later time" in out
    assert dump() == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["waves", "--from", "2027/01/01"], ("--from", "YYYY-MM-DD")),
        (["waves", "--from", "2027-02-01", "--to", "2027-01-01"], ("--to", "before --from")),
        (["waves", "--programme", "nowhere"], ("no programme named 'nowhere'",)),
        (["wave", "hold", "W9-T9-20270101"], ("no wave 'W9-T9-20270101'",)),
        (["wave", "release", "nonsense"], ("no wave 'nonsense'",)),
        (["wave", "send-now", "W9-T1-20270101"], ("no wave",)),
        (["tick", "--at", "noon"], ("--at", "ISO time", "noon")),
        (["tick", "--at", "2020-01-01T10:00"], ("--at in the past", "--dry-run")),
    ],
)
def test_bad_input(
    cli: Invoke,
    berlin: None,
    dump: Callable[[], list[str]],
    args: list[str],
    words: tuple[str, ...],
) -> None:
    enrol(cli)
    before = dump()
    one_line_error(cli(*args), *words)
    assert dump() == before
