"""Who may use which dashboard route (ONE table), and the checks every request passes.

Every route name in ``ROUTE_ROLES`` maps to the roles allowed; a route missing from
the table is refused for everyone, so a new page is closed until someone opens it.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.auth import Accounts, WebSession

WSS, PROGRAMME, ADMIN = "wss", "programme", "admin"
#: Reach no individual row: ``network`` sees the pooled report only, ``operator`` no page.
OPERATOR, NETWORK = "operator", "network"
#: None: no login needed. Otherwise the roles that may use the route (server-side, always).
ROUTE_ROLES: dict[str, frozenset[str] | None] = {
    "login": None,
    "login_post": None,
    "static": None,
    "totp": frozenset({WSS, PROGRAMME, ADMIN}),  # second-factor stage, not a full login
    "totp_post": frozenset({WSS, PROGRAMME, ADMIN}),
    "totp_qr": frozenset({WSS, PROGRAMME, ADMIN}),
    "logout": frozenset({WSS, PROGRAMME, ADMIN, OPERATOR, NETWORK}),
    "home": frozenset({WSS, PROGRAMME, ADMIN}),
    "queue": frozenset({WSS}),
    "queue_json": frozenset({WSS}),
    "escalation": frozenset({WSS}),
    "escalation_ack": frozenset({WSS}),
    "escalation_resolve": frozenset({WSS}),
    "escalation_note": frozenset({WSS}),
    "participants": frozenset({WSS, PROGRAMME}),
    "participant": frozenset({WSS, PROGRAMME}),  # answers shown to WSS only (ANSWER_ROLES)
    "waves": frozenset({PROGRAMME}),
    "programmes": frozenset({PROGRAMME}),
    "report": frozenset({PROGRAMME}),
    "enrol": frozenset({PROGRAMME}),
    "enrol_post": frozenset({PROGRAMME}),
    "staff": frozenset({ADMIN}),
    "staff_change": frozenset({ADMIN}),
    "audit": frozenset({ADMIN}),
    "network": frozenset({NETWORK}),  # the pooled report: the network role's only page
}
#: Roles that may see a participant's answers (every view is audited).
ANSWER_ROLES = frozenset({WSS})
#: Routes usable before the second factor is given.
PRE_TOTP = frozenset({"totp", "totp_post", "totp_qr", "logout"})
#: Background feeds: reading them is not activity (the idle timeout still applies).
POLLED = frozenset({"queue_json"})
COOKIE = "followup_staff"
LOGIN_CSRF = "followup_login_csrf"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; media-src 'self' data:; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]


class SecurityHeaders:
    """ASGI wrapper: the security headers on EVERY response under /staff/ (errors too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def client_address(request: Request) -> str:
    """The client's address as uvicorn gives it: behind a local proxy, its
    X-Forwarded-For (uvicorn trusts it only from ``FORWARDED_ALLOW_IPS``, default 127.0.0.1)."""
    return request.client.host if request.client else "unknown"


def secure_cookie(request: Request, setting: str) -> bool:
    """``auto``: Secure unless the request came to localhost (plain-HTTP development)."""
    if setting == "always":
        return True
    if setting == "never":
        return False
    return request.url.hostname not in ("localhost", "127.0.0.1", "::1")


def set_session_cookie(response: Response, request: Request, value: str, setting: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request, setting),
        path="/staff/",
    )


Handler = Callable[[Request, WebSession], Awaitable[Response]]


def guarded(
    name: str, accounts: Accounts, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: session, role from ROUTE_ROLES, CSRF on every POST; else 403/redirect."""
    allowed = ROUTE_ROLES.get(name, frozenset())

    async def endpoint(request: Request) -> Response:
        web = await accounts.session(request.cookies.get(COOKIE), touch=name not in POLLED)
        if web is None:
            if request.method == "GET" and not name.endswith("_json"):
                return RedirectResponse("/staff/login", status_code=303)
            return PlainTextResponse("login required", status_code=403)
        if not allowed or web.staff.role not in allowed:
            return PlainTextResponse("forbidden", status_code=403)
        if web.stage != "full" and name not in PRE_TOTP:
            if request.method == "GET" and not name.endswith("_json"):
                return RedirectResponse("/staff/totp", status_code=303)
            return PlainTextResponse("second factor required", status_code=403)
        if request.method == "POST":
            form = await request.form()
            given = form.get("csrf")
            if not isinstance(given, str) or not secrets.compare_digest(given, web.csrf):
                return PlainTextResponse("bad or missing CSRF token", status_code=403)
        return await handler(request, web)

    return endpoint
