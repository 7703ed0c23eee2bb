"""The dashboard in Debian's Chromium (headless, via Playwright): log in, live URGENT, acknowledge.

The app runs under uvicorn on 127.0.0.1 in this test's event loop; the survey is
driven through ``App.handle_inbound`` on the console channel, as in production.
Screenshots go to test-artifacts/ (and to docs/ with FOLLOWUP_DOCS_SCREENSHOTS=1).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pyotp
import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright, expect

from bot.runtime.app import App
from bot.runtime.serve import _until_listening, build_web
from bot.store.scope import Scope
from bot.web.auth import Accounts
from tests.bot.conftest import enrol_console
from tests.bot.escalation.conftest import last_code, say, start_t0

from .conftest import PASSWORD, account, desk_of

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server(app: App) -> AsyncIterator[str]:
    port = _free_port()
    config = uvicorn.Config(build_web([desk_of(app)]), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False, lifespan="off")  # fmt: skip
    web = uvicorn.Server(config)
    task = asyncio.create_task(web.serve())
    await _until_listening(web, task)
    yield f"http://127.0.0.1:{port}"
    web.should_exit = True
    await task


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        await launched.close()


async def _log_in(app: App, page: Page, base: str, name: str) -> None:
    await page.goto(f"{base}/staff/login")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    if page.url.endswith("/staff/totp"):
        await expect(page.get_by_alt_text("QR code for your authenticator app")).to_be_visible()
        member = await app.staff.by_name(name)
        assert member is not None
        accounts = Accounts(app.db, app.ring, app.staff, app.service.clock)
        secret = await accounts.totp_secret(member)
        await page.get_by_label("Code").fill(pyotp.TOTP(secret).at(app.service.clock.now()))
        await page.get_by_role("button", name="Continue").click()


def _shot(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


async def test_urgent_appears_live_is_acknowledged_and_programme_cannot_see_it(
    app: App, server: str, browser: Browser
) -> None:
    await account(app, "ana", "wss")
    await account(app, "pat", "programme")
    wss = await browser.new_context(viewport={"width": 1000, "height": 640})
    page = await wss.new_page()
    await _log_in(app, page, server, "ana")
    await expect(page).to_have_url(f"{server}/staff/escalations")
    await expect(page.get_by_text("No escalations.")).to_be_visible()

    await enrol_console(app)  # her survey: not safe now, wants help today -> URGENT
    await start_t0(app)
    await say(app, "2")
    await say(app, "1")
    code = await last_code(app)

    row = page.locator(f'tr[data-code="{code}"]')
    await expect(row).to_be_visible(timeout=5000)  # no reload: the page polls
    await expect(page.get_by_role("alert")).to_contain_text(code)
    await expect(row).to_contain_text("URGENT")
    await expect(row).to_contain_text("open")
    await page.screenshot(path=_shot("queue.png"))

    await row.get_by_role("link", name=code).click()
    await page.get_by_role("button", name="Acknowledge").focus()
    await page.keyboard.press("Enter")  # operable from the keyboard
    await expect(page.locator("#state")).to_have_text("acknowledged")
    await page.screenshot(path=_shot("escalation.png"), full_page=False)
    assert (await app.desk.find(code, Scope.installation())).acknowledged_by == "ana"

    await page.goto(f"{server}/staff/escalations")
    await expect(page.locator(f'tr[data-code="{code}"]')).to_contain_text("ana")
    await page.set_viewport_size({"width": 375, "height": 700})  # a phone
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.screenshot(path=_shot("queue-phone.png"))
    await wss.close()

    programme = await browser.new_context()
    other = await programme.new_page()
    await _log_in(app, other, server, "pat")
    await expect(other).to_have_url(f"{server}/staff/participants")
    for path in ("/staff/escalations", f"/staff/escalations/{code}", "/staff/escalations.json"):
        response = await other.goto(f"{server}{path}")
        assert response is not None and response.status == 403, path
        assert code not in await other.content()
    await other.screenshot(path=_shot("programme-refused.png"))
    await programme.close()

    if os.environ.get("FOLLOWUP_DOCS_SCREENSHOTS") == "1":
        for name in ("queue.png", "escalation.png"):
            shutil.copy(_shot(name), ROOT / "docs" / f"dashboard-{name}")
