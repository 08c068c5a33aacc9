"""Moderation as members meet it in the browser: reporting a message (and being told when it was
reported already) puts a case in the moderator's live queue; the author of a hidden message still
reads it, marked hidden, and appeals once; a warning in the inbox opens its appeal; a suspended user
appeals from the sign-in screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.moderation.moderation_http import acted, flag
from tests.kit import TenantKit
from tests.web.steps import DESKTOP, PHONE, channel, message, open_conversation, post

if TYPE_CHECKING:
    from playwright.async_api import Page

    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(120)


async def report(page: Page, text: str, reason: str, note: str = "") -> None:
    from playwright.async_api import expect

    item = message(page, text)
    await item.hover()
    await item.get_by_role("button", name="Report").click()
    dialog = page.get_by_role("dialog", name="Report this message")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label(reason).check()
    await dialog.get_by_label("Anything moderators should know (optional)").fill(note)
    await dialog.get_by_role("button", name="Send report").click()


async def test_a_member_reports_a_message_and_the_moderators_queue_shows_it(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit, artifacts: Path
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "aisle-9", ["staff", "supervisor"])
    text = "send me your home address"
    await post(client, await tenant.headers(client, "staff"), room["id"], text)
    moderator = await login("moderator", width=DESKTOP)
    await moderator.locator(".topbar .mod-open").click()
    await expect(moderator.locator(".mod-queue")).to_contain_text("No cases here")

    member = await login("supervisor", width=PHONE)
    await open_conversation(member, "aisle-9")
    await report(member, text, "Private data", note="asked twice")
    dialog = member.get_by_role("dialog", name="Report this message")
    await expect(dialog.get_by_role("status")).to_contain_text("A moderator will review it")
    await member.screenshot(path=artifacts / "report-phone.png")
    await dialog.get_by_role("button", name="Done").click()
    await expect(dialog).to_have_count(0)

    case = moderator.locator(".mod-queue .mod-case")
    await expect(case).to_have_count(1)
    await expect(case.locator(".mod-snippet")).to_have_text(text)
    await expect(case).to_contain_text("Private data")
    await case.locator("a").click()
    await expect(moderator.locator(".mod-case-page")).to_contain_text("asked twice")

    # A second report of the same message is answered plainly, and nothing is added.
    await report(member, text, "Spam")
    again = member.get_by_role("dialog", name="Report this message").get_by_role("status")
    await expect(again).to_have_text("You have reported this already. A moderator will review it.")
    # The author reports nothing of their own.
    author = await login("staff", width=DESKTOP)
    await open_conversation(author, "aisle-9")
    await expect(message(author, text).locator(".actions button.edit")).to_have_count(1)
    await expect(message(author, text).locator(".actions button.report")).to_have_count(0)


async def test_the_author_of_a_hidden_message_still_reads_it_and_appeals_once(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit, artifacts: Path
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "night-shift", ["staff", "supervisor"])
    text = "the manager is lazy"
    posted = await post(client, await tenant.headers(client, "staff"), room["id"], text)
    author = await login("staff", width=PHONE)
    await open_conversation(author, "night-shift")
    await expect(message(author, text)).to_have_count(1)

    case_id = await flag(client, tenant, "supervisor", posted["id"], "harassment")
    await acted(client, tenant, "moderator", case_id, "hide", reason="insulting a colleague")

    # Live: the author keeps their text, marked hidden (others see only "Removed by a moderator").
    mine = message(author, text)
    await expect(mine.locator(".moderated")).to_have_text("hidden by a moderator")
    await mine.get_by_role("button", name="Appeal").click()
    dialog = author.get_by_role("dialog", name="Appeal a moderator's decision")
    await expect(dialog).to_contain_text("Reason: insulting a colleague")
    await dialog.get_by_role("button", name="Send appeal").click()
    await expect(dialog.get_by_role("alert")).to_have_text("Say why in a few words.")
    await dialog.get_by_label("Why should it be looked at again?").fill("it was about the shelf app")
    await dialog.get_by_role("button", name="Send appeal").click()
    await expect(dialog.get_by_role("status")).to_have_text(
        "Your appeal was sent. A different moderator will review it."
    )
    await author.screenshot(path=artifacts / "appeal-phone.png")
    await dialog.get_by_role("button", name="Done").click()

    # Once per action: asking again says where the appeal stands.
    await mine.get_by_role("button", name="Appeal").click()
    await expect(dialog.get_by_role("status")).to_contain_text("You have appealed this already")
    await dialog.get_by_role("button", name="Done").click()
    admin = await tenant.headers(client, "admin")
    cases = (await client.get("/api/v1/moderation/cases", params={"reason": "appeal"}, headers=admin)).json()
    assert len(cases) == 1

    # After a reload (history over HTTP) the author still reads it whole.
    await author.reload()  # the conversation's address opens it again
    await expect(message(author, text).locator(".moderated")).to_have_text("hidden by a moderator")


async def test_a_warning_in_the_inbox_opens_the_appeal_of_that_warning(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "front-desk", ["staff", "supervisor"])
    posted = await post(client, await tenant.headers(client, "staff"), room["id"], "you are all useless")
    case_id = await flag(client, tenant, "supervisor", posted["id"], "harassment")
    await acted(client, tenant, "moderator", case_id, "warn", reason="keep it civil")

    page = await login("staff", width=PHONE)
    await page.get_by_role("button", name="Notifications").click()
    await page.locator(".notification", has_text="A moderator warned you").locator("button.open").click()
    dialog = page.get_by_role("dialog", name="Appeal a moderator's decision")
    await expect(dialog).to_contain_text("A moderator warned you")
    await expect(dialog).to_contain_text("Reason: keep it civil")
    await expect(dialog.get_by_label("Why should it be looked at again?")).to_be_visible()


async def test_a_suspended_user_appeals_from_the_sign_in_screen(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    from tests.kit import PASSWORD

    room = await channel(client, tenant, "loading-dock", ["staff", "supervisor"])
    posted = await post(client, await tenant.headers(client, "staff"), room["id"], "I will hurt you")
    page = await login("staff", width=PHONE)
    case_id = await flag(client, tenant, "supervisor", posted["id"], "violence")
    await acted(client, tenant, "moderator", case_id, "suspend", reason="threatened a colleague")

    # The suspension ends the session: the sign-in screen offers the appeal.
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await page.get_by_role("link", name="Appeal the suspension").click()
    await expect(page.get_by_role("heading", name="Appeal a suspension")).to_be_visible()
    await page.get_by_label("Email").fill(tenant.email("staff"))
    await page.get_by_label("Password").fill("not my password")
    await page.get_by_label("Why should it be lifted?").fill("I was quoting a film")
    await page.get_by_role("button", name="Send appeal").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Send appeal").click()
    await expect(page.get_by_role("status")).to_contain_text("Your appeal was sent.")
    await page.get_by_role("button", name="Back to sign in").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
