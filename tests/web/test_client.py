"""The browser client end to end: two people chat live, one drops off and catches up, markup stays text,
mentions reach the inbox live, and screenshots of chat and inbox at phone and desktop width."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit

if TYPE_CHECKING:
    from playwright.async_api import Page

    from tests.nodes import AppNode
    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(90)

PHONE = 375
DESKTOP = 1280


async def channel(
    client: AsyncTestClient[Litestar], tenant: TenantKit, name: str, members: list[str]
) -> dict[str, Any]:
    """A public channel created by the admin with ``members`` (roles) in it."""
    response = await client.post(
        "/api/v1/conversations",
        json={"name": name, "member_ids": [str(tenant.users[m]) for m in members]},
        headers=await tenant.headers(client, "admin"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def open_conversation(page: Page, name: str) -> None:
    from playwright.async_api import expect

    await page.locator(".sidebar .conv", has_text=name).click()
    await expect(page.locator(".chat-title")).to_contain_text(name)
    await expect(page.locator(".chat .older")).to_have_text("This is the beginning of the conversation.")


async def send(page: Page, text: str, *, where: str = ".chat") -> None:
    box = page.locator(f"{where} .composer-input")
    await box.fill(text)
    await box.press("Enter")


def bodies(page: Page, where: str = ".chat") -> Any:
    return page.locator(f"{where} .message:not(.pending) .body")


async def test_two_people_chat_live_and_catch_up_after_going_offline(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit, artifacts: Path
) -> None:
    from playwright.async_api import expect

    await channel(client, tenant, "store-7", ["staff"])
    admin = await login("admin", width=DESKTOP)
    staff = await login("staff", width=PHONE)
    await open_conversation(admin, "store-7")
    await open_conversation(staff, "store-7")

    # Typing, then the message itself: pending for the sender until acked, live for the other.
    await admin.locator(".chat .composer-input").press_sequentially("Shelf 4")
    await expect(staff.locator(".chat .typing")).to_have_text("Admin is typing…")
    await admin.locator(".chat .composer-input").press("Shift+Enter")
    await admin.locator(".chat .composer-input").press_sequentially("restocked, see https://example.com/plan")
    await admin.locator(".chat .composer-input").press("Enter")
    await expect(bodies(staff)).to_have_text(["Shelf 4\nrestocked, see https://example.com/plan"])
    await expect(staff.locator(".chat .typing")).to_have_text("")
    link = staff.locator(".chat .message .body a")
    await expect(link).to_have_attribute("href", "https://example.com/plan")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(admin.locator(".chat .message.pending")).to_have_count(0)

    # A reaction from the phone shows on the desktop.
    first = staff.locator(".chat .message").first
    await first.hover()
    await first.locator(".react-open").click()
    await first.get_by_role("button", name="React 👍").click()
    await expect(admin.locator(".chat .message .reaction")).to_have_text(["👍 1"])

    # A reply in a thread.
    await admin.locator(".chat .message").first.hover()
    await admin.locator(".chat .message").first.get_by_role("button", name="Reply in thread").click()
    await send(admin, "Photo of the shelf follows", where=".thread")
    await expect(bodies(admin, ".thread")).to_have_text(
        ["Shelf 4\nrestocked, see https://example.com/plan", "Photo of the shelf follows"]
    )
    await expect(staff.locator(".chat .thread-link")).to_have_text("1 reply")
    await staff.locator(".chat .thread-link").click()
    await expect(bodies(staff, ".thread").last).to_have_text("Photo of the shelf follows")
    await staff.get_by_role("button", name="Close thread").click()

    # Markup in a message is text, and runs nothing.
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    await send(admin, attack)
    await expect(bodies(staff).last).to_have_text(attack)
    assert await staff.evaluate("window.__pwned") is None
    assert await admin.evaluate("window.__pwned") is None
    await expect(staff.locator(".chat .message .body img, .chat .message .body script")).to_have_count(0)

    await admin.screenshot(path=artifacts / "chat-desktop.png")
    await staff.screenshot(path=artifacts / "chat-phone.png")

    # The phone goes offline: it says so, misses three messages, queues one of its own, then catches up.
    await staff.context.set_offline(True)
    await expect(staff.locator("#banner")).to_contain_text("offline")
    for n in range(1, 4):
        await send(admin, f"missed {n}")
    await expect(bodies(admin).last).to_have_text("missed 3")
    await send(staff, "sent while offline")
    await expect(staff.locator(".chat .message.pending .status")).to_contain_text("Not sent")
    await staff.context.set_offline(False)
    await expect(staff.locator("body")).to_have_attribute("data-connection", "open")
    await expect(staff.locator("#banner")).to_be_hidden()
    expected = [
        "Shelf 4\nrestocked, see https://example.com/plan",
        attack,
        "missed 1",
        "missed 2",
        "missed 3",
        "sent while offline",
    ]
    await expect(bodies(staff)).to_have_text(expected)
    await expect(bodies(admin)).to_have_text(expected)
    await expect(staff.locator(".chat .message.pending")).to_have_count(0)


async def test_a_mention_reaches_the_inbox_live(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit, artifacts: Path
) -> None:
    from playwright.async_api import expect

    await channel(client, tenant, "night-shift", ["staff"])
    staff = await login("staff", width=DESKTOP)
    admin = await login("admin", width=DESKTOP)
    await open_conversation(admin, "night-shift")
    await expect(staff.locator(".topbar .bell .count")).to_be_hidden()

    box = admin.locator(".chat .composer-input")
    await box.press_sequentially("Please check the freezer @Sta")
    await expect(admin.get_by_role("option")).to_have_text(["Staff " + tenant.email("staff")])
    await box.press("Enter")
    await expect(box).to_have_value(f"Please check the freezer <@{tenant.users['staff']}> ")
    await box.press("Enter")
    await expect(bodies(admin)).to_have_text(["Please check the freezer @Staff"])

    # The staff member is elsewhere: the bell counts it, the sidebar badges it, the inbox lists it.
    await expect(staff.locator(".topbar .bell .count")).to_have_text("1")
    await expect(staff.locator(".sidebar .conv", has_text="night-shift").locator(".badge.mentions")).to_have_text("@1")
    await staff.locator(".topbar .bell").click()
    item = staff.locator(".inbox-list .notification")
    await expect(item).to_have_count(1)
    await expect(item.locator(".title")).to_contain_text("Admin")
    await staff.screenshot(path=artifacts / "inbox-desktop.png")
    await staff.set_viewport_size({"width": PHONE, "height": 800})
    await staff.screenshot(path=artifacts / "inbox-phone.png")
    await staff.set_viewport_size({"width": DESKTOP, "height": 800})

    # Opening it marks it read and goes to the message.
    await item.locator("button.open").click()
    await expect(staff.locator(".topbar .bell .count")).to_be_hidden()
    await expect(staff.locator(".chat-title")).to_contain_text("night-shift")
    await expect(bodies(staff)).to_have_text(["Please check the freezer @Staff"])


async def test_wrong_password_is_said_plainly_and_the_page_is_locked_down(
    browser: Any, web_app: AppNode, tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(base_url=web_app.url)
    page = await context.new_page()
    response = await page.goto("/")
    assert response is not None
    headers = await response.all_headers()
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    await page.get_by_label("Email").fill(tenant.email("staff"))
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    await context.close()

    async with httpx.AsyncClient(base_url=web_app.url) as http:
        script = await http.get("/static/app.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert (await http.get("/static/../api/app.py")).status_code == 404
        assert (await http.get("/static/app.py")).status_code == 404
