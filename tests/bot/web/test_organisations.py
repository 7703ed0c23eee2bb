"""Route x role x organisation: staff of A never see a row of B, and B's objects are 404.

The routes are read from the dashboard's own Starlette app, so a new route (JSON or an
event stream included) is in the matrix the day it is added; a path parameter the matrix
cannot fill fails the test until it is taught one of B's objects for it.
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from bot.enrolment.rules import enrol
from bot.runtime.app import App
from bot.store.consent import Consent
from bot.store.scope import Scope
from bot.web.dashboard import Dashboard
from bot.web.security import ROUTE_ROLES
from conversations.answers import Answer
from tests.bot.escalation.conftest import say

from .conftest import BASE, PASSWORD, account, accounts_of, log_in, password_step
from .test_roles import world

B_ORG, B_PROGRAMME, B_WORKER = "bravo-org", "bravo-prog", "bravo-worker"
B_SECRET = "QUINCE-OTTER-8812"
B_ADDRESS = "console:bella"
#: The organisation-scoped roles; operator and network reach no individual row at all.
ROLES = ("wss", "programme", "admin", "operator", "network")


async def organisation_b(app: App) -> dict[str, str]:
    """B with a programme, a WSS worker and a partner whose survey raised URGENT."""
    now = app.stores.clock.now()
    async with app.db.transaction() as tx:
        org = await app.stores.organisations.add(tx, B_ORG, "en", now)
        programme_id = await app.service.programmes.add(
            tx, B_PROGRAMME, now, timezone="Europe/London", organisation_id=org.id
        )
        await app.staff.add(
            tx, name=B_WORKER, role="wss", language="en", now=now, organisation_ids=[org.id]
        )
    her = await enrol(
        app.stores, app.config, app.service.survey, programme_id=programme_id,
        channel="console", language="en", timezone="Europe/London", today=date(2026, 11, 24),
        now=now, consent=Consent("v1", date(2026, 11, 20), "Test Worker"), address=B_ADDRESS,
        safe_word="pineapple",
    )  # fmt: skip
    await app.service.begin_contact(her.id, "T0")
    await app.dispatcher.drain_all()
    for text in ("yes", "yes", "2", "1"):  # gate, consent, not safe, help today
        await say(app, text, B_ADDRESS)
    row = await app.db.fetchone(
        "SELECT code FROM escalations WHERE participant_id = ? ORDER BY id DESC", (her.id,)
    )
    assert row is not None
    async with app.db.transaction() as tx:
        await app.service.answers.save(tx, her.id, "T0", "free_text", Answer(B_SECRET), now)
    return {"code": str(row[0]), "pseudonym": her.pseudonym, "name": B_PROGRAMME,
            "member": B_WORKER, "action": "unlock"}  # fmt: skip


def routes_of(dashboard: Dashboard) -> list[tuple[str, str, str, list[str]]]:
    """(name, method, path template, path parameters) of every route of the dashboard."""
    found = []
    for route in dashboard.asgi().routes:
        if isinstance(route, Mount):
            continue  # static files: no data
        assert isinstance(route, Route), route
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((route.name, method, "/staff" + route.path, list(route.param_convertors)))
    return found


def markers_of(b: dict[str, str]) -> list[str]:
    return [b["code"], b["pseudonym"], B_PROGRAMME, B_WORKER, B_SECRET, B_ORG]


def _web(dashboard: Dashboard) -> Starlette:
    return Starlette(routes=list(dashboard.routes()))


def test_the_matrix_reads_every_route_of_the_table(dashboard: Dashboard) -> None:
    names = {name for name, *_ in routes_of(dashboard)}
    assert names == set(ROUTE_ROLES) - {"static"}
    assert {"queue_json", "escalation", "participant", "report"} <= names


@pytest.mark.parametrize("role", ROLES)
async def test_staff_of_a_see_no_row_of_b_and_get_404_on_bs_objects(
    app: App, dashboard: Dashboard, role: str
) -> None:
    await world(app)
    member = await account(app, f"{role}-of-a", role)  # in 'default', the only one so far
    b = await organisation_b(app)
    if role in ("operator", "network"):
        async with app.db.transaction() as tx:
            await app.staff.set_organisations(tx, member.id, [])
    markers = markers_of(b)
    for number, (name, method, template, params) in enumerate(routes_of(dashboard)):
        if name == "logout":
            continue  # it ends the session the matrix uses
        path = template.format(**{p: b[p] for p in params})  # KeyError: teach the matrix
        transport = httpx.ASGITransport(app=_web(dashboard), client=(f"10.1.0.{number}", 4000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            csrf = await log_in(app, client, member) if role not in ("operator", "network") else ""
            if not csrf:
                await _password_only(app, client, member.name)
            data = {"csrf": csrf, "note": "n", "programme": B_PROGRAMME, "channel": "console",
                    "consent_version": "v1", "consent_date": "2026-01-01", "consent_by": "x"}  # fmt: skip
            response = await client.request(method, path, data=data)
        seen = response.text + response.headers.get("location", "")
        if name == "enrol_post" and role == "programme":
            # she typed B's name: the answer is the one for a name that does not exist
            assert response.status_code == 400 and "no programme named" in seen
            seen = seen.replace(B_PROGRAMME, "")
        if name == "network" and role == "network":
            # the pooled report names every pooling programme; its figures are protected
            # (tests/bot/datarights/test_network_report.py)
            seen = seen.replace(B_PROGRAMME, "")
        for marker in markers:
            assert marker not in seen, (role, name, marker)
        allowed = role in (ROUTE_ROLES.get(name) or ())
        if params and allowed:
            assert response.status_code == 404, (role, name, response.status_code)
        elif not allowed and ROUTE_ROLES.get(name) is not None:
            assert response.status_code == 403, (role, name, response.status_code)
        app.service.clock.advance(timedelta(seconds=31))  # a fresh TOTP step for the next login
    state = await app.db.fetchone("SELECT state FROM escalations WHERE code = ?", (b["code"],))
    assert state is not None and state[0] == "open"
    notes = await app.db.fetchall(
        "SELECT 1 FROM escalation_notes AS n JOIN escalations AS e ON e.id = n.escalation_id"
        " WHERE e.code = ?",
        (b["code"],),
    )
    assert notes == []
    b_partners = await app.db.fetchall(
        "SELECT 1 FROM participants AS p JOIN programmes AS g ON g.id = p.programme_id"
        " WHERE g.name = ?",
        (B_PROGRAMME,),
    )
    assert len(b_partners) == 1  # the enrol form did not add one to B
    audited = await app.db.fetchall(
        "SELECT subject, detail FROM audit_log WHERE action = 'outside_scope' AND actor = ?",
        (f"{member.name} (web)",),
    )
    expected = {
        "wss": {(b["code"], "escalation"), (b["pseudonym"], "participant")},
        "programme": {(b["pseudonym"], "participant"), (B_PROGRAMME, "programme")},
        "admin": {(B_WORKER, "staff")},
        "operator": set(),
        "network": set(),
    }[role]
    assert {(r[0], r[1]) for r in audited} == expected


async def _password_only(app: App, client: httpx.AsyncClient, name: str) -> None:
    response = await password_step(client, name)
    assert response.status_code == 303, response.text


async def test_each_organisation_sees_its_own_rows(app: App, dashboard: Dashboard) -> None:
    """The control: A's worker sees A's partner and alert, B's worker B's, neither the other."""
    a_code, a_pseudonym = await world(app)
    a_worker = await account(app, "wss-a", "wss")
    b = await organisation_b(app)
    b_worker = await app.staff.by_name(B_WORKER)
    assert b_worker is not None

    await accounts_of(app).set_password(B_WORKER, PASSWORD, "test")
    seen = {}
    for number, member in enumerate((a_worker, b_worker)):
        transport = httpx.ASGITransport(app=_web(dashboard), client=(f"10.2.0.{number}", 4000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            await log_in(app, client, member)
            queue = (await client.get("/staff/escalations.json")).text
            people = (await client.get("/staff/participants")).text
            header = (await client.get("/staff/escalations")).text
            seen[member.name] = (queue, people, header)
        app.service.clock.advance(timedelta(seconds=31))
    queue, people, header = seen["wss-a"]
    assert a_code in queue and b["code"] not in queue
    assert a_pseudonym in people and b["pseudonym"] not in people
    assert "default" in header and B_ORG not in header
    queue, people, header = seen[B_WORKER]
    assert b["code"] in queue and a_code not in queue
    assert b["pseudonym"] in people and a_pseudonym not in people
    assert B_ORG in header
    assert await app.desk.find(b["code"], Scope.installation())
