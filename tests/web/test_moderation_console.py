"""The moderator console in the browser: a case appears live in the queue when a member flags a
message, the moderator opens and claims it, hides the message with a reason, and the other member's
screen shows "Removed by a moderator"; rules with the tester; the audit log with its CSV export;
the console at phone width; members never see it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit
from tests.web.test_client import DESKTOP, PHONE, channel, open_conversation

if TYPE_CHECKING:
    from playwright.async_api import Page

    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(120)


async def fits_the_screen(page: Page) -> bool:
    """No sideways scrolling: nothing is wider than the viewport."""
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def test_a_moderator_hides_a_flagged_message_from_the_live_queue(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit, artifacts: Path
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "floor-3", ["staff", "supervisor"])
    moderator = await login("moderator", width=DESKTOP)
    member = await login("supervisor", width=PHONE)
    await expect(member.locator(".topbar .mod-open")).to_have_count(0)  # members have no console
    await open_conversation(member, "floor-3")

    await moderator.locator(".topbar .mod-open").click()
    await expect(moderator.locator("#mod-queue-title")).to_have_text("Review queue")
    await expect(moderator.locator(".mod-queue")).to_contain_text("No cases here")

    # The author posts; the member sees it and flags it (the API stands in for a report button).
    text = "the <b>delivery</b> guy is an idiot"
    posted = await client.post(
        f"/api/v1/conversations/{room['id']}/messages",
        json={"client_id": "insult-1", "body": text},
        headers=await tenant.headers(client, "staff"),
    )
    assert posted.status_code == 201, posted.text
    message_id = posted.json()["message"]["id"]
    await expect(member.locator(".chat .message .body")).to_have_text([text])
    flagged = await client.post(
        "/api/v1/moderation/flags",
        json={"message_id": message_id, "reason": "harassment", "note": "said in front of a customer"},
        headers=await tenant.headers(client, "supervisor"),
    )
    assert flagged.status_code == 201, flagged.text

    # It appears in the moderator's queue without a reload, text kept as text.
    case = moderator.locator(".mod-queue .mod-case")
    await expect(case).to_have_count(1)
    await expect(case.locator(".mod-snippet")).to_have_text(text)
    await expect(case).to_contain_text("Harassment")
    await expect(moderator.locator(".mod-live")).to_have_text("A new case arrived.")
    await expect(moderator.locator(".mod-queue b")).to_have_count(0)

    # Open it: the message in its context, the report with its note; claim it.
    await case.locator("a").click()
    await expect(moderator.locator("#mod-case-title")).to_have_text("Reported message")
    await expect(moderator.locator(".mod-context-item.reported .body")).to_have_text(text)
    await expect(moderator.locator(".mod-case-page")).to_contain_text("said in front of a customer")
    await expect(moderator.locator(".mod-case-page")).to_contain_text("No earlier cases.")
    await moderator.get_by_role("button", name="Claim").click()
    await expect(moderator.locator(".mod-case-page [role=status]").first).to_have_text("You claimed this case.")
    await expect(moderator.get_by_role("button", name="Release")).to_be_visible()

    # Every action needs a reason.
    await moderator.get_by_label("Action", exact=True).select_option("hide")
    await moderator.get_by_role("button", name="Apply").click()
    await expect(moderator.locator(".mod-act .error")).to_have_text("Give a reason: every action needs one.")
    await moderator.get_by_label("Reason (required)").fill("insulting a colleague")
    await moderator.get_by_role("button", name="Apply").click()
    await expect(moderator.locator(".mod-case-page [role=status]").first).to_have_text("Done: Hide the message.")
    await expect(moderator.locator(".mod-actions-taken")).to_contain_text("insulting a colleague")

    # The other member's screen changes live.
    await expect(member.locator(".chat .message .body")).to_have_text(["Removed by a moderator."])
    await member.screenshot(path=artifacts / "moderation-member-phone.png")
    await moderator.screenshot(path=artifacts / "moderation-case-desktop.png")

    # The queue no longer lists it (closed), and the console fits a phone.
    await moderator.locator(".mod-tabs a", has_text="Queue").click()
    await expect(moderator.locator(".mod-queue")).to_contain_text("No cases here")
    await moderator.set_viewport_size({"width": PHONE, "height": 800})
    await moderator.goto(f"/#/mod/case/{flagged.json()['case_id']}")
    await expect(moderator.locator(".mod-context-item.reported .body")).to_have_text(text)
    assert await fits_the_screen(moderator)
    await moderator.screenshot(path=artifacts / "moderation-case-phone.png")


async def test_rules_are_tried_before_they_are_saved_and_the_audit_log_exports(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit, artifacts: Path
) -> None:
    from playwright.async_api import expect

    moderator = await login("moderator", width=PHONE)
    await moderator.goto("/#/mod/rules")
    await expect(moderator.locator("#mod-rules-title")).to_have_text("Automatic rules")
    await expect(moderator.locator(".mod-tabs a", has_text="Audit log")).to_have_count(0)  # not an admin

    await moderator.get_by_role("button", name="New rule").click()
    await moderator.get_by_label("Name").fill("Card numbers")
    await moderator.get_by_label("Kind").select_option("regex")
    await moderator.get_by_label("Action").select_option("mask")
    await moderator.get_by_label("Pattern").fill(r"\d{4}-\d{4}")
    await moderator.get_by_label("Try it on a sample").fill("card 1234-5678 please")
    await moderator.get_by_role("button", name="Test").click()
    await expect(moderator.locator(".mod-test-result")).to_contain_text("The rule fires on this text.")
    await expect(moderator.locator(".mod-test-result")).to_contain_text("card ********* please")
    # A pattern that could backtrack catastrophically is refused before anything is saved.
    await moderator.get_by_label("Pattern").fill("(a+)+$")
    await moderator.get_by_role("button", name="Test").click()
    await expect(moderator.locator(".mod-test-result .error")).to_contain_text("backtrack")
    await moderator.get_by_label("Pattern").fill(r"\d{4}-\d{4}")
    await moderator.get_by_role("button", name="Create").click()
    rule = moderator.locator(".mod-rules .mod-rule")
    await expect(rule).to_have_count(1)
    await expect(rule.locator(".mod-rule-name")).to_have_text("Card numbers")
    await expect(rule.locator(".mod-rule-stats")).to_contain_text("Fired 0 times")
    assert await fits_the_screen(moderator)
    await moderator.screenshot(path=artifacts / "moderation-rules-phone.png")

    admin = await login("admin", width=DESKTOP)
    await admin.goto("/#/mod/audit")
    await expect(admin.locator("#mod-audit-title")).to_have_text("Audit log")
    item = admin.locator('.mod-audit-item[data-action="moderation.rule.create"]')
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("Moderator")
    await expect(item.locator(".mod-audit-details")).to_contain_text("name: Card numbers")
    await admin.get_by_label("Tell reporters which moderator reviewed their report").check()
    await expect(admin.locator(".mod-settings [role=status]")).to_have_text("Saved.")
    settings = await admin.request.get("/api/v1/moderation/settings")
    assert (await settings.json()) == {"reveal_moderator": True}
    export = admin.locator("a.mod-export")
    href = await export.get_attribute("href")
    assert href == "/api/v1/moderation/audit.csv"
    csv_response = await admin.request.get(href)
    assert csv_response.ok
    assert "moderation.rule.create" in await csv_response.text()
    await admin.screenshot(path=artifacts / "moderation-audit-desktop.png")


async def test_a_message_a_moderator_deleted_in_the_chat_is_named_so_in_the_console(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "floor-5", ["staff", "supervisor"])
    posted = await client.post(
        f"/api/v1/conversations/{room['id']}/messages",
        json={"client_id": "spam-1", "body": "buy cheap watches"},
        headers=await tenant.headers(client, "staff"),
    )
    assert posted.status_code == 201, posted.text
    moderator_headers = await tenant.headers(client, "moderator")
    deleted = await client.delete(
        f"/api/v1/messages/{posted.json()['message']['id']}", params={"reason": "spam"}, headers=moderator_headers
    )
    assert deleted.status_code == 204, deleted.text
    cases = await client.get("/api/v1/moderation/cases", params={"status": "resolved"}, headers=moderator_headers)
    (case,) = cases.json()

    moderator = await login("moderator", width=DESKTOP)
    await moderator.goto(f"/#/mod/case/{case['id']}")
    await expect(moderator.locator("#mod-case-title")).to_have_text("Message acted on in the chat")
    await expect(moderator.locator(".mod-case-page")).to_contain_text("Opened by a moderator")


async def test_a_moderator_hides_a_reported_file_from_its_case(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    from tests.web.steps import png, post

    room = await channel(client, tenant, "photos", ["staff", "supervisor"])
    staff = await tenant.headers(client, "staff")
    uploaded = await client.post("/api/v1/files", files={"file": ("shelf.png", png(), "image/png")}, headers=staff)
    assert uploaded.status_code == 201, uploaded.text
    await post(client, staff, room["id"], "our shelf", attachment_ids=[uploaded.json()["id"]])
    flagged = await client.post(
        "/api/v1/moderation/flags",
        json={"attachment_id": uploaded.json()["id"], "reason": "private_data"},
        headers=await tenant.headers(client, "supervisor"),
    )
    assert flagged.status_code == 201, flagged.text

    moderator = await login("moderator", width=DESKTOP)
    await moderator.goto(f"/#/mod/case/{flagged.json()['case_id']}")
    await expect(moderator.locator("#mod-case-title")).to_have_text("Reported file")
    action = moderator.get_by_label("Action", exact=True)
    await expect(action.locator("option[value=hide]")).to_have_count(1)
    await expect(action.locator("option[value=delete]")).to_have_count(1)
    await action.select_option("hide")
    await moderator.get_by_label("Reason (required)").fill("a customer's face")
    await moderator.get_by_role("button", name="Apply").click()
    await expect(moderator.locator(".mod-case-page [role=status]").first).to_have_text("Done: Hide the message.")
    member = await client.get(
        f"/api/v1/conversations/{room['id']}/messages", headers=await tenant.headers(client, "supervisor")
    )
    assert [(m["body"], m.get("moderation")) for m in member.json()["messages"]] == [("", "hidden")]
