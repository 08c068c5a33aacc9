"""Conversations from the sidebar: create a public or private channel, browse and join, start a
direct message or a group, per-conversation notifications, leave; search with highlights; scrolling
back through history with day dividers, and no jump when something new arrives."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import Interval, literal, update

from api.runtime import Runtime
from persistence.models import Message
from tests.kit import TenantKit
from tests.web.steps import PHONE, bodies, channel, direct, message, open_conversation, post, send

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(120)


async def pick(page: Page, *names: str) -> None:
    """Find each person by name in the open people picker and choose them."""
    for name in names:
        await page.locator(".panel .picker-box input[type=search]").fill(name)
        person = page.locator(".panel .people .person", has=page.locator(".name", has_text=re.compile(f"^{name}$")))
        await person.click()
        await expect_chosen(person)


async def expect_chosen(person: Locator) -> None:
    from playwright.async_api import expect

    await expect(person).to_have_attribute("aria-pressed", "true")


async def test_a_public_channel_is_created_then_found_and_joined_by_another_person(
    login: Login, tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin = await login("admin")
    staff = await login("staff", width=PHONE)
    await admin.get_by_role("button", name="New channel").click()
    await admin.get_by_label("Name", exact=True).fill("Night Ops")
    await admin.get_by_label("Topic (optional)").fill("Overnight restocking")
    await admin.get_by_role("button", name="Create channel").click()
    await expect(admin.locator(".chat-title")).to_have_text("# night-ops")
    await expect(admin.locator(".chat-subtitle")).to_have_text("Overnight restocking")
    await expect(admin.locator(".panel")).to_be_hidden()
    await send(admin, "Welcome to night ops")

    await staff.get_by_role("button", name="Browse channels").click()
    row = staff.locator(".browse-list .browse-item", has_text="night-ops")
    await expect(row).to_contain_text("Overnight restocking")
    await row.get_by_role("button", name="Join").click()
    await expect(staff.locator(".chat-title")).to_have_text("# night-ops")
    await expect(bodies(staff)).to_have_text(["Welcome to night ops"])
    await send(staff, "Joined!")
    await expect(bodies(admin)).to_have_text(["Welcome to night ops", "Joined!"])


async def test_a_private_channel_appears_live_for_the_people_added_and_for_nobody_else(
    login: Login, tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin = await login("admin")
    supervisor = await login("supervisor", width=PHONE)
    staff = await login("staff")
    await admin.get_by_role("button", name="New channel").click()
    await admin.get_by_label("Name", exact=True).fill("managers")
    await admin.get_by_label("Private").check()
    await pick(admin, "Supervisor")
    await expect(admin.locator(".panel .chips .chip")).to_have_text(["Supervisor✕"])
    await admin.get_by_role("button", name="Create channel").click()
    await expect(admin.locator(".chat-title")).to_have_text("# managers")
    await send(admin, "Budget review at 3")

    await expect(supervisor.locator(".sidebar .conv", has_text="managers")).to_be_visible()
    await expect(supervisor.locator(".sidebar .conv", has_text="managers").locator(".hash")).to_have_text("🔒")
    await expect(supervisor.locator(".sidebar .conv", has_text="managers").locator(".badge")).to_have_text("1")
    await staff.get_by_role("button", name="Browse channels").click()
    await expect(staff.locator(".browse-list")).not_to_contain_text("managers")
    await expect(staff.locator(".sidebar")).not_to_contain_text("managers")


async def test_the_conversation_list_groups_channels_apart_from_direct_messages(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    await channel(client, tenant, "zeta-store", ["staff"])
    await channel(client, tenant, "alpha-store", ["staff"], kind="private")
    await direct(client, tenant, "staff", "admin")
    staff = await login("staff")
    channels = staff.get_by_role("list", name="Channels")
    directs = staff.get_by_role("list", name="Direct messages")
    await expect(channels.locator(".conv .name")).to_have_text(["alpha-store", "zeta-store"])
    await expect(channels.locator(".conv .hash")).to_have_text(["🔒", "#"])
    await expect(directs.locator(".conv .name")).to_have_text(["Admin"])
    await expect(directs.locator(".conv .presence")).to_have_count(1)


async def test_a_direct_message_is_started_from_the_sidebar(login: Login, tenant: TenantKit) -> None:
    from playwright.async_api import expect

    staff = await login("staff", width=PHONE)
    admin = await login("admin")
    await staff.get_by_role("button", name="New message").click()
    await pick(staff, "Admin")
    await expect(staff.get_by_role("button", name="Start direct message")).to_be_enabled()
    await staff.get_by_role("button", name="Start direct message").click()
    await expect(staff.locator(".chat-title")).to_have_text("Admin")
    await send(staff, "Quick question about Saturday")
    conv = admin.locator(".sidebar .conv", has_text="Staff")
    await expect(conv.locator(".badge")).to_have_text("1")
    await conv.click()
    await expect(bodies(admin)).to_have_text(["Quick question about Saturday"])


async def test_a_group_of_three_is_started_and_a_ninth_person_is_refused(login: Login, tenant: TenantKit) -> None:
    from playwright.async_api import expect

    for n in range(1, 8):
        await tenant.add_user(f"Crew{n}", roles=["staff"])
    staff = await login("staff")
    admin = await login("admin", width=PHONE)
    await staff.get_by_role("button", name="New message").click()
    start = staff.locator(".panel .start")
    await expect(start).to_be_disabled()
    await pick(staff, "Admin", "Supervisor")
    await expect(start).to_have_text("Start group of 3")
    await pick(staff, *(f"Crew{n}" for n in range(1, 7)))
    await expect(start).to_be_disabled()
    await expect(staff.locator(".panel .panel-body > [role=alert]")).to_have_text(
        "A group holds at most 8 people, you included."
    )
    for n in range(1, 7):
        await staff.locator(".panel .chips").get_by_role("button", name=f"Remove Crew{n}").click()
    await expect(start).to_have_text("Start group of 3")
    await start.click()
    await expect(staff.locator(".chat-title")).to_have_text("Admin, Supervisor")
    await send(staff, "Who covers aisle 9?")

    group = admin.locator(".sidebar .conv", has_text="Staff, Supervisor")
    await expect(group.locator(".hash")).to_have_text("👥")
    await group.click()
    await expect(bodies(admin)).to_have_text(["Who covers aisle 9?"])


async def test_a_conversation_can_notify_mentions_only_and_be_left(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "chatter", ["staff"])
    staff = await login("staff")
    await open_conversation(staff, "chatter")
    await staff.get_by_role("button", name="Conversation settings").click()
    await staff.get_by_label("Notify me about").select_option("mentions")
    await expect(staff.locator(".conv-menu [role=status]")).to_have_text("Saved.")
    await staff.reload()
    await open_conversation(staff, "chatter")
    await staff.get_by_role("button", name="Conversation settings").click()
    await expect(staff.get_by_label("Notify me about")).to_have_value("mentions")
    members = await client.get(
        f"/api/v1/conversations/{room['id']}/members", headers=await tenant.headers(client, "admin")
    )
    assert {m["notify_level"] for m in members.json() if m["user_id"] == str(tenant.users["staff"])} == {"mentions"}

    await staff.get_by_role("button", name="Leave channel").click()
    await expect(staff.locator(".sidebar")).not_to_contain_text("chatter")
    await expect(staff.locator(".chat .empty")).to_be_visible()


async def test_search_highlights_what_matched_and_opens_the_message(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "merch", ["staff"])
    admin = await tenant.headers(client, "admin")
    await post(client, admin, room["id"], "Planogram update for aisle 5")
    await post(client, admin, room["id"], "Lunch at noon")
    staff = await login("staff")
    await staff.get_by_label("Search messages").fill("planogram")
    await staff.get_by_label("Search messages").press("Enter")
    hit = staff.locator(".search-results .hit")
    await expect(hit).to_have_count(1)
    await expect(hit.locator("mark")).to_have_text(["Planogram"])
    await expect(hit.locator(".hit-meta")).to_contain_text("Admin in merch")
    await hit.locator("button").click()
    await expect(staff.locator(".chat-title")).to_have_text("# merch")
    await expect(message(staff, "Planogram update for aisle 5")).to_have_class(re.compile(r"\bflash\b"))


async def test_scrolling_back_loads_older_days_without_moving_what_is_on_screen(
    login: Login, client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "history", ["staff"])
    admin = await tenant.headers(client, "admin")
    for n in range(1, 131):
        await post(client, admin, room["id"], f"message {n}")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            update(Message)
            .where(Message.conversation_id == UUID(room["id"]), Message.seq <= 70)
            .values(created_at=Message.created_at - literal(timedelta(days=3), Interval()))
        )
    staff = await login("staff")
    await staff.locator(".sidebar .conv", has_text="history").click()
    await expect(bodies(staff).last).to_have_text("message 130")
    assert await bodies(staff).count() < 130

    scroller = staff.locator(".chat .scroller")
    while await staff.locator(".chat .older").inner_text() != "This is the beginning of the conversation.":
        text = await bodies(staff).first.inner_text()
        await scroller.evaluate("s => { s.scrollTop = 0; }")
        await expect(bodies(staff).first).not_to_have_text(text, timeout=5_000)
        # What was at the top stays on screen: the older page went above it, out of sight.
        await expect(message(staff, text)).to_be_in_viewport()
        await expect(bodies(staff).first).not_to_be_in_viewport()
    await expect(bodies(staff)).to_have_count(130)
    texts = await bodies(staff).all_inner_texts()
    assert texts == [f"message {n}" for n in range(1, 131)]
    dividers = staff.locator(".chat .day-divider")
    await expect(dividers).to_have_count(2)
    await expect(dividers.last).to_have_text("Today")

    # Reading up there, a new message does not move the page: a button offers to jump down.
    first = message(staff, "message 1")
    before = await first.bounding_box()
    await post(client, admin, room["id"], "fresh news")
    await expect(staff.locator(".chat .jump")).to_be_visible()
    after = await first.bounding_box()
    assert before is not None
    assert after is not None
    assert abs(after["y"] - before["y"]) < 1
    await staff.locator(".chat .jump").click()
    await expect(message(staff, "fresh news")).to_be_in_viewport()
    await expect(staff.locator(".chat .jump")).to_be_hidden()
