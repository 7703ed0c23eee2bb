"""Login, TOTP, throttling, sessions, CSRF and headers of the staff dashboard."""

from __future__ import annotations

from datetime import timedelta

import httpx

from bot.clock import ManualClock
from bot.runtime.app import App
from bot.store.scope import Scope
from bot.web.dashboard import Dashboard
from bot.web.security import COOKIE
from tests.bot.conftest import START, enrol_console
from tests.bot.escalation.conftest import last_code, say, start_t0

from .conftest import PASSWORD, account, csrf_of, log_in, password_step, totp_code


async def urgent(app: App) -> str:
    await enrol_console(app)
    await start_t0(app)
    await say(app, "2")
    await say(app, "1")
    return await last_code(app)


async def test_csrf_missing_or_wrong_is_refused(app: App, client: httpx.AsyncClient) -> None:
    code = await urgent(app)
    csrf = await log_in(app, client, await account(app, "ana", "wss"))
    for data in ({}, {"csrf": "wrong"}, {"csrf": csrf[:-1]}):
        response = await client.post(f"/staff/escalations/{code}/ack", data=data)
        assert response.status_code == 403
    assert (await app.desk.find(code, Scope.installation())).state == "open"
    response = await client.post(f"/staff/escalations/{code}/ack", data={"csrf": csrf})
    assert response.status_code == 303
    assert (await app.desk.find(code, Scope.installation())).state == "acknowledged"


async def test_login_form_needs_its_csrf_token(app: App, client: httpx.AsyncClient) -> None:
    await account(app, "pat", "programme")
    await client.get("/staff/login")
    response = await client.post("/staff/login", data={"name": "pat", "password": PASSWORD})
    assert response.status_code == 403
    assert COOKIE not in response.cookies


async def test_five_failures_lock_for_fifteen_minutes_audited(
    app: App, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await account(app, "pat", "programme")
    for _ in range(5):
        assert (await password_step(client, "pat", "wrong password!")).status_code == 401
    locked = await password_step(client, "pat")  # the right password, but locked
    assert locked.status_code == 401 and "15 minutes" in locked.text
    clock.advance(timedelta(minutes=14))
    assert (await password_step(client, "pat")).status_code == 401
    clock.advance(timedelta(minutes=1, seconds=1))
    assert (await password_step(client, "pat")).status_code == 303
    actions = [r[0] for r in await app.db.fetchall(
        "SELECT action FROM audit_log WHERE subject = 'pat' ORDER BY id")]  # fmt: skip
    assert actions.count("login_failed") == 5
    assert "login_locked" in actions and actions.count("login_refused_locked") == 2


async def test_unknown_name_and_wrong_password_look_alike(
    app: App, client: httpx.AsyncClient
) -> None:
    await account(app, "pat", "programme")
    a = await password_step(client, "nobody", PASSWORD)
    b = await password_step(client, "pat", "wrong password!")
    assert a.status_code == b.status_code == 401
    assert "wrong name or password" in a.text and "wrong name or password" in b.text


async def test_totp_required_for_wss_and_admin(app: App, client: httpx.AsyncClient) -> None:
    await urgent(app)
    for role in ("wss", "admin"):
        member = await account(app, f"{role}1", role)
        response = await password_step(client, member.name)
        assert response.headers["location"] == "/staff/totp"
        # the password alone opens nothing but the second-factor page
        own = "/staff/escalations" if role == "wss" else "/staff/audit"
        assert (await client.get(own)).headers["location"] == "/staff/totp"
        assert (await client.get("/staff/escalations.json")).status_code == 403
        page = await client.get("/staff/totp")
        assert "/staff/totp/qr.svg" in page.text  # first login: enrolment with a QR code
        qr = await client.get("/staff/totp/qr.svg")
        assert qr.headers["content-type"].startswith("image/svg+xml") and "<svg" in qr.text
        wrong = await client.post(
            "/staff/totp", data={"csrf": csrf_of(page.text), "code": "000000"}
        )
        assert wrong.status_code == 401
        good = await client.post(
            "/staff/totp", data={"csrf": csrf_of(page.text), "code": await totp_code(app, member)}
        )
        assert good.status_code == 303
        assert (await client.get("/staff/")).status_code == 303
        client.cookies.clear()


async def test_programme_logs_in_with_password_only(app: App, client: httpx.AsyncClient) -> None:
    await account(app, "pat", "programme")
    response = await password_step(client, "pat")
    assert response.headers["location"] == "/staff/"
    assert (await client.get("/staff/participants")).status_code == 200


async def test_session_id_changes_at_each_login_step(app: App, client: httpx.AsyncClient) -> None:
    member = await account(app, "ana", "wss")
    client.cookies.set(COOKIE, "planted-by-attacker", domain="127.0.0.1", path="/staff/")
    response = await password_step(client, "ana")
    first = response.cookies[COOKIE]
    assert first != "planted-by-attacker"
    page = await client.get("/staff/totp")
    response = await client.post(
        "/staff/totp", data={"csrf": csrf_of(page.text), "code": await totp_code(app, member)}
    )
    second = response.cookies[COOKIE]
    assert second != first
    stale = httpx.AsyncClient(transport=client._transport, base_url="http://127.0.0.1")
    async with stale:
        stale.cookies.set(COOKIE, first, domain="127.0.0.1", path="/staff/")
        assert (await stale.get("/staff/totp")).headers["location"] == "/staff/login"
    stored = await app.db.fetchall("SELECT id_hash FROM web_sessions")
    assert all(second.encode() not in bytes(r[0]) for r in stored)  # only hashes are stored


async def test_cookie_flags(app: App, dashboard: Dashboard) -> None:
    from starlette.applications import Starlette

    await account(app, "pat", "programme")
    web = Starlette(routes=list(dashboard.routes()))
    for base, secure in (("http://127.0.0.1", False), ("https://desk.example.org", True)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url=base) as c:
            response = await password_step(c, "pat")
            header = next(
                h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE)
            )
            assert "HttpOnly" in header and "SameSite=strict" in header
            assert ("Secure" in header) is secure


async def test_idle_and_absolute_timeouts(
    app: App, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await account(app, "pat", "programme")
    await log_in(app, client, (await app.staff.by_name("pat")))  # type: ignore[arg-type]
    clock.advance(timedelta(minutes=14))
    assert (await client.get("/staff/participants")).status_code == 200
    clock.advance(timedelta(minutes=15, seconds=1))
    assert (await client.get("/staff/participants")).headers["location"] == "/staff/login"
    await log_in(app, client, (await app.staff.by_name("pat")))  # type: ignore[arg-type]
    for _ in range(40):  # active every 14 minutes ...
        clock.advance(timedelta(minutes=14))
        response = await client.get("/staff/participants")
        if response.status_code != 200:
            break
    # ... but never longer than 8 hours
    assert response.headers["location"] == "/staff/login"
    assert clock.now() - START >= timedelta(hours=8)


async def test_security_headers_on_every_staff_response(
    app: App, client: httpx.AsyncClient
) -> None:
    member = await account(app, "pat", "programme")
    responses = [await client.get("/staff/login"), await client.get("/staff/static/desk.css"),
                 await client.get("/staff/escalations"), await client.get("/staff/nothing")]  # fmt: skip
    await log_in(app, client, member)
    responses += [await client.get("/staff/participants"), await client.get("/staff/audit")]
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"


async def test_pages_have_no_inline_script(app: App, client: httpx.AsyncClient) -> None:
    await urgent(app)
    await log_in(app, client, await account(app, "ana", "wss"))
    page = (await client.get("/staff/escalations")).text
    assert '<script src="/staff/static/queue.js" defer></script>' in page
    assert page.count("<script") == 1 and " on" + "click=" not in page


async def test_polling_the_queue_does_not_keep_an_idle_session_alive(
    app: App, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await log_in(app, client, await account(app, "ana", "wss"))
    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        assert (await client.get("/staff/escalations.json")).status_code == 200
    clock.advance(timedelta(minutes=1))
    assert (await client.get("/staff/escalations.json")).status_code == 403


async def code_step(client: httpx.AsyncClient, code: str) -> httpx.Response:
    page = await client.get("/staff/totp")
    return await client.post("/staff/totp", data={"csrf": csrf_of(page.text), "code": code})


async def test_reentering_the_password_never_buys_more_code_guesses(
    app: App, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    member = await account(app, "ana", "wss")
    csrf = await log_in(app, client, member)  # her second factor is set up
    await client.post("/staff/logout", data={"csrf": csrf})
    clock.advance(timedelta(seconds=31))
    for _ in range(4):
        assert (await password_step(client, "ana")).status_code == 303  # the right password
        assert (await code_step(client, "000000")).status_code == 401
    assert (await password_step(client, "ana")).status_code == 303
    assert (await code_step(client, "000000")).status_code == 401  # the fifth: locked
    locked = await password_step(client, "ana")
    assert locked.status_code == 401 and "15 minutes" in locked.text
    actions = [r[0] for r in await app.db.fetchall(
        "SELECT action FROM audit_log WHERE subject = 'ana' ORDER BY id")]  # fmt: skip
    assert actions.count("totp_failed") == 5 and "login_locked" in actions
    detail = await app.db.fetchone("SELECT detail FROM audit_log WHERE action = 'login_locked'")
    assert detail is not None and "second factor" in detail[0]
    clock.advance(timedelta(minutes=15, seconds=1))
    assert (await password_step(client, "ana")).status_code == 303
    assert (await code_step(client, await totp_code(app, member))).status_code == 303


async def test_a_used_code_is_refused_until_the_next_step(
    app: App, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    member = await account(app, "ana", "wss")
    csrf = await log_in(app, client, member)
    used = await totp_code(app, member)
    await client.post("/staff/logout", data={"csrf": csrf})
    assert (await password_step(client, "ana")).status_code == 303
    replayed = await code_step(client, used)
    assert replayed.status_code == 401 and "used already" in replayed.text
    clock.advance(timedelta(seconds=30))  # one step on: the old code still fits the drift window
    late = await code_step(client, used)
    assert late.status_code == 401  # a code at or before the last accepted step, never again
    assert (await code_step(client, await totp_code(app, member))).status_code == 303


async def test_one_address_trying_many_names_is_throttled(
    app: App, dashboard: Dashboard, clock: ManualClock
) -> None:
    from starlette.applications import Starlette

    await account(app, "pat", "programme")
    web = Starlette(routes=list(dashboard.routes()))

    def client_from(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=web, client=(address, 4000))
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")

    async with client_from("203.0.113.7") as sprayer, client_from("198.51.100.2") as other:
        for n in range(20):
            response = await password_step(sprayer, f"name{n}", "guess guess guess")
            assert "wrong name or password" in response.text
        refused = await password_step(sprayer, "pat")  # even the right password, from there
        assert refused.status_code == 401 and "from this address" in refused.text
        assert (await password_step(other, "pat")).status_code == 303
        clock.advance(timedelta(minutes=15))
        assert (await password_step(sprayer, "pat")).status_code == 303
    unknown = await app.db.fetchall(
        "SELECT subject, detail FROM audit_log WHERE action = 'login_unknown_name'"
    )
    assert len(unknown) == 20 and tuple(unknown[0]) == ("name0", "203.0.113.7")
