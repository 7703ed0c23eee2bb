"""``GET /healthz`` (the process answers) and ``GET /readyz`` (database reachable, migrations
current) for a load balancer: 503 with the reason when not ready, never a traceback."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.runtime.serve import build_web
from bot.store.db import Database
from bot.store.schema import MIGRATIONS


async def get(db: Database, path: str) -> httpx.Response:
    web = build_web([], db.not_ready)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://127.0.0.1"
    ) as client:
        return await client.get(path)


async def test_a_migrated_database_is_ready(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "f.db")
    try:
        ready = await get(db, "/readyz")
        assert (ready.status_code, ready.text) == (200, "ready")
        assert (await get(db, "/healthz")).text == "ok"
    finally:
        await db.close()


async def test_migrations_behind_the_code_are_not_ready(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "f.db")
    try:
        await db.conn.execute(f"PRAGMA user_version={len(MIGRATIONS) - 1}")
        response = await get(db, "/readyz")
        assert response.status_code == 503
        assert (
            response.text
            == f"not ready: migrations behind ({len(MIGRATIONS) - 1} of {len(MIGRATIONS)})"
        )
        assert (await get(db, "/healthz")).status_code == 200  # alive, only not ready
    finally:
        await db.close()


async def test_an_unreachable_database_is_not_ready_and_says_no_more(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "f.db")
    await db.close()
    response = await get(db, "/readyz")
    assert (response.status_code, response.text) == (503, "not ready: database unreachable")
    assert "Traceback" not in response.text


def test_no_readiness_route_without_a_readiness_check() -> None:
    assert "/readyz" not in {getattr(r, "path", "") for r in build_web([]).routes}
