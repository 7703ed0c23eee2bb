"""A dashboard on the test app, an httpx client over ASGI, and staff that can log in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest

from bot.enrolment.requests import enrol_request
from bot.runtime.app import App
from bot.schedule.waves import list_waves
from bot.store.staff import StaffMember
from bot.web.auth import Accounts
from bot.web.dashboard import Dashboard
from tests.bot.escalation.conftest import add_staff

PASSWORD = "correct horse battery"
BASE = "http://127.0.0.1"


def desk_of(app: App) -> Dashboard:
    """The dashboard wired as ``followup run`` wires it (bot/cli/service.py)."""
    return Dashboard(
        app.stores,
        app.config,
        app.desk,
        wake=app.dispatcher.wake,
        list_waves=lambda scope: list_waves(app.stores, scope),
        enrol=lambda request, actor, scope: enrol_request(
            app.stores, app.config, app.service.survey, request, actor, scope
        ),
    )


def accounts_of(app: App) -> Accounts:
    return Accounts(app.stores.db, app.stores.ring, app.stores.staff, app.stores.clock)


@pytest.fixture
def dashboard(app: App) -> Dashboard:
    return desk_of(app)


@pytest.fixture
async def client(dashboard: Dashboard) -> AsyncIterator[httpx.AsyncClient]:
    from starlette.applications import Starlette

    web = Starlette(routes=list(dashboard.routes()))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


async def account(app: App, name: str, role: str) -> StaffMember:
    member = await add_staff(app, name, role=role)
    await accounts_of(app).set_password(name, PASSWORD, "test")
    return member


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def password_step(
    client: httpx.AsyncClient, name: str, password: str = PASSWORD
) -> httpx.Response:
    page = await client.get("/staff/login")
    return await client.post(
        "/staff/login", data={"csrf": csrf_of(page.text), "name": name, "password": password}
    )


async def totp_code(app: App, member: StaffMember) -> str:
    secret = await accounts_of(app).totp_secret(member)
    return pyotp.TOTP(secret).at(app.service.clock.now())


async def log_in(app: App, client: httpx.AsyncClient, member: StaffMember) -> str:
    """Password, then (wss/admin) TOTP; returns the CSRF token of the full session."""
    response = await password_step(client, member.name)
    assert response.status_code == 303, response.text
    if response.headers["location"] == "/staff/totp":
        page = await client.get("/staff/totp")
        code = await totp_code(app, member)
        response = await client.post("/staff/totp", data={"csrf": csrf_of(page.text), "code": code})
        assert response.status_code == 303 and response.headers["location"] == "/staff/"
    home = await client.get("/staff/", follow_redirects=True)
    assert home.status_code == 200
    return csrf_of(home.text)
