"""The browser client end to end: the inbox (a mention arrives live, devices stay in step, a link
opens the item), screenshots of the chat and the inbox at phone and desktop width, and the page's
own protection (CSP, plain errors, no file outside the client).

The live chat between two people is in ``test_live_chat.py``; connection loss in ``test_offline.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit
from tests.web.steps import DESKTOP, PHONE, bodies, channel, message, notify, open_conversation, png, post, send

if TYPE_CHECKING:
    from tests.nodes import AppNode
    from tests.web.conftest import Login

__all__ = ["DESKTOP", "PHONE", "bodies", "channel", "open_conversation", "send"]

pytestmark = pytest.mark.timeout(90)


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
    await expect(admin.locator(".chat .autocomplete").get_by_role("option")).to_have_text(
        ["Staff " + tenant.email("staff")]
    )
    await box.press("Enter")
    await expect(box).to_have_value(f"Please check the freezer <@{tenant.users['staff']}> ")
    await box.press("Enter")
    await expect(bodies(admin)).to_have_text(["Please check the freezer @Staff"])

    # The staff member is elsewhere: the bell counts it, the sidebar badges it, the inbox lists it.
    await expect(staff.locator(".topbar .bell .count")).to_have_text("1")
    await expect(staff.locator(".topbar .bell")).to_have_attribute("aria-label", "Notifications, 1 unread")
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
    await expect(staff.locator(".chat .message.mentions-me .mention.me")).to_have_text("@Staff")


async def test_the_inbox_stays_in_step_on_two_devices(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    phone = await login("staff", width=PHONE)
    desk = await login("staff", width=DESKTOP)
    for title in ("Shift changed", "Report ready", "Task assigned"):
        await notify(client, tenant, "staff", title)
    for page in (phone, desk):
        await expect(page.locator(".topbar .bell .count")).to_have_text("3")
    await desk.locator(".topbar .bell").click()
    await phone.locator(".topbar .bell").click()
    items = desk.locator(".inbox-list .notification")
    await expect(items.locator(".title")).to_have_text(["Task assigned", "Report ready", "Shift changed"])

    await items.filter(has_text="Report ready").get_by_role("button", name="Mark read").click()
    await expect(phone.locator(".topbar .bell .count")).to_have_text("2")
    await expect(phone.locator(".inbox-list .notification.unread .title")).to_have_text(
        ["Task assigned", "Shift changed"]
    )

    await (
        phone.locator(".inbox-list .notification", has_text="Shift changed")
        .get_by_role("button", name="Archive")
        .click()
    )
    await expect(items.locator(".title")).to_have_text(["Task assigned", "Report ready"])

    await phone.get_by_role("button", name="Mark all read").click()
    await expect(desk.locator(".topbar .bell .count")).to_be_hidden()
    await expect(desk.locator(".inbox-list .notification.unread")).to_have_count(0)
    await items.filter(has_text="Task assigned").get_by_role("button", name="Mark unread").click()
    await expect(phone.locator(".topbar .bell .count")).to_have_text("1")


async def test_a_mention_in_a_thread_opens_the_thread_from_the_inbox(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "deliveries", ["staff"])
    admin = await tenant.headers(client, "admin")
    root = await post(client, admin, room["id"], "Truck at door 2")
    for n in range(60):  # the root is older than the first page of history
        await post(client, admin, room["id"], f"later {n}")
    await post(client, admin, room["id"], f"<@{tenant.users['staff']}> sign for it", thread_root_id=root["id"])
    staff = await login("staff", width=PHONE)
    await expect(staff.locator(".topbar .bell .count")).to_have_text("1")
    await staff.locator(".topbar .bell").click()
    await staff.locator(".inbox-list .notification button.open").click()
    await expect(staff.locator(".thread .message.flash > .body")).to_have_text("@Staff sign for it")
    await expect(bodies(staff, ".thread")).to_have_text(["Truck at door 2", "@Staff sign for it"])
    await staff.get_by_role("button", name="Close thread").click()
    await expect(message(staff, "Truck at door 2")).to_be_visible()


async def test_screenshots_of_the_chat_at_phone_and_desktop_width(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit, artifacts: Path
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "store-7", ["staff", "supervisor"])
    staff_headers = await tenant.headers(client, "staff")
    upload = await client.post(
        "/api/v1/files", files={"file": ("shelf.png", png(240, 120), "image/png")}, headers=staff_headers
    )
    assert upload.status_code == 201, upload.text
    supervisor = await tenant.headers(client, "supervisor")
    first = await post(client, supervisor, room["id"], "Morning! Planogram for aisle 5 is live.")
    await post(client, staff_headers, room["id"], "Shelf 4 restocked", attachment_ids=[upload.json()["id"]])
    await post(
        client,
        await tenant.headers(client, "admin"),
        room["id"],
        "Thanks, see https://example.com/plan",
        thread_root_id=first["id"],
    )
    await client.put(f"/api/v1/messages/{first['id']}/reactions/👍", headers=staff_headers)
    admin = await login("admin", width=DESKTOP)
    staff = await login("staff", width=PHONE)
    for page in (admin, staff):
        await open_conversation(page, "store-7")
        await expect(page.locator(".chat .message .attachment img")).to_be_visible()
        await send(page, "On my way")
    await expect(bodies(admin)).to_have_count(4)
    await expect(admin.locator(".chat .thread-link")).to_have_text("1 reply")
    await admin.screenshot(path=artifacts / "chat-desktop.png")
    await staff.screenshot(path=artifacts / "chat-phone.png")
    for page in (admin, staff):  # nothing wider than the screen
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


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
        assert (await http.get("/static/icon.svg")).headers["content-type"].startswith("image/svg+xml")
        assert (await http.get("/static/../api/app.py")).status_code == 404
        assert (await http.get("/static/app.py")).status_code == 404
