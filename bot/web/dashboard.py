"""The support workers' desk under ``/staff/``: a Component of ``followup run``.

Pages are server-rendered (Jinja2, autoescaped); the only script is a static file
that polls the queue JSON. Escalation actions go through ``Desk`` like every other
door; roles come from ``security.ROUTE_ROLES`` only.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyotp
import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import Config
from bot.escalation.desk import LEVELS, Desk, Escalation, EscalationNotFound
from bot.store.scope import Scope
from bot.store.stores import Stores
from bot.text.i18n import Translator
from bot.web import pages
from bot.web.auth import Accounts, LoginError, WebSession
from bot.web.security import (
    COOKIE,
    LOGIN_CSRF,
    ROUTE_ROLES,
    Handler,
    SecurityHeaders,
    client_address,
    guarded,
    secure_cookie,
    set_session_cookie,
)
from bot.web.throttle import ClientThrottle

HERE = Path(__file__).parent


def N_(message: str) -> str:
    """Marks a msgid for extraction; translated when rendered in the staff member's language."""
    return message


NAV = (("queue", "/staff/escalations", N_("Escalations")),
       ("participants", "/staff/participants", N_("Participants")),
       ("programmes", "/staff/programmes", N_("Programmes")),
       ("waves", "/staff/waves", N_("Waves")), ("enrol", "/staff/enrol", N_("Enrol")),
       ("staff", "/staff/staff", N_("Staff")), ("audit", "/staff/audit", N_("Audit log")),
       ("network", "/staff/network", N_("Network report")))  # fmt: skip


def age(now: datetime, then: datetime) -> str:
    """'3 min', '2 h 5 min', '4 d': time since an escalation was raised."""
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} d"


def queue_order(items: Sequence[Escalation]) -> list[Escalation]:
    """Open (and acknowledged) first, by level (URGENT first) then oldest; resolved last, newest first."""
    rank = {level: n for n, level in enumerate(LEVELS)}
    live = sorted((e for e in items if e.state != "resolved"),
                  key=lambda e: (rank.get(e.level, 9), e.raised_at))  # fmt: skip
    done = sorted(
        (e for e in items if e.state == "resolved"), key=lambda e: e.raised_at, reverse=True
    )
    return live + done


class Dashboard:
    """Component: mounts ``/staff`` with its own security headers on every response."""

    name = "dashboard"

    def __init__(
        self,
        stores: Stores,
        config: Config,
        desk: Desk,
        *,
        wake: Callable[[], None],
        list_waves: pages.WaveLister,
        enrol: pages.Enroller,
    ) -> None:
        """``wake`` nudges the dispatcher after a desk action queued messages; ``list_waves``
        and ``enrol`` are the CLI's own rules, handed in so the pages share them."""
        self.stores = stores
        self.config = config
        self.desk = desk
        self.wake = wake
        self.list_waves = list_waves
        self.enrol = enrol
        self.clock = stores.clock
        self.accounts = Accounts(stores.db, stores.ring, stores.staff, self.clock)
        self.throttle = ClientThrottle()
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True),
        )

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def routes(self) -> Sequence[BaseRoute]:
        return [Mount("/staff", app=SecurityHeaders(self.asgi()))]

    def asgi(self) -> Starlette:
        def r(path: str, name: str, handler: Handler, method: str = "GET") -> Route:
            assert name in ROUTE_ROLES, name
            return Route(path, guarded(name, self.accounts, handler), methods=[method], name=name)

        return Starlette(
            routes=[
                Route("/login", self.login_page, methods=["GET"], name="login"),
                Route("/login", self.login_post, methods=["POST"], name="login_post"),
                Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
                r("/totp", "totp", self.totp_page),
                r("/totp", "totp_post", self.totp_post, "POST"),
                r("/totp/qr.svg", "totp_qr", self.totp_qr),
                r("/logout", "logout", self.logout, "POST"),
                r("/", "home", self.home),
                r("/escalations", "queue", self.queue),
                r("/escalations.json", "queue_json", self.queue_json),
                r("/escalations/{code}", "escalation", self.escalation),
                r("/escalations/{code}/ack", "escalation_ack", self.ack, "POST"),
                r("/escalations/{code}/resolve", "escalation_resolve", self.resolve, "POST"),
                r("/escalations/{code}/note", "escalation_note", self.note, "POST"),
                r("/participants", "participants", self.participants),
                r("/participants/{pseudonym}", "participant", self.participant),
                r("/waves", "waves", self.waves),
                r("/programmes", "programmes", self.programmes),
                r("/programmes/{name}/report", "report", self.report),
                r("/enrol", "enrol", self.enrol_page),
                r("/enrol", "enrol_post", self.enrol_post, "POST"),
                r("/staff", "staff", self.staff_page),
                r("/staff/{member}/{action}", "staff_change", self.staff_change, "POST"),
                r("/audit", "audit", self.audit),
                r("/network", "network", self.network),
            ]
        )

    # --- rendering ------------------------------------------------------------------------

    def render(
        self, template: str, web: WebSession | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        tr = Translator(web.staff.language if web else "en")
        role = web.staff.role if web and web.stage == "full" else None
        nav = [(href, label) for name, href, label in NAV
               if role and role in (ROUTE_ROLES[name] or ())]  # fmt: skip
        html = self.env.get_template(template).render(
            _=tr.gettext, web=web, csrf=web.csrf if web else "", nav=nav, **ctx
        )
        return HTMLResponse(html, status_code=status)

    def actor(self, web: WebSession) -> str:
        return web.staff.name

    # --- login ----------------------------------------------------------------------------

    async def login_page(self, request: Request, error: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        response = self.render("login.html", None, status, login_csrf=token, error=error)
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/staff/",
                            secure=secure_cookie(request, self.config.web.secure_cookies))  # fmt: skip
        return response

    async def login_post(self, request: Request) -> Response:
        form = await request.form()
        given, cookie = form.get("csrf"), request.cookies.get(LOGIN_CSRF)
        if not isinstance(given, str) or not cookie or not secrets.compare_digest(given, cookie):
            return HTMLResponse("bad or missing CSRF token", status_code=403)
        old = request.cookies.get(COOKIE)
        if old:
            await self.accounts.logout(old)
        client = client_address(request)
        try:
            self._throttle(client)
            session_id = await self.accounts.login(
                str(form.get("name", "")), str(form.get("password", "")), client
            )
        except LoginError as exc:
            return await self.login_page(request, str(exc), 401)
        web = await self.accounts.session(session_id)
        target = "/staff/" if web and web.stage == "full" else "/staff/totp"
        if web and web.stage == "full" and web.staff.role == "network":
            target = "/staff/network"  # her only page: the desk's home is not hers
        response = RedirectResponse(target, status_code=303)
        set_session_cookie(response, request, session_id, self.config.web.secure_cookies)
        response.delete_cookie(LOGIN_CSRF, path="/staff/")
        return response

    def _throttle(self, client: str) -> None:
        """One client address gets so many password and code attempts per window."""
        if not self.throttle.allow(client, self.clock.now()):
            raise LoginError(N_("too many attempts from this address; try again later"))

    async def totp_page(self, request: Request, web: WebSession) -> Response:
        if web.stage == "full":
            return RedirectResponse("/staff/", status_code=303)
        return self.render("totp.html", web, setup=web.stage == "totp_setup",
                           error=request.query_params.get("error", ""))  # fmt: skip

    async def totp_qr(self, request: Request, web: WebSession) -> Response:
        if web.stage != "totp_setup":
            return Response("not in set-up", status_code=404)
        secret = await self.accounts.totp_secret(web.staff)
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=web.staff.name, issuer_name="partner-followup"
        )
        svg = segno.make(uri, error="m").svg_inline(scale=4)
        return Response(svg, media_type="image/svg+xml")

    async def totp_post(self, request: Request, web: WebSession) -> Response:
        form = await request.form()
        old = request.cookies.get(COOKIE, "")
        try:
            self._throttle(client_address(request))
            session_id = await self.accounts.verify_totp(old, web, str(form.get("code", "")))
        except LoginError as exc:
            return self.render(
                "totp.html", web, 401, setup=web.stage == "totp_setup", error=str(exc)
            )
        response = RedirectResponse("/staff/", status_code=303)
        set_session_cookie(response, request, session_id, self.config.web.secure_cookies)
        return response

    async def logout(self, request: Request, web: WebSession) -> Response:
        await self.accounts.logout(request.cookies.get(COOKIE, ""))
        response = RedirectResponse("/staff/login", status_code=303)
        response.delete_cookie(COOKIE, path="/staff/")
        return response

    async def home(self, request: Request, web: WebSession) -> Response:
        first = {"wss": "/staff/escalations", "programme": "/staff/participants"}
        return RedirectResponse(first.get(web.staff.role, "/staff/audit"), status_code=303)

    # --- escalations ----------------------------------------------------------------------

    def _row(self, e: Escalation, now: datetime) -> dict[str, str]:
        return {"code": e.code, "level": e.level, "state": e.state, "programme": e.programme,
                "pseudonym": e.pseudonym, "age": age(now, e.raised_at),
                "raised": e.raised_at.strftime("%Y-%m-%d %H:%M UTC"),
                "acknowledged_by": e.acknowledged_by or ""}  # fmt: skip

    async def _queue_rows(self, scope: Scope) -> list[dict[str, str]]:
        now = self.clock.now()
        items = queue_order(await self.desk.list(scope))
        return [self._row(e, now) for e in items[:200]]

    async def queue(self, request: Request, web: WebSession) -> Response:
        return self.render("queue.html", web, rows=await self._queue_rows(web.scope))

    async def queue_json(self, request: Request, web: WebSession) -> Response:
        return JSONResponse({"escalations": await self._queue_rows(web.scope)})

    async def escalation(self, request: Request, web: WebSession) -> Response:
        try:
            detail = await self.desk.view(
                request.path_params["code"], web.staff.name, scope=web.scope, via="web"
            )
        except EscalationNotFound:
            return self.render("error.html", web, 404, message=N_("No such escalation."))
        row = self._row(detail.escalation, self.clock.now())
        return self.render("escalation.html", web, e=detail.escalation, row=row, detail=detail,
                           done=request.query_params.get("done", ""))  # fmt: skip

    async def _act(self, request: Request, web: WebSession, action: str) -> Response:
        code = request.path_params["code"]
        form = await request.form()
        note = str(form.get("note", "")).strip() or None
        try:
            scope = web.scope
            if action == "ack":
                await self.desk.acknowledge(code, web.staff.name, scope=scope, via="web", note=note)
            elif action == "resolve":
                await self.desk.resolve(code, web.staff.name, scope=scope, via="web", note=note)
            elif note:
                await self.desk.note(code, web.staff.name, note, scope=scope, via="web")
            esc = await self.desk.find(code, scope)
        except EscalationNotFound:
            return self.render("error.html", web, 404, message=N_("No such escalation."))
        self.wake()
        return RedirectResponse(f"/staff/escalations/{esc.code}?done={action}", status_code=303)

    async def ack(self, request: Request, web: WebSession) -> Response:
        return await self._act(request, web, "ack")

    async def resolve(self, request: Request, web: WebSession) -> Response:
        return await self._act(request, web, "resolve")

    async def note(self, request: Request, web: WebSession) -> Response:
        return await self._act(request, web, "note")

    # --- other pages (bot/web/pages.py) -------------------------------------------------------

    async def participants(self, request: Request, web: WebSession) -> Response:
        query = request.query_params.get("q", "").strip()
        rows = await pages.participant_rows(self.stores.db, web.scope, query)
        return self.render("participants.html", web, rows=rows, q=query)

    async def participant(self, request: Request, web: WebSession) -> Response:
        data = await pages.participant_detail(self.stores, request.path_params["pseudonym"], web)
        if data is None:
            return self.render("error.html", web, 404, message=N_("No such participant."))
        return self.render("participant.html", web, **data)

    async def waves(self, request: Request, web: WebSession) -> Response:
        return self.render("waves.html", web, **await pages.waves(self.list_waves, web.scope))

    async def programmes(self, request: Request, web: WebSession) -> Response:
        rows = await pages.programme_rows(self.stores.db, web.scope)
        return self.render("programmes.html", web, rows=rows, timepoints=pages.TIMEPOINTS)

    async def report(self, request: Request, web: WebSession) -> Response:
        """A download: the self-contained report page keeps its own inline style."""
        name = request.path_params["name"]
        html = await pages.report_html(self.stores, name, web.staff.name, web.scope)
        if html is None:
            return self.render("error.html", web, 404, message=N_("No such programme."))
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        return HTMLResponse(html, headers={
            "content-disposition": f'attachment; filename="report-{safe}.html"'})  # fmt: skip

    async def staff_page(self, request: Request, web: WebSession) -> Response:
        return self.render(
            "staff.html",
            web,
            members=await pages.staff_rows(self.stores.staff, self.accounts.logins, web.scope),
        )

    async def staff_change(self, request: Request, web: WebSession) -> Response:
        action = request.path_params["action"]
        if action not in ("unlock", "reset_totp"):
            return self.render("error.html", web, 404, message=N_("No such page."))
        name = request.path_params["member"]
        if await self.stores.staff.in_scope(name, web.scope) is None:
            return self.render("error.html", web, 404, message=N_("No such page."))
        await self.accounts.admin_change(name, action, f"{web.staff.name} (web)")
        return RedirectResponse("/staff/staff", status_code=303)

    async def network(self, request: Request, web: WebSession) -> Response:
        tables = await pages.network_tables(self.stores, web.staff.name)
        return self.render("network.html", web, tables=tables)

    async def audit(self, request: Request, web: WebSession) -> Response:
        return self.render(
            "audit.html", web, rows=await pages.audit_rows(self.stores.db, web.scope)
        )

    async def enrol_page(self, request: Request, web: WebSession) -> Response:
        return self.render(
            "enrol.html", web, **await pages.enrol_form(self.stores.programmes, web.scope)
        )

    async def enrol_post(self, request: Request, web: WebSession) -> Response:
        form = await request.form()
        fields = {k: str(v) for k, v in form.items() if k != "csrf"}
        result = await pages.enrol_submit(
            self.config, self.enrol, fields, web.staff.name, web.scope
        )
        return self.render("enrol.html", web, 200 if "participant" in result else 400,
                           **await pages.enrol_form(self.stores.programmes, web.scope),
                           result=result, values=fields)  # fmt: skip
