"""Route-by-role matrix: every staff route, every role, no login; answers never reach programme."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from bot.runtime.app import App
from bot.store.scope import Scope
from bot.web.security import ROUTE_ROLES
from conversations.answers import Answer
from tests.bot.conftest import enrol_console
from tests.bot.escalation.conftest import last_code, say, start_t0

from .conftest import BASE, account, log_in

SECRET_ANSWER = "ZEBRA-PLUM-4471"
PUBLIC = {"login", "login_post", "static"}


def requests(code: str, pseudonym: str) -> dict[str, tuple[str, str]]:
    """Every guarded route name -> (method, path); kept complete by a test below."""
    return {
        "totp": ("GET", "/staff/totp"),
        "totp_post": ("POST", "/staff/totp"),
        "totp_qr": ("GET", "/staff/totp/qr.svg"),
        "logout": ("POST", "/staff/logout"),
        "home": ("GET", "/staff/"),
        "queue": ("GET", "/staff/escalations"),
        "queue_json": ("GET", "/staff/escalations.json"),
        "escalation": ("GET", f"/staff/escalations/{code}"),
        "escalation_ack": ("POST", f"/staff/escalations/{code}/ack"),
        "escalation_resolve": ("POST", f"/staff/escalations/{code}/resolve"),
        "escalation_note": ("POST", f"/staff/escalations/{code}/note"),
        "participants": ("GET", "/staff/participants"),
        "participant": ("GET", f"/staff/participants/{pseudonym}"),
        "waves": ("GET", "/staff/waves"),
        "programmes": ("GET", "/staff/programmes"),
        "report": ("GET", "/staff/programmes/demo/report"),
        "enrol": ("GET", "/staff/enrol"),
        "enrol_post": ("POST", "/staff/enrol"),
        "staff": ("GET", "/staff/staff"),
        "staff_change": ("POST", "/staff/staff/nobody/unlock"),
        "audit": ("GET", "/staff/audit"),
        "network": ("GET", "/staff/network"),
    }


async def world(app: App) -> tuple[str, str]:
    """A partner whose survey raised URGENT, with a distinctive answer stored for her."""
    her = await enrol_console(app)
    await start_t0(app)
    await say(app, "2")
    await say(app, "1")
    code = await last_code(app)
    async with app.db.transaction() as tx:
        await app.service.answers.save(
            tx, her.id, "T0", "free_text", Answer(SECRET_ANSWER), app.service.clock.now()
        )
    return code, her.pseudonym


def test_every_route_is_in_the_table_and_the_matrix() -> None:
    assert set(requests("E-X", "P-X")) == set(ROUTE_ROLES) - PUBLIC


async def test_every_route_refused_without_login(app: App, client: httpx.AsyncClient) -> None:
    code, pseudonym = await world(app)
    for name, (method, path) in requests(code, pseudonym).items():
        response = await client.request(method, path, data={"csrf": "x", "note": "n"})
        if method == "GET" and not name.endswith("_json"):
            assert response.status_code == 303, name
            assert response.headers["location"] == "/staff/login", name
        else:
            assert response.status_code == 403, name
        assert SECRET_ANSWER not in response.text and pseudonym not in response.text, name
    assert (await app.desk.find(code, Scope.installation())).state == "open"


@pytest.mark.parametrize("role", ["wss", "programme", "admin"])
async def test_route_by_role_matrix(app: App, dashboard: object, role: str) -> None:
    code, pseudonym = await world(app)
    member = await account(app, f"{role}-user", role)
    for number, (name, (method, path)) in enumerate(requests(code, pseudonym).items()):
        if name == "logout":
            continue  # checked separately: it ends the session the matrix uses
        # One client address per login: the matrix logs in more often than one address may.
        transport = httpx.ASGITransport(app=_web(dashboard), client=(f"10.0.0.{number}", 4000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            csrf = await log_in(app, client, member)
            response = await client.request(method, path, data={"csrf": csrf, "note": "n"})
            allowed = role in (ROUTE_ROLES[name] or ())
            if allowed:
                assert response.status_code in (200, 303, 400, 401, 404), (
                    name,
                    response.status_code,
                )
            else:
                assert response.status_code == 403, (name, role, response.status_code)
            if role != "wss":
                assert SECRET_ANSWER not in response.text, (name, role)
        app.service.clock.advance(timedelta(seconds=31))  # a fresh TOTP step for the next login


async def test_wss_sees_her_answers_audited_programme_never(app: App, dashboard: object) -> None:
    code, pseudonym = await world(app)
    seen = {}
    for role in ("wss", "programme", "admin"):
        member = await account(app, role, role)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_web(dashboard)), base_url=BASE
        ) as client:
            await log_in(app, client, member)
            bodies = [
                (await client.get(path)).text
                for method, path in requests(code, pseudonym).values()
                if method == "GET"
            ]
            seen[role] = any(SECRET_ANSWER in b for b in bodies)
        app.service.clock.advance(timedelta(seconds=31))
    assert seen == {"wss": True, "programme": False, "admin": False}
    audited = await app.db.fetchall(
        "SELECT actor FROM audit_log WHERE action = 'answers_viewed' AND subject = ?", (pseudonym,)
    )
    assert [r[0] for r in audited] == ["wss (web)"]


def _web(dashboard: object) -> object:
    from starlette.applications import Starlette

    return Starlette(routes=list(dashboard.routes()))  # type: ignore[attr-defined]


async def test_only_the_wss_sees_her_safe_window(app: App, dashboard: object) -> None:
    her = await enrol_console(app, "console:wendy", windows="tue,thu 14:00-16:00")
    pseudonym = her.pseudonym
    shown = {}
    for role in ("wss", "programme", "admin"):
        member = await account(app, f"{role}-w", role)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_web(dashboard)), base_url=BASE
        ) as client:
            await log_in(app, client, member)
            page = await client.get(f"/staff/participants/{pseudonym}")
            assert page.status_code in (200, 403), (role, page.status_code)
            shown[role] = "14:00-16:00" in page.text or "Safe window" in page.text
        app.service.clock.advance(timedelta(seconds=31))
    assert shown == {"wss": True, "programme": False, "admin": False}
