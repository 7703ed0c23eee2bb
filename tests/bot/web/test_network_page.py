"""The network role's one page: the pooled report, audited; every other page refuses it."""

from __future__ import annotations

import httpx

from bot.runtime.app import App
from bot.web.dashboard import Dashboard
from bot.web.security import ROUTE_ROLES
from tests.bot.datarights.test_network_report import (
    SMALL,
    assert_small_programme_hidden,
    pooled_world,
)
from tests.bot.web.conftest import account, password_step


async def test_the_network_role_sees_the_pooled_report_and_nothing_else(
    app: App, dashboard: Dashboard, client: httpx.AsyncClient
) -> None:
    await pooled_world(app)
    member = await account(app, "net", "network")
    response = await password_step(client, member.name)
    assert response.status_code == 303 and response.headers["location"] == "/staff/network"
    page = await client.get("/staff/network")
    assert page.status_code == 200
    assert SMALL in page.text and "out-9" not in page.text
    assert_small_programme_hidden(page.text)
    audited = await app.db.fetchall("SELECT actor FROM audit_log WHERE action = 'network_report'")
    assert [r[0] for r in audited] == ["net (web)"]
    others = [
        route for route in dashboard.asgi().routes if getattr(route, "name", "") in ROUTE_ROLES
    ]
    refused = 0
    for route in others:
        name, path = route.name, route.path  # type: ignore[attr-defined]
        if name in ("network", "logout", "login", "login_post", "static") or "{" in path:
            continue
        methods = route.methods or {"GET"}  # type: ignore[attr-defined]
        method = "POST" if "POST" in methods else "GET"
        answer = await client.request(method, "/staff" + path, data={"csrf": "x"})
        assert answer.status_code == 403, (name, answer.status_code)
        refused += 1
    assert refused >= 10


async def test_other_roles_do_not_reach_the_network_page(
    app: App, client: httpx.AsyncClient
) -> None:
    member = await account(app, "prog", "programme")
    await password_step(client, member.name)
    assert (await client.get("/staff/network")).status_code == 403
