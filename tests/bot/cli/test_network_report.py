"""``followup report --network --out FILE``: the pooled report, protected, audited; only
the operator and the network role may write it; ``--pool no`` keeps a programme out."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.datarights.network_report import HIDDEN
from conversations.survey import TIMEPOINTS
from tests.bot.cli.conftest import Invoke, ok, one_line_error
from tests.bot.datarights.test_network_report import SMALL, assert_small_programme_hidden

WOMEN = {"alpha": 30, SMALL: 4, "gamma": 12, "out-9": 9}


def _world(cli: Invoke, tmp_path: Path) -> None:
    for name in WOMEN:
        ok(cli("programme", "add", "--name", name, "--timezone", "Europe/London"))
    ok(cli("programme", "set", "out-9", "--pool", "no"))
    with sqlite3.connect(tmp_path / "f.db") as db:
        for name, women in WOMEN.items():
            (pid,) = db.execute("SELECT id FROM programmes WHERE name = ?", (name,)).fetchone()
            db.executemany(
                "INSERT INTO research_timepoints (research_id, programme_id, timepoint, state,"
                " invited, week) VALUES (?, ?, ?, ?, 1, '2026-W48')",
                [
                    (f"R-{name}-{i}", pid, tp, "completed" if i % 3 else "missed")
                    for i in range(women)
                    for tp in TIMEPOINTS
                ],
            )


def test_the_network_report_hides_the_small_programme_and_leaves_out_the_opted_out(
    cli: Invoke, tmp_path: Path
) -> None:
    _world(cli, tmp_path)
    out_file = tmp_path / "network.html"
    printed = ok(cli("report", "--network", "--out", str(out_file)))
    assert "3 programme(s)" in printed and "4" not in printed.replace(str(out_file), "")
    html = out_file.read_text()
    assert "out-9" not in html and HIDDEN in html
    assert_small_programme_hidden(html)
    with sqlite3.connect(tmp_path / "f.db") as db:
        audited = db.execute(
            "SELECT subject, detail FROM audit_log WHERE action = 'network_report'"
        ).fetchall()
    assert audited == [("network", "network.html, 3 programme(s)")]


def test_only_the_network_role_and_the_operator_write_it(cli: Invoke, tmp_path: Path) -> None:
    _world(cli, tmp_path)
    ok(cli("staff", "add", "--name", "nela", "--role", "network"))
    ok(cli("staff", "add", "--name", "wanda", "--role", "wss"))
    ok(cli("--as", "nela", "report", "--network", "--out", str(tmp_path / "n.html")))
    one_line_error(
        cli("--as", "wanda", "report", "--network", "--out", str(tmp_path / "w.html")),
        "network role",
        "wanda",
    )
    assert not (tmp_path / "w.html").exists()


def test_programme_and_network_are_one_or_the_other(cli: Invoke, tmp_path: Path) -> None:
    out_file = str(tmp_path / "r.html")
    one_line_error(
        cli("report", "--network", "--programme", "alpha", "--out", out_file), "not both"
    )
    one_line_error(cli("report", "--out", out_file), "--programme", "--network")
