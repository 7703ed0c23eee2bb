"""``followup org``, ``--org`` on programmes and staff, and an old installation migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.bot.support_old_schema import old_database

from .conftest import Invoke, enrol, ok, one_line_error


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


def test_an_old_installation_lands_in_default_and_every_command_works(
    cli: Invoke, tmp_path: Path
) -> None:
    old_database(tmp_path / "f.db")
    assert "default" in ok(cli("org", "list"))
    listed = ok(cli("programme", "list"))
    assert "berlin" in listed and "default" in listed
    staff = ok(cli("staff", "list"))
    assert "wanda" in staff and "default" in staff and "berlin" in staff
    ok(cli("programme", "add", "--name", "hamburg", "--timezone", "Europe/Berlin"))
    ok(cli("staff", "add", "--name", "wilma", "--role", "wss"))
    ok(cli("programme", "set-routes", "hamburg", "--on-call", "wilma", "--backup", "wanda"))
    pseudonym = enrol(cli, programme="hamburg")
    assert pseudonym in ok(cli("participant", "show", pseudonym))
    ok(cli("escalations", "list"))
    ok(cli("export", "--programme", "berlin", "--out", str(tmp_path / "export")))
    db = tmp_path / "f.db"
    assert _rows(db, "SELECT name FROM organisations") == [("default",)]
    assert _rows(db, "SELECT DISTINCT organisation_id FROM programmes") == [(1,)]
    assert _rows(db, "SELECT staff_id FROM staff_organisations ORDER BY staff_id") == [
        (1,), (2,), (3,)
    ]  # fmt: skip
    assert _rows(db, "PRAGMA foreign_key_check") == []


def test_once_there_are_two_organisations_org_is_required(cli: Invoke, tmp_path: Path) -> None:
    ok(cli("programme", "add", "--name", "berlin", "--timezone", "Europe/Berlin"))
    assert "organisation north added" in ok(cli("org", "add", "north", "--language", "de"))
    one_line_error(cli("org", "add", "north"), "north", "exists")
    one_line_error(
        cli("programme", "add", "--name", "kiel", "--timezone", "Europe/Berlin"), "--org"
    )
    one_line_error(
        cli("programme", "add", "--name", "kiel", "--timezone", "Europe/Berlin", "--org", "nope"),
        "nope",
    )
    ok(cli("programme", "add", "--name", "kiel", "--timezone", "Europe/Berlin", "--org", "north"))
    one_line_error(cli("staff", "add", "--name", "ana", "--role", "wss"), "--org")
    ok(cli("staff", "add", "--name", "ana", "--role", "wss", "--org", "north", "--org", "default"))
    ok(cli("staff", "add", "--name", "olga", "--role", "operator"))
    listed = ok(cli("staff", "list"))
    assert "default, north" in listed
    ok(cli("staff", "set-orgs", "ana", "north"))
    one_line_error(cli("staff", "set-orgs", "ana", "north,nowhere"), "nowhere")
    one_line_error(cli("staff", "set-orgs", "zed", "north"), "zed")
    orgs = ok(cli("org", "list"))
    assert "kiel" in orgs and "north" in orgs
    db = tmp_path / "f.db"
    assert _rows(
        db,
        "SELECT o.name FROM staff_organisations AS so JOIN organisations AS o"
        " ON o.id = so.organisation_id JOIN staff AS s ON s.id = so.staff_id WHERE s.name = 'ana'",
    ) == [("north",)]
    assert _rows(db, "SELECT organisation_id FROM programmes WHERE name = 'kiel'") == [(2,)]


def test_set_routes_refuses_a_worker_of_another_organisation(cli: Invoke) -> None:
    ok(cli("org", "add", "north"))
    ok(cli("programme", "add", "--name", "kiel", "--timezone", "Europe/Berlin", "--org", "north"))
    ok(cli("staff", "add", "--name", "dora", "--role", "wss", "--org", "default"))
    ok(cli("staff", "add", "--name", "nina", "--role", "wss", "--org", "north"))
    one_line_error(
        cli("programme", "set-routes", "kiel", "--on-call", "dora"), "dora", "default", "north"
    )
    one_line_error(
        cli("programme", "set-routes", "kiel", "--on-call", "nina", "--backup", "dora"),
        "dora",
        "north",
    )
    ok(cli("programme", "set-routes", "kiel", "--on-call", "nina"))


def _two_organisations(cli: Invoke) -> tuple[str, str]:
    """berlin in default (dora), kiel in north (nina, and nils its admin); one partner each."""
    ok(cli("programme", "add", "--name", "berlin", "--timezone", "Europe/Berlin"))
    ok(cli("org", "add", "north"))
    ok(cli("programme", "add", "--name", "kiel", "--timezone", "Europe/Berlin", "--org", "north"))
    ok(cli("staff", "add", "--name", "dora", "--role", "wss", "--org", "default"))
    ok(cli("staff", "add", "--name", "nina", "--role", "wss", "--org", "north"))
    ok(cli("staff", "add", "--name", "nils", "--role", "admin", "--org", "north"))
    return enrol(cli, programme="berlin"), enrol(cli, programme="kiel")


def test_as_a_staff_member_the_cli_reaches_only_her_organisations(
    cli: Invoke, tmp_path: Path
) -> None:
    in_berlin, in_kiel = _two_organisations(cli)
    assert in_kiel in ok(cli("--as", "nina", "participant", "show", in_kiel))
    one_line_error(cli("--as", "nina", "participant", "show", in_berlin), "no participant")
    listed = ok(cli("--as", "nina", "programme", "list"))
    assert "kiel" in listed and "berlin" not in listed
    everything = ok(cli("programme", "list"))  # no --as: the operator's reach, as before
    assert "kiel" in everything and "berlin" in everything
    one_line_error(
        cli("--as", "nina", "export", "--programme", "berlin", "--out", str(tmp_path / "x")),
        "berlin",
    )
    ok(cli("--as", "nina", "export", "--programme", "kiel", "--out", str(tmp_path / "k")))
    one_line_error(
        cli("--as", "nina", "report", "--programme", "berlin", "--out", str(tmp_path / "r.html")),
        "berlin",
    )
    trail = ok(cli("--as", "nils", "audit"))
    assert in_kiel in trail and in_berlin not in trail and "dora" not in trail
    staff = ok(cli("--as", "nils", "staff", "list"))
    assert "nina" in staff and "dora" not in staff
    audited = _rows(
        tmp_path / "f.db",
        "SELECT actor, subject, detail FROM audit_log WHERE action = 'outside_scope' ORDER BY id",
    )
    assert audited == [
        ("nina (cli)", in_berlin, "participant"),
        ("nina (cli)", "berlin", "programme"),
        ("nina (cli)", "berlin", "programme"),
    ]


def test_as_is_refused_where_it_makes_no_sense_and_for_unknown_names(cli: Invoke) -> None:
    _two_organisations(cli)
    one_line_error(cli("--as", "nobody", "programme", "list"), "nobody")
    one_line_error(cli("--as", "nina", "org", "add", "south"), "--as", "org")
    one_line_error(cli("--as", "nils", "keys", "status"), "--as", "keys")
    one_line_error(cli("--as", "nils", "staff", "set-password", "nina", "--password", "x" * 14),
                   "--as")  # fmt: skip
    one_line_error(
        cli("--as", "nils", "programme", "add", "--name", "x", "--timezone", "UTC"), "--as"
    )
    one_line_error(
        cli("--as", "nils", "staff", "add", "--name", "eve", "--role", "wss", "--org", "default"),
        "default",
    )
    one_line_error(cli("--as", "nina", "staff", "add", "--name", "eve", "--role", "wss"), "nina")
    ok(cli("--as", "nils", "staff", "add", "--name", "eve", "--role", "wss"))
    assert "north" in ok(cli("staff", "list"))
    one_line_error(cli("--as", "nils", "staff", "set-orgs", "eve", "north,default"), "default")
    one_line_error(cli("--as", "nils", "staff", "set-orgs", "dora", "north"), "dora")


def test_a_programme_can_opt_out_of_the_network_pool(cli: Invoke, tmp_path: Path) -> None:
    ok(cli("programme", "add", "--name", "berlin", "--timezone", "Europe/Berlin"))
    one_line_error(cli("programme", "set", "berlin", "--pool", "maybe"), "--pool")
    ok(cli("programme", "set", "berlin", "--pool", "no"))
    (settings,) = _rows(tmp_path / "f.db", "SELECT settings FROM programmes")[0]
    assert '"pool": false' in str(settings)
    ok(cli("programme", "set", "berlin", "--pool", "yes"))
    (settings,) = _rows(tmp_path / "f.db", "SELECT settings FROM programmes")[0]
    assert '"pool": true' in str(settings)
