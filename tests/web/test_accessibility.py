"""Accessible and usable: keyboard only, names for screen readers, new messages announced, and one
pane at a time at phone width with nothing wider than the screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit
from tests.web.steps import PHONE, bodies, channel, message, open_conversation, post

if TYPE_CHECKING:
    from playwright.async_api import Page

    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(90)


async def focused_class(page: Page) -> str:
    return str(await page.evaluate("document.activeElement.className"))


async def test_chatting_with_the_keyboard_alone(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    first = await channel(client, tenant, "aisle-1", ["staff"])
    await channel(client, tenant, "aisle-2", ["staff"])
    staff = await tenant.headers(client, "staff")
    await post(client, staff, first["id"], "Shelf A done")
    await post(client, staff, first["id"], "Shelf B done")
    admin = await login("admin")

    # Alt+↓ walks the conversation list; the composer takes focus.
    await admin.keyboard.press("Alt+ArrowDown")
    await expect(admin.locator(".chat-title")).to_have_text("# aisle-1")
    await admin.keyboard.press("Alt+ArrowDown")
    await expect(admin.locator(".chat-title")).to_have_text("# aisle-2")
    await admin.keyboard.press("Alt+ArrowUp")
    await expect(admin.locator(".chat-title")).to_have_text("# aisle-1")
    await expect(admin.locator(".chat .composer-input")).to_be_focused()
    await admin.keyboard.type("Thanks both")
    await admin.keyboard.press("Enter")
    await expect(bodies(admin)).to_have_text(["Shelf A done", "Shelf B done", "Thanks both"])

    # ↑/↓ move between messages; Tab then reaches the focused message's actions.
    await admin.locator(".chat .messages").focus()
    await admin.keyboard.press("ArrowUp")
    await expect(message(admin, "Thanks both")).to_be_focused()
    await admin.keyboard.press("ArrowUp")
    await expect(message(admin, "Shelf B done")).to_be_focused()
    await admin.keyboard.press("Tab")
    react = message(admin, "Shelf B done").get_by_role("button", name="Add reaction")
    await expect(react).to_be_focused()
    await expect(react).to_be_visible()
    await admin.keyboard.press("Enter")
    await expect(message(admin, "Shelf B done").get_by_role("button", name="React 👍")).to_be_focused()
    await admin.keyboard.press("Enter")
    await expect(message(admin, "Shelf B done").locator(".reaction")).to_have_text(["👍 1"])

    # The inbox opens from the bell and Escape closes it.
    await admin.get_by_role("button", name="Notifications").focus()
    await admin.keyboard.press("Enter")
    await expect(admin.locator("#inbox-title")).to_be_focused()
    await admin.keyboard.press("Escape")
    await expect(admin.locator(".panel")).to_be_hidden()


async def test_controls_have_names_and_new_messages_are_announced(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "floor", ["staff"])
    admin = await login("admin")
    await open_conversation(admin, "floor")
    for role, name in [
        ("navigation", "Conversations"),
        ("search", None),
        ("button", "Notifications"),
        ("button", "Settings"),
        ("button", "Attach files"),
        ("button", "Send"),
        ("list", "Messages"),
        ("region", "# floor"),
        ("combobox", "Write a message"),
        ("button", "Conversation settings"),
    ]:
        await expect(admin.get_by_role(role, name=name).first).to_be_visible()
    await post(client, await tenant.headers(client, "staff"), room["id"], "Freezer at -18")
    announcer = admin.locator(".chat [aria-live=polite].visually-hidden")
    await expect(announcer).to_have_text("Staff: Freezer at -18")
    await expect(admin.locator("#banner")).to_have_attribute("role", "status")


async def test_a_phone_shows_one_pane_at_a_time_and_nothing_wider_than_the_screen(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    await channel(client, tenant, "a-channel-with-a-rather-long-name-for-a-small-screen", ["staff"])
    staff = await login("staff", width=PHONE)
    await expect(staff.locator(".sidebar")).to_be_visible()
    await expect(staff.locator(".chat")).to_be_hidden()
    await open_conversation(staff, "a-channel-with-a-rather-long-name")
    await expect(staff.locator(".sidebar")).to_be_hidden()
    await staff.locator(".chat .composer-input").fill("x" * 300)  # one long word wraps
    await staff.locator(".chat .composer-input").press("Enter")
    await expect(bodies(staff)).to_have_count(1)
    assert await staff.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await staff.get_by_role("button", name="Back to conversations").click()
    await expect(staff.locator(".sidebar")).to_be_visible()
    await staff.get_by_role("button", name="Settings", exact=True).click()
    panel = await staff.locator(".panel").bounding_box()
    assert panel is not None
    assert (panel["x"], panel["width"]) == (0, PHONE)
    assert await staff.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
