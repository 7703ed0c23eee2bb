"""The data-rights commands as staff type them: consent, withdraw, erase, retention, keys,
export, report, policy. Exit 2 and one line for every refusal; access is audited."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyreadstat
import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.datarights.export_coded import ExportError
from tests.conftest import isolated_config_file

PHONE = "+447911123456"
CONSENT = ["--consent-version", "v2", "--consent-date", "2026-11-20", "--consent-by", "Ana W"]


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_config_file(tmp_path, monkeypatch)


def cli(cfg: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--config", str(cfg)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def db(cfg: Path) -> sqlite3.Connection:
    return sqlite3.connect(cfg.parent / "f.db")


def enrol(cfg: Path, *extra: str) -> str:
    code, output = cli(cfg, "enrol", "--programme", "p1", "--channel", "sms", "--phone", PHONE,
                       "--safe-word", "pineapple", *extra)  # fmt: skip
    assert code == 0, output
    return output.split("enrolled ")[1].split()[0]


@pytest.fixture
def programme(cfg: Path) -> Path:
    code, output = cli(cfg, "programme", "add", "--name", "p1", "--timezone", "Europe/London")
    assert code == 0, output
    return cfg


@pytest.mark.parametrize("drop", ["--consent-version", "--consent-date", "--consent-by"])
def test_enrol_refuses_without_consent_and_stores_nothing(programme: Path, drop: str) -> None:
    given = CONSENT.copy()
    at = given.index(drop)
    del given[at : at + 2]
    code, output = cli(programme, "enrol", "--programme", "p1", "--channel", "sms",
                       "--phone", PHONE, *given)  # fmt: skip
    assert code == 2 and drop in output and "nothing was stored" in output
    assert db(programme).execute("SELECT COUNT(*) FROM participants").fetchone() == (0,)


def test_enrol_records_consent(programme: Path) -> None:
    pseudonym = enrol(programme, *CONSENT)
    row = (
        db(programme)
        .execute(
            "SELECT c.consent_version, c.consented_on, c.recorded_by FROM consents c"
            " JOIN participants p ON p.id = c.participant_id WHERE p.pseudonym = ?",
            (pseudonym,),
        )
        .fetchone()
    )
    assert row == ("v2", "2026-11-20", "Ana W")


def test_withdraw_and_erase(programme: Path) -> None:
    first = enrol(programme, *CONSENT)
    code, output = cli(programme, "erase", first)
    assert code == 2 and "--confirm" in output
    code, output = cli(programme, "programme", "policy", "p1", "--on-withdrawal", "keep_anonymous")
    assert code == 0, output
    code, output = cli(programme, "withdraw", first, "--by", "Ana W")
    assert code == 0 and "unlinkable research id" in output
    code, output = cli(programme, "withdraw", first)
    assert code == 2 and "already withdrawn" in output
    code, output = cli(programme, "erase", first, "--confirm", "--by", "Ana W")
    assert code == 0, output
    code, output = cli(programme, "erase", first, "--confirm")
    assert code == 2 and f"no participant with pseudonym {first}" in output
    conn = db(programme)
    assert conn.execute("SELECT COUNT(*) FROM participants").fetchone() == (0,)
    actions = conn.execute("SELECT actor, action, subject FROM audit_log ORDER BY id").fetchall()
    assert ("Ana W", "participant_erased", None) in actions
    assert all(first not in str(a) for a in actions)


def test_retention_dry_run_and_run(programme: Path) -> None:
    enrol(programme, *CONSENT)
    code, output = cli(programme, "retention", "--dry-run")
    assert code == 0 and "would delete" in output and "contact details" in output
    code, output = cli(programme, "retention")
    assert code == 0 and "deleted" in output


def test_keys_status_and_rotate(programme: Path) -> None:
    enrol(programme, *CONSENT)
    code, output = cli(programme, "keys", "status")
    assert code == 0 and "participants.address_enc" in output and "active key: k1" in output
    code, output = cli(programme, "keys", "rotate", "--batch-size", "2")
    assert code == 0 and "active key k2" in output and "retired: k1" in output
    code, output = cli(programme, "keys", "status")
    assert code == 0 and "active key: k2" in output and "retired key k1: verify-only" in output
    assert '"k1"' not in (programme.parent / "f.keys").read_text().split('"verify_only"')[0]


def test_export_and_report_are_audited_and_name_no_one(programme: Path, tmp_path: Path) -> None:
    pseudonym = enrol(programme, *CONSENT)
    code, output = cli(programme, "export", "--programme", "p1", "--format", "json",
                       "--out", str(tmp_path / "out" / "x"), "--by", "Researcher R")  # fmt: skip
    assert code == 0, output
    code, output = cli(
        programme, "report", "--programme", "p1", "--out", str(tmp_path / "out" / "r.html")
    )
    assert code == 0, output
    page = (tmp_path / "out" / "r.html").read_text()
    assert 'id="flow-table"' in page and 'id="change-fear"' in page  # the flow, the intervals
    assert 'id="enrolled">&lt;5<' in page  # one woman enrolled
    code, output = cli(programme, "export", "--programme", "p1", "--format", "xml", "--out", "x")
    assert code == 2 and "--format" in output
    code, output = cli(programme, "report", "--programme", "nope", "--out", "r.html")
    assert code == 2 and "no programme named 'nope'" in output
    blob = b"".join(f.read_bytes() for f in (tmp_path / "out").rglob("*") if f.is_file())
    assert b"<html" in blob and b"research_id" in blob
    for needle in (pseudonym, PHONE, PHONE[1:]):
        assert needle.encode() not in blob
    actions = db(programme).execute("SELECT actor, action, subject FROM audit_log").fetchall()
    assert ("Researcher R", "research_export", "p1") in actions
    assert any(a[1] == "outcome_report" and a[2] == "p1" for a in actions)


@pytest.mark.parametrize("fmt", ["csv", "json", "sav", "dta", "datapackage"])
def test_export_writes_every_format_long_and_wide(
    programme: Path, tmp_path: Path, fmt: str
) -> None:
    enrol(programme, *CONSENT)
    for layout in ([], ["--wide"]):
        out = tmp_path / "out" / fmt / ("wide" if layout else "long")
        code, output = cli(programme, "export", "--programme", "p1", "--format", fmt,
                           "--out", str(out), *layout)  # fmt: skip
        assert code == 0, output
        suffix = "csv" if fmt == "datapackage" else fmt
        assert (out / f"responses.{suffix}").exists() and (out / "dictionary.csv").exists()
        assert ("0 row(s), one per woman" if layout else "0 response row(s)") in output
    assert (fmt == "datapackage") == (tmp_path / "out" / fmt / "wide" / "datapackage.json").exists()
    details = [
        d
        for (d,) in db(programme).execute(
            "SELECT detail FROM audit_log WHERE action = 'research_export'"
        )
    ]
    assert details == [f"{fmt} long, 0 rows", f"{fmt} wide, 0 rows"]


def test_export_refuses_an_unknown_format_in_one_line(programme: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "--programme", "p1", "--format", "xlsx",
                                      "--out", str(tmp_path / "x"), "--config", str(programme)])  # fmt: skip
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: --format must be one of csv, json, sav, dta, datapackage, got 'xlsx'"]
    assert not (tmp_path / "x").exists()


def test_export_labels_follow_the_programme_language(cfg: Path, tmp_path: Path) -> None:
    code, output = cli(cfg, "programme", "add", "--name", "de1", "--timezone", "Europe/Berlin",
                       "--language", "de")  # fmt: skip
    assert code == 0, output
    code, output = cli(
        cfg, "export", "--programme", "de1", "--format", "sav", "--out", str(tmp_path)
    )
    assert code == 0, output
    _, meta = pyreadstat.read_sav(tmp_path / "responses.sav")
    assert meta.variable_value_labels["safe_now"] == {
        1.0: "Ja", 0.0: "Nein", -7.0: "skipped", -8.0: "not asked (skip logic)", -9.0: "not reached"
    }  # fmt: skip


def test_export_of_answers_the_survey_cannot_code_is_one_line(
    programme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kw: object) -> list[Path]:
        raise ExportError("item fear: a stored answer 'x' is not a number")

    monkeypatch.setattr("bot.cli.datarights.write_export", refuse)
    result = CliRunner().invoke(app, ["export", "--programme", "p1", "--format", "sav",
                                      "--out", str(tmp_path / "x"), "--config", str(programme)])  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        "error: nothing exported: item fear: a stored answer 'x' is not a number"
    ]
