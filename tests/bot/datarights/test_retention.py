"""Retention with a controlled clock: dry run counts, the real run deletes, at the right day."""

from __future__ import annotations

from datetime import timedelta

from bot.channels.base import Inbound
from bot.clock import ManualClock, iso
from bot.datarights.actions import withdraw
from bot.datarights.retention import RetentionJob, run_retention
from bot.runtime.app import App
from bot.store import timepoints as tps

from .support_datarights import answered_t0


async def finish_all_timepoints(app: App, pid: str) -> None:
    now = app.service.clock.now()
    async with app.db.transaction() as tx:
        for tp in ("T1", "T2", "T3", "T4"):
            await tps.ensure(tx, pid, tp, None)
            await tps.update(tx, pid, tp, state="missed" if tp == "T2" else "completed",
                             ended_at=iso(now))  # fmt: skip


async def snapshot(app: App) -> dict[str, int]:
    out = {}
    for table in ("sessions", "outbox", "transcript", "inbound_seen", "counters"):
        row = await app.db.fetchone(f"SELECT COUNT(*) FROM {table}")
        out[table] = int(row[0]) if row else 0
    row = await app.db.fetchone("SELECT COUNT(*) FROM participants WHERE address_enc IS NOT NULL")
    out["with_contact"] = int(row[0]) if row else 0
    return out


async def test_dry_run_then_real_run(app: App, clock: ManualClock) -> None:
    done = await answered_t0(app, "console:done")
    await finish_all_timepoints(app, done.id)
    leaving = await answered_t0(app, "console:leaving")
    # staff complete her withdrawal (§1.5)
    await withdraw(app.stores, app.service.delete_chat, leaving, "cli:worker")
    ongoing = await answered_t0(app, "console:ongoing")  # T1-T4 still ahead
    async with app.db.transaction() as tx:
        await tps.ensure(tx, ongoing.id, "T1", None)
    # A redelivery-guard row (strangers leave none: only a counter, DESIGN.md §1.6).
    await app.service.handle_inbound(Inbound("console", "console:ongoing", "hi", provider_id="u1"))
    await app.service.handle_inbound(Inbound("console", "console:stranger", "hi"))  # a counter
    config = app.config.retention

    clock.advance(timedelta(days=10))
    early = await run_retention(app.db, config, clock.now(), dry_run=True)
    assert early["contact_details"] == 0 and early["sessions"] == 0 and early["inbound_seen"] == 0

    clock.advance(timedelta(days=5))  # day 15: de-duplication entries (14 days) go
    assert (await run_retention(app.db, config, clock.now(), dry_run=True))["inbound_seen"] == 1

    clock.advance(timedelta(days=20))  # day 35: operational records (30 days) go
    before = await snapshot(app)
    plan = await run_retention(app.db, config, clock.now(), dry_run=True)
    assert await snapshot(app) == before  # a dry run changes nothing
    assert plan["contact_details"] == 0
    assert plan["sessions"] == before["sessions"] > 0
    assert plan["outbox"] == before["outbox"] > 0
    assert plan["transcript"] == before["transcript"] > 0
    assert plan["counters"] == before["counters"] == 1
    done_counts = await run_retention(app.db, config, clock.now())
    assert done_counts == plan
    after = await snapshot(app)
    assert {k: v for k, v in after.items() if k != "with_contact"} == dict.fromkeys(
        ("sessions", "outbox", "transcript", "inbound_seen", "counters"), 0
    )
    assert after["with_contact"] == 3

    clock.advance(timedelta(days=54))  # day 89: not yet 90 days after her last timepoint
    assert (await run_retention(app.db, config, clock.now(), dry_run=True))["contact_details"] == 0
    clock.advance(timedelta(days=2))  # day 91
    assert (await run_retention(app.db, config, clock.now(), dry_run=True))["contact_details"] == 2
    assert (await run_retention(app.db, config, clock.now()))["contact_details"] == 2
    rows = await app.db.fetchall(
        "SELECT id, address_enc, address_idx, safe_hash, contact_deleted_at FROM participants"
    )
    gone = {r["id"] for r in rows if r["address_enc"] is None}
    assert ongoing.id not in gone and done.id in gone and len(gone) == 2
    assert all(r["address_idx"] is None and r["safe_hash"] is None for r in rows if r["id"] in gone)
    # Her coded answers stay for research.
    row = await app.db.fetchone("SELECT COUNT(*) FROM answers WHERE participant_id = ?", (done.id,))
    assert row is not None and row[0] > 10
    assert (await run_retention(app.db, config, clock.now(), dry_run=True))["contact_details"] == 0


async def test_daily_job_runs_once_a_day_at_its_time(app: App, clock: ManualClock) -> None:
    job = RetentionJob(app.db, app.config.retention, clock)
    clock.set(job.due_at(clock.now()) - timedelta(minutes=1))
    assert await job.tick() is None
    clock.advance(timedelta(minutes=2))
    assert await job.tick() is not None
    assert await job.tick() is None  # done today (read back from the audit log)
    clock.advance(timedelta(days=1))
    assert await job.tick() is not None
    await job.start()
    await job.stop()
