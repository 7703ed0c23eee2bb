"""Migration 10 on a database made with the schema before it: everything lands in
'default', foreign keys intact; programmes need an organisation once there are two."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.crypto import KeyRing
from bot.store.db import Database
from bot.store.organisations import OrganisationError
from bot.store.scope import Scope
from bot.store.stores import Stores
from tests.bot.conftest import START
from tests.bot.support_old_schema import old_database


async def test_an_old_database_opens_in_default(tmp_path: Path) -> None:
    old_database(tmp_path / "old.db")
    db = await Database.open(tmp_path / "old.db")
    try:
        stores = Stores.over(db, KeyRing.generate(), ManualClock(START))
        assert [o.name for o in await stores.organisations.all()] == ["default"]
        (berlin,) = await stores.programmes.all(Scope.installation())
        assert berlin.name == "berlin" and berlin.organisation_id == 1
        wanda = await stores.staff.by_name("wanda")
        assert wanda is not None and wanda.organisation_ids == frozenset({1})
        assert wanda.organisation_names == ("default",)
        on_call, _ = await stores.staff.routes(berlin.id)
        assert [m.name for m in on_call] == ["wanda"]
        assert [m.name for m in await stores.staff.fallback(berlin.id)] == ["wanda"]
        assert await db.fetchall("PRAGMA foreign_key_check") == []
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
        async with db.transaction() as tx:
            with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
                await tx.execute(
                    "INSERT INTO staff (name, role, created_at) VALUES ('x', 'boss', 'x')"
                )
    finally:
        await db.close()


async def test_a_second_organisation_makes_the_organisation_required(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "new.db")
    try:
        stores = Stores.over(db, KeyRing.generate(), ManualClock(START))
        async with db.transaction() as tx:
            await stores.programmes.add(tx, "one", START)  # the only organisation: default
            north = await stores.organisations.add(tx, "north", "de", START)
        async with db.transaction() as tx:
            with pytest.raises(OrganisationError, match="--org"):
                await stores.programmes.add(tx, "two", START)
        async with db.transaction() as tx:
            await stores.programmes.add(tx, "two", START, organisation_id=north.id)
        in_north = Scope(frozenset({north.id}), "programme", "t")
        assert [p.name for p in await stores.programmes.all(in_north)] == ["two"]
        assert await stores.programmes.by_name("one", in_north) is None
        audited = await db.fetchall(
            "SELECT actor, subject, detail FROM audit_log WHERE action = 'outside_scope'"
        )
        assert [tuple(r) for r in audited] == [("t", "one", "programme")]
    finally:
        await db.close()
