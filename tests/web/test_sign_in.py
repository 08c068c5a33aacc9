"""Signing in and out in the browser: the TOTP step when the account has one, plain errors, sign out."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import pyotp
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import PASSWORD, TenantKit

if TYPE_CHECKING:
    from tests.nodes import AppNode
    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(90)


async def test_an_account_with_totp_signs_in_with_its_code(
    browser: Any, web_app: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    headers = await tenant.headers(client, "staff")
    enrolled = (await client.post("/api/v1/auth/mfa/totp", headers=headers)).json()
    totp = pyotp.TOTP(enrolled["secret"])
    confirmed = await client.post(
        "/api/v1/auth/mfa/totp/confirm", json={"code": totp.at(time.time() - 30)}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text

    context = await browser.new_context(base_url=web_app.url)
    page = await context.new_page()
    await page.goto("/")
    await page.get_by_label("Email").fill(tenant.email("staff"))
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    await expect(page.get_by_label("Code")).to_be_focused()
    await page.get_by_label("Code").fill("000000")
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("alert")).to_have_text("That code did not work. Try the current one.")
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await page.get_by_label("Code").fill(totp.now())
    await page.get_by_role("button", name="Verify").click()
    await expect(page.locator(".topbar .whoami")).to_have_text("Staff")
    await expect(page.locator("body")).to_have_attribute("data-connection", "open")
    # The socket is opened with a one-time ticket, never with the session in the URL.
    assert len(sockets) == 1
    assert re.search(r"/ws\?ticket=[^&]+$", sockets[0]), sockets
    await context.close()


async def test_signing_out_ends_the_session_and_closes_the_socket(login: Login, tenant: TenantKit) -> None:
    from playwright.async_api import expect

    staff = await login("staff")
    await staff.get_by_role("button", name="Sign out").click()
    await expect(staff.get_by_role("heading", name="Sign in to fieldhub")).to_be_visible()
    await expect(staff.locator("body")).to_have_attribute("data-connection", "closed")
    await staff.reload()
    await expect(staff.get_by_role("heading", name="Sign in to fieldhub")).to_be_visible()
    me = await staff.request.get("/api/v1/auth/me")
    assert me.status == 401
