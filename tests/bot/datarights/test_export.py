"""Research export: columns and codebook follow the survey file; nothing identifies her."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import yaml

from bot.datarights.export import FORMATS, SKIPPED, write_export
from bot.runtime.app import App
from bot.store import timepoints as tps
from bot.store.research import all_records
from conversations.answers import Answer

from ..conftest import add_programme
from .support_datarights import ADDRESS, PHONE, answered_t0, say

FREE_TEXT = "he waits at Rosenweg 12"
SURVEY_FILE = Path(__file__).resolve().parents[3] / "conversations" / "surveys" / "partner.yaml"


def survey_yaml() -> dict[str, object]:
    data = yaml.safe_load(SURVEY_FILE.read_text())
    assert isinstance(data, dict)
    return data


async def exported(app: App, tmp_path: Path) -> tuple[Path, list[str]]:
    await add_programme(app, "demo", on_withdrawal="keep_anonymous")
    her = await answered_t0(app)
    other = await answered_t0(app, "console:other")
    await say(app, "withdraw", "console:other")
    now = app.service.clock.now()
    async with app.db.transaction() as tx:
        await tps.ensure(tx, her.id, "T1", None)
        await tps.update(tx, her.id, "T1", state="completed", ended_at=now)
        await app.service.answers.save(
            tx, her.id, "T1", "impact", Answer(["afraid", "sleep_problems"]), now
        )
        await app.service.answers.save(tx, her.id, "T1", "fear", Answer(None, skipped=True), now)
        await app.service.answers.save(tx, her.id, "T1", "comments", Answer(FREE_TEXT), now)
    records = await all_records(app.db, app.ring, her.programme_id)
    for fmt in FORMATS:
        write_export(tmp_path / "out" / fmt, fmt, app.service.survey, records)
        write_export(tmp_path / "out" / f"{fmt}-wide", fmt, app.service.survey, records, wide=True)
    return tmp_path / "out", [her.id, her.pseudonym, other.id, other.pseudonym]


async def test_columns_codebook_and_summary_follow_the_survey(app: App, tmp_path: Path) -> None:
    out, _ = await exported(app, tmp_path)
    items = [i for i in survey_yaml()["items"] if i["type"] not in ("info", "text")]  # type: ignore[index,union-attr]
    ids = [i["id"] for i in items]
    with (out / "csv" / "responses.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    meta = ["research_id", "timepoint", "week", "state", "consent", "consent_version"]
    assert list(rows[0]) == [*meta, *ids]
    at_t0 = {(r["consent"], r["consent_version"]) for r in rows if r["timepoint"] == "T0"}
    assert at_t0 == {("yes", "v1")}  # hers, and the withdrawn woman's anonymous row
    assert "comments" not in rows[0]  # free text never leaves
    assert sorted((r["timepoint"], r["state"]) for r in rows) == [
        ("T0", "completed"), ("T0", "completed"), ("T1", "completed"),
    ]  # fmt: skip
    t1 = next(r for r in rows if r["timepoint"] == "T1")
    assert t1["impact"] == "afraid;sleep_problems" and t1["fear"] == SKIPPED
    assert t1["safe_now"] == ""  # not asked
    assert t1["week"] == "2026-W48"
    t0s = [r for r in rows if r["timepoint"] == "T0"]
    assert all(r["safe_now"] == "yes" for r in t0s)  # the withdrawn woman's answers were kept
    assert len({r["research_id"] for r in rows}) == 2
    assert next(r for r in t0s if r["research_id"] == t1["research_id"])

    with (out / "csv" / "codebook.csv").open() as handle:
        book = {r["column"]: r for r in csv.DictReader(handle)}
    assert list(book) == [*meta, *ids]
    for item in items:
        entry = book[item["id"]]
        assert entry["type"] == item["type"]
        assert entry["timepoints"] == " ".join(
            item.get("timepoints", ["T0", "T1", "T2", "T3", "T4"])
        )
        text = item["text"]
        if isinstance(text, str):
            assert entry["text_baseline"] in ("", text) and text in (
                entry["text_baseline"],
                entry["text_followup"],
            )
        else:
            assert entry["text_baseline"] == text["baseline"]
            assert entry["text_followup"] == text["followup"]
        for choice in item.get("choices", []):
            assert f"{choice['code']}={choice['label']}" in entry["value_labels"]
        assert ("Kroenke" in entry["attribution"]) == (item.get("attribution") == "phq4")

    data = json.loads((out / "json" / "responses.json").read_text())
    t1j = next(r for r in data["rows"] if r["timepoint"] == "T1")
    assert t1j["impact"] == ["afraid", "sleep_problems"] and t1j["safe_now"] is None
    summary = json.loads((out / "json" / "summary.json").read_text())["rows"]
    assert summary[0] == {"timepoint": "T0", "planned": 2, "invited": 2, "completed": 2,
                          "declined": 0, "missed": 0, "withdrawn": 0}  # fmt: skip


async def test_export_names_no_one(app: App, tmp_path: Path) -> None:
    out, identities = await exported(app, tmp_path)
    files = [f for f in out.rglob("*") if f.is_file()]
    # responses, codebook, summary, dictionary per format and layout; the package's descriptor
    assert len(files) == len(FORMATS) * 2 * 4 + 2
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert not [d for d in out.rglob(".export-*")]  # no temporary directory left behind
    blob = b"".join(f.read_bytes() for f in files)
    for needle in [*identities, PHONE, ADDRESS, "console:other", FREE_TEXT, "Rosenweg"]:
        assert needle.encode() not in blob, needle
