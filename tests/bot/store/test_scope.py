"""Scope: the installation reaches every organisation, staff only theirs, operator and
network staff no individual row; the SQL condition says exactly that."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.store.db import Database
from bot.store.scope import Scope


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    organisation_ids: frozenset[int]


def test_the_installation_reaches_everything() -> None:
    scope = Scope.installation()
    assert not scope.limited and scope.covers(7) and scope.covers(None)
    assert scope.condition("g.organisation_id") == ("1 = 1", ())
    assert scope.actor == "cli"


def test_a_worker_reaches_her_organisations_only() -> None:
    scope = Scope.of(Member("ana", "wss", frozenset({3, 1})), "web")
    assert scope.limited and scope.covers(1) and scope.covers(3)
    assert not scope.covers(2) and not scope.covers(None)
    assert scope.condition("g.organisation_id") == ("g.organisation_id IN (?,?)", (1, 3))
    assert scope.actor == "ana (web)"


@pytest.mark.parametrize("role", ["operator", "network"])
def test_operator_and_network_staff_reach_no_row(role: str) -> None:
    scope = Scope.of(Member("olga", role, frozenset({1})), "cli")
    assert scope.limited and not scope.covers(1)
    assert scope.condition("x") == ("0 = 1", ())


async def test_the_condition_filters_in_sql() -> None:
    db = await Database.open(":memory:")
    try:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO organisations (id, name, created_at) VALUES (2, 'b', 'x')"
            )
            for pid, org in ((1, 1), (2, 2)):
                await tx.execute(
                    "INSERT INTO programmes (id, name, organisation_id, created_at)"
                    " VALUES (?, ?, ?, 'x')",
                    (pid, f"p{pid}", org),
                )
        for scope, expected in (
            (Scope.installation(), ["p1", "p2"]),
            (Scope(frozenset({2}), "wss", "t"), ["p2"]),
            (Scope(frozenset(), "network", "t"), []),
        ):
            where, ids = scope.condition("organisation_id")
            rows = await db.fetchall(
                f"SELECT name FROM programmes WHERE {where} ORDER BY name", ids
            )
            assert [r[0] for r in rows] == expected
    finally:
        await db.close()
