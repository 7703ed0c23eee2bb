"""An organisation's export holds only its own rows, under research ids no other
organisation's export shares or can be linked to."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.datarights.export import write_export
from bot.runtime.app import App
from bot.store.research import all_records, research_id_for
from bot.store.scope import Scope
from tests.bot.escalation.support_organisations import B_ADDRESS, enrol_in

from .support_datarights import answered_t0, say


async def _answered_in_b(app: App, programme_b: int) -> str:
    her = await enrol_in(app, programme_b, B_ADDRESS)
    await app.service.begin_contact(her.id, "T0")
    await app.dispatcher.drain_all()
    report = await say(app, "yes", B_ADDRESS)
    for _ in range(80):
        report = await say(app, "1", B_ADDRESS)
        if report is None or report.ended:
            break
    return her.id


def _research_ids(out_dir: Path) -> set[str]:
    with (out_dir / "responses.csv").open(newline="") as handle:
        return {row["research_id"] for row in csv.DictReader(handle)}


def _all_text(out_dir: Path) -> str:
    return "".join(path.read_text() for path in sorted(out_dir.iterdir()))


async def test_each_organisation_exports_only_its_rows_under_unlinkable_ids(
    app: App, tmp_path: Path
) -> None:
    her_a = await answered_t0(app)  # programme 'demo' of organisation 'default'
    async with app.db.transaction() as tx:
        org_b = await app.stores.organisations.add(tx, "bravo", "en", app.stores.clock.now())
        programme_b = await app.service.programmes.add(
            tx, "bravo-prog", app.stores.clock.now(), organisation_id=org_b.id
        )
    her_b = await _answered_in_b(app, programme_b)
    demo = await app.service.programmes.by_name("demo", Scope.installation())
    assert demo is not None
    for name, programme_id in (("a", demo.id), ("b", programme_b)):
        records = await all_records(app.db, app.ring, programme_id)
        write_export(tmp_path / name, "csv", app.service.survey, records)
    ids_a, ids_b = _research_ids(tmp_path / "a"), _research_ids(tmp_path / "b")
    assert len(ids_a) == 1 and len(ids_b) == 1 and not ids_a & ids_b
    async with app.db.transaction() as tx:
        assert ids_a == {await research_id_for(tx, app.ring, her_a.id)}
        assert ids_b == {await research_id_for(tx, app.ring, her_b)}
    text_a, text_b = _all_text(tmp_path / "a"), _all_text(tmp_path / "b")
    assert not any(rid in text_a for rid in ids_b) and not any(rid in text_b for rid in ids_a)
    # nothing of her row, her programme or her organisation is in the id: random, sealed
    for rid in ids_a | ids_b:
        for part in (her_a.id, her_b, her_a.pseudonym, "demo", "bravo", "default"):
            assert part.upper() not in rid
