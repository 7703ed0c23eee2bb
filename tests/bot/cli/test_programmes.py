"""``followup programme set|list``: offsets, reminders, expiry and quiet hours per programme."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from .conftest import Invoke, enrol, ok, one_line_error


@pytest.fixture
def berlin(cli: Invoke) -> None:
    ok(cli("programme", "add", "--name", "berlin", "--timezone", "Europe/Berlin"))


def settings(tmp_path: Path) -> dict[str, object]:
    with sqlite3.connect(tmp_path / "f.db") as conn:
        row = conn.execute("SELECT settings FROM programmes WHERE name = 'berlin'").fetchone()
    return dict(json.loads(row[0]))


def test_defaults_are_design_section_5(cli: Invoke, berlin: None) -> None:
    listed = ok(cli("programme", "list"))
    assert "T0 +0d, T1 start+0d, T4 end+182d, gap 14d; reminders 1,3d; expiry 7d;" in listed
    assert "quiet 21:00-08:00" in listed


def test_set_stores_settings_and_replans(cli: Invoke, berlin: None, tmp_path: Path) -> None:
    start = date.today() + timedelta(days=60)
    end = start + timedelta(days=100)
    pseudonym = enrol(cli, "--start", start.isoformat(), "--end", end.isoformat())
    out = ok(cli("programme", "set", "berlin", "--t4-days", "365", "--reminders", "2",
                 "--expiry-days", "5", "--quiet", "20:00-09:00", "--by", "alice"))  # fmt: skip
    assert "T4 end+365d" in out and "reminders 2d; expiry 5d; quiet 20:00-09:00" in out
    assert "1 partner(s) re-planned" in out
    assert settings(tmp_path) == {
        "offsets": {"t4_days_after_end": 365},
        "contact": {"reminder_after_days": [2], "expiry_days": 5},
        "quiet": "20:00-09:00",
    }
    with sqlite3.connect(tmp_path / "f.db") as conn:
        t4 = conn.execute("SELECT due_on FROM timepoints WHERE timepoint = 'T4'").fetchone()[0]
        actor = conn.execute(
            "SELECT actor FROM audit_log WHERE action = 'programme_settings_changed'"
        ).fetchone()[0]
    assert t4 == (end + timedelta(days=365)).isoformat()
    assert actor == "cli:alice"
    assert pseudonym
    ok(cli("programme", "set", "berlin", "--quiet", "default", "--reminders", "none"))
    assert "quiet" not in settings(tmp_path)
    assert "reminders none" in ok(cli("programme", "list"))


def test_new_quiet_hours_warn_about_swallowed_windows(cli: Invoke, berlin: None) -> None:
    pseudonym = enrol(cli, "--window", "mon-fri 18:00-20:00")
    result = cli("programme", "set", "berlin", "--quiet", "17:00-08:00")
    assert result.exit_code == 0
    assert pseudonym in result.stderr and "inside quiet hours" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nowhere", "--t4-days", "10"], ("no programme named 'nowhere'",)),
        (["berlin", "--reminders", "1,x"], ("--reminders", "1,x")),
        (["berlin", "--reminders", "3,1"], ("reminder_after_days",)),
        (["berlin", "--expiry-days", "2"], ("expiry_days",)),
        (["berlin", "--quiet", "9-5"], ("--quiet", "21:00-08:00")),
        (["berlin", "--quiet", "21:00-21:00"], ("--quiet",)),
        (["berlin", "--t4-days", "0"], ("t4_days_after_end",)),
        (["berlin", "--t0-days", "-1"], ("t0_days_after_enrol",)),
        (["berlin"], ("nothing to set",)),
    ],
)
def test_bad_settings_are_refused(
    cli: Invoke,
    berlin: None,
    dump: Callable[[], list[str]],
    args: list[str],
    words: tuple[str, ...],
) -> None:
    before = dump()
    one_line_error(cli("programme", "set", *args), *words)
    assert dump() == before


def test_add_with_unknown_zone(cli: Invoke, berlin: None, dump: Callable[[], list[str]]) -> None:
    before = dump()
    one_line_error(cli("programme", "add", "--name", "x", "--timezone", "Europe/Atlantis"),
                   "unknown time zone")  # fmt: skip
    assert dump() == before


@pytest.mark.parametrize(
    ("sender", "stem"),
    [("Women's Support", "support"), ("Frauenhaus Mitte", "frauenhaus"),
     ("Ayuda Ana", "ayuda"), ("Programm-Team", "program")],
)  # fmt: skip
def test_a_sender_name_that_gives_her_away_is_refused(
    cli: Invoke, tmp_path: Path, sender: str, stem: str
) -> None:
    result = cli("programme", "add", "--name", "p2", "--timezone", "UTC", "--sender-name", sender)
    one_line_error(result, "--sender-name", stem)
    assert not (tmp_path / "f.db").exists() or "p2" not in ok(cli("programme", "list"))


def test_an_ordinary_first_name_is_accepted(cli: Invoke) -> None:
    ok(cli("programme", "add", "--name", "p3", "--timezone", "UTC", "--sender-name", "Ana"))
