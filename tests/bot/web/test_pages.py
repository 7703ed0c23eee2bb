"""Queue order, escalation actions through the Desk, participants, waves, audit, enrolment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bot.clock import ManualClock
from bot.escalation.desk import Escalation
from bot.runtime.app import App
from bot.store.scope import Scope
from bot.web.dashboard import age, queue_order
from tests.bot.conftest import enrol_console
from tests.bot.escalation.conftest import last_code, say, start_t0

from .conftest import account, log_in


def esc(code: str, level: str, state: str, minutes_ago: int) -> Escalation:
    raised = datetime(2026, 1, 1, 12, 0, tzinfo=UTC) - timedelta(minutes=minutes_ago)
    return Escalation(0, code, level, (), state, "P", "demo", "T0", raised, None, None, None, None)


def test_queue_order_open_first_by_level_then_age() -> None:
    items = [esc("r-old", "ROUTINE", "open", 90), esc("u-new", "URGENT", "open", 1),
             esc("h", "HIGH", "acknowledged", 5), esc("done", "URGENT", "resolved", 0),
             esc("u-old", "URGENT", "open", 30), esc("done-old", "URGENT", "resolved", 60)]  # fmt: skip
    assert [e.code for e in queue_order(items)] == [
        "u-old", "u-new", "h", "r-old", "done", "done-old"
    ]  # fmt: skip


def test_age() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert age(now, now - timedelta(minutes=3)) == "3 min"
    assert age(now, now - timedelta(minutes=125)) == "2 h 5 min"
    assert age(now, now - timedelta(days=3)) == "3 d"


async def test_acknowledge_note_resolve_go_through_the_desk(
    app: App, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await enrol_console(app)
    await start_t0(app)
    await say(app, "2")
    await say(app, "1")
    code = await last_code(app)
    csrf = await log_in(app, client, await account(app, "ana", "wss"))
    clock.advance(timedelta(minutes=7))
    listed = (await client.get("/staff/escalations.json")).json()["escalations"]
    assert [(r["code"], r["level"], r["state"], r["age"]) for r in listed] == [
        (code, "URGENT", "open", "7 min")
    ]
    await client.post(f"/staff/escalations/{code}/ack", data={"csrf": csrf})
    await client.post(f"/staff/escalations/{code}/note", data={"csrf": csrf, "note": "called her"})
    page = await client.get(f"/staff/escalations/{code}")
    assert "acknowledged" in page.text and "called her" in page.text and "ana (web)" in page.text
    await client.post(f"/staff/escalations/{code}/resolve", data={"csrf": csrf})
    e = await app.desk.find(code, Scope.installation())
    assert (e.state, e.acknowledged_by, e.resolved_by) == ("resolved", "ana", "ana")
    rows = await app.db.fetchall("SELECT actor, action FROM audit_log WHERE subject = ?", (code,))
    assert [(r[0], r[1]) for r in rows if r[0] == "ana (web)"] == [
        ("ana (web)", "escalation_acknowledged"), ("ana (web)", "escalation_note"),
        ("ana (web)", "escalation_viewed"), ("ana (web)", "escalation_resolved"),
    ]  # fmt: skip
    note = await app.db.fetchone("SELECT note_enc FROM escalation_notes")
    assert note is not None and b"called her" not in bytes(note[0])
    assert (await client.get("/staff/escalations.json")).json()["escalations"][0]["state"] == (
        "resolved"
    )


async def test_participants_search_and_detail_without_answers_for_programme(
    app: App, client: httpx.AsyncClient
) -> None:
    her = await enrol_console(app)
    other = await enrol_console(app, "console:bea")
    await log_in(app, client, await account(app, "pat", "programme"))
    page = (await client.get("/staff/participants", params={"q": her.pseudonym[2:].lower()})).text
    assert her.pseudonym in page and other.pseudonym not in page
    detail = (await client.get(f"/staff/participants/{her.pseudonym}")).text
    assert "T0" in detail and "T4" in detail and "Answers" not in detail
    assert (await client.get("/staff/participants/P-NOONE")).status_code == 404


async def test_enrolment_uses_the_cli_rules(app: App, client: httpx.AsyncClient) -> None:
    await enrol_console(app)  # creates the 'demo' programme
    csrf = await log_in(app, client, await account(app, "pat", "programme"))
    form = {"csrf": csrf, "programme": "demo", "channel": "sms", "phone": "",
            "consent_version": "v1", "consent_date": "2026-11-20", "consent_by": "pat"}  # fmt: skip
    bad = await client.post("/staff/enrol", data=form)
    assert bad.status_code == 400 and "--phone is required for --channel sms" in bad.text
    no_consent = await client.post("/staff/enrol", data={**form, "consent_version": ""})
    assert "no consent recorded" in no_consent.text
    good = await client.post("/staff/enrol", data={**form, "channel": "console"})
    assert good.status_code == 200 and "Enrolled" in good.text
    assert len(await app.db.fetchall("SELECT id FROM participants")) == 2


async def test_admin_sees_staff_and_audit_log(app: App, client: httpx.AsyncClient) -> None:
    await log_in(app, client, await account(app, "root", "admin"))
    staff = (await client.get("/staff/staff")).text
    assert "root" in staff and "admin" in staff
    audit = (await client.get("/staff/audit")).text
    assert "login_ok" in audit and "staff_password_set" in audit


async def test_waves_page_lists_waves(app: App, client: httpx.AsyncClient) -> None:
    await enrol_console(app)
    await log_in(app, client, await account(app, "pat", "programme"))
    page = await client.get("/staff/waves")
    assert page.status_code == 200 and "-T0-" in page.text and "No waves planned" not in page.text


async def test_programmes_page_and_outcome_report_download(
    app: App, client: httpx.AsyncClient
) -> None:
    await enrol_console(app)
    await log_in(app, client, await account(app, "pat", "programme"))
    page = (await client.get("/staff/programmes")).text
    assert "demo" in page and "&lt;5" in page  # one woman: her rate is suppressed
    report = await client.get("/staff/programmes/demo/report")
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert "<html" in report.text.lower()
    assert (await client.get("/staff/programmes/nope/report")).status_code == 404
    audited = await app.db.fetchone("SELECT actor FROM audit_log WHERE action = 'outcome_report'")
    assert audited is not None and audited[0] == "pat (web)"


async def test_pages_in_the_staff_members_language(app: App, client: httpx.AsyncClient) -> None:
    member = await account(app, "jo", "programme")
    async with app.db.transaction() as tx:
        await tx.execute("UPDATE staff SET language = 'de' WHERE id = ?", (member.id,))
    await log_in(app, client, member)
    page = (await client.get("/staff/participants")).text
    assert '<html lang="de">' in page and "Teilnehmerinnen" in page and "Abmelden" in page


async def test_admin_unlocks_and_resets_second_factor(
    app: App, client: httpx.AsyncClient, dashboard: object
) -> None:
    ana = await account(app, "ana", "wss")
    await app.db.conn.execute(
        "UPDATE staff_logins SET failures = 0, locked_until = '2099-01-01T00:00:00+00:00',"
        " totp_confirmed = 1, totp_enc = x'00' WHERE staff_id = ?",
        (ana.id,),
    )
    await app.db.conn.commit()
    csrf = await log_in(app, client, await account(app, "root", "admin"))
    for action in ("unlock", "reset_totp"):
        response = await client.post(f"/staff/staff/ana/{action}", data={"csrf": csrf})
        assert response.status_code == 303
    row = await app.db.fetchone("SELECT * FROM staff_logins WHERE staff_id = ?", (ana.id,))
    assert row is not None
    assert (row["locked_until"], row["totp_confirmed"], row["totp_enc"]) == (None, 0, None)
    actions = [r[0] for r in await app.db.fetchall(
        "SELECT action FROM audit_log WHERE actor = 'root (web)' AND subject = 'ana'")]  # fmt: skip
    assert actions == ["staff_unlock", "staff_reset_totp"]
    assert (await client.post("/staff/staff/ana/delete", data={"csrf": csrf})).status_code == 404


async def test_followup_run_serves_the_desk(app: App) -> None:
    """`followup run` mounts the dashboard through service_components, with its headers."""
    from bot.cli.service import service_components
    from bot.runtime.serve import build_web

    web = build_web(service_components(app))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://127.0.0.1"
    ) as client:
        response = await client.get("/staff/login")
        assert response.status_code == 200 and 'name="password"' in response.text
        assert response.headers["x-frame-options"] == "DENY"
        assert (await client.get("/healthz")).text == "ok"


async def test_a_rate_is_suppressed_when_fewer_than_five_completed(app: App) -> None:
    from bot.store import timepoints as tps
    from bot.web.pages import programme_rows

    async def rates(completed: int, missed: int) -> str:
        async with app.db.transaction() as tx:
            await tx.execute("DELETE FROM timepoints")
            women = await app.db.fetchall("SELECT id FROM participants ORDER BY id")
            for n, (pid,) in enumerate(women):
                state = (
                    "completed" if n < completed else "missed" if n < completed + missed else "sent"
                )
                await tps.ensure(tx, pid, "T0", None)
                await tps.update(tx, pid, "T0", state=state)
        (demo,) = await programme_rows(app.db, Scope.installation())
        return str(demo["rates"]["T0"]["rate"])

    for n in range(10):
        await enrol_console(app, f"console:w{n}")
    assert await rates(completed=2, missed=8) == "<5"  # 20 % of 10 would tell two answered
    assert await rates(completed=6, missed=4) == "60 %"
    assert await rates(completed=6, missed=0) == "100 %"
    assert await rates(completed=4, missed=0) == "<5"
