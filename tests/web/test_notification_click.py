"""A click on a push notification: which window takes it and where it goes (``notificationTarget``,
api/web/static/notification-target.js), and the service worker carrying that out on a real tab.

Headless Chromium cannot click a system notification, so the choice is called in a page with
described windows, and the service worker's ``openFromNotification`` (what its ``notificationclick``
listener runs) is called inside the real service worker against a real signed-in tab.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

    from tests.nodes import AppNode
    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(90)

CONVERSATION = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
OTHER_CONVERSATION = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"


@pytest.fixture
async def chooser(browser: Browser, web_app: AppNode) -> AsyncIterator[Page]:
    """A page of the app's origin with the click's choice loaded from where the service worker loads it."""
    context = await browser.new_context(base_url=web_app.url)
    try:
        page = await context.new_page()
        await page.goto("/static/notification-target.js")
        await page.add_script_tag(url="/static/notification-target.js")
        yield page
    finally:
        await context.close()


async def choose(page: Page, data: dict[str, Any], windows: list[dict[str, Any]], action: str = "") -> dict[str, Any]:
    origin = await page.evaluate("location.origin")
    described = [{**w, "url": origin + w["url"]} if w["url"].startswith("/") else w for w in windows]
    target: dict[str, Any] = await page.evaluate(
        "([data, action, windows]) => notificationTarget(data, action, windows, location.origin)",
        [data, action, described],
    )
    return {**target, "url": target["url"].removeprefix(origin)}


async def test_a_tab_of_the_app_at_another_conversation_is_sent_to_the_link(chooser: Page) -> None:
    target = await choose(chooser, {"link": f"/#/c/{CONVERSATION}"}, [{"id": "a", "url": f"/#/c/{OTHER_CONVERSATION}"}])
    assert target == {"kind": "navigate", "clientId": "a", "url": f"/#/c/{CONVERSATION}"}


async def test_a_tab_already_at_the_link_is_only_focused(chooser: Page) -> None:
    windows = [{"id": "a", "url": "/#/inbox"}, {"id": "b", "url": f"/#/c/{CONVERSATION}"}]
    target = await choose(chooser, {"link": f"/#/c/{CONVERSATION}"}, windows)
    assert target == {"kind": "focus", "clientId": "b", "url": f"/#/c/{CONVERSATION}"}


async def test_the_focused_tab_of_the_app_is_preferred_over_more_recent_ones(chooser: Page) -> None:
    windows = [
        {"id": "recent", "url": "/#/inbox", "focused": False, "visibilityState": "hidden"},
        {"id": "visible", "url": "/#/settings", "focused": False, "visibilityState": "visible"},
        {"id": "focused", "url": "/", "focused": True, "visibilityState": "visible"},
    ]
    target = await choose(chooser, {"link": f"/#/c/{CONVERSATION}"}, windows)
    assert target["clientId"] == "focused"


async def test_a_visible_tab_is_preferred_when_none_is_focused(chooser: Page) -> None:
    windows = [
        {"id": "recent", "url": "/#/inbox", "focused": False, "visibilityState": "hidden"},
        {"id": "visible", "url": "/#/settings", "focused": False, "visibilityState": "visible"},
    ]
    target = await choose(chooser, {"link": f"/#/c/{CONVERSATION}"}, windows)
    assert target["clientId"] == "visible"


async def test_a_window_opens_when_no_tab_of_the_app_is_open(chooser: Page) -> None:
    windows = [
        {"id": "elsewhere", "url": "https://example.com/#/c/x"},
        {"id": "not-the-app", "url": "/api/v1/approvals/actions/token"},
    ]
    target = await choose(chooser, {"link": f"/#/c/{CONVERSATION}"}, windows)
    assert target == {"kind": "open", "url": f"/#/c/{CONVERSATION}"}


async def test_an_action_button_opens_its_own_page_in_a_new_window(chooser: Page) -> None:
    data = {
        "link": "/#/approvals",
        "actions": [{"id": "approve", "label": "Approve", "link": "/api/v1/approvals/actions/signed"}],
    }
    target = await choose(chooser, data, [{"id": "a", "url": "/#/inbox"}], action="approve")
    assert target == {"kind": "open", "url": "/api/v1/approvals/actions/signed"}


async def test_a_link_that_is_not_a_web_address_opens_the_app_instead(chooser: Page) -> None:
    target = await choose(chooser, {"link": "javascript:alert(1)"}, [{"id": "a", "url": "/#/inbox"}])
    assert target == {"kind": "navigate", "clientId": "a", "url": "/"}


async def test_the_service_worker_sends_the_open_tab_to_the_link_without_a_new_window(login: Login) -> None:
    from playwright.async_api import expect

    staff = await login("staff")
    await staff.goto("/#/settings")
    await expect(staff.locator(".settings")).to_be_visible()
    async with staff.context.expect_event("serviceworker") as registered:
        await staff.evaluate("navigator.serviceWorker.register('/sw.js', { scope: '/' })")
    worker = await registered.value
    await staff.evaluate("navigator.serviceWorker.ready")

    # focus() needs the user activation of a real click: outside one it may be refused, after the message.
    outcome = await worker.evaluate(
        "data => openFromNotification(data, '').then(() => 'focused', (error) => error.name)",
        {"link": "/#/inbox"},
    )
    await expect(staff).to_have_url(re.compile(r"#/inbox$"))
    await expect(staff.locator(".inbox-list")).to_be_visible()
    assert outcome in ("focused", "InvalidAccessError"), outcome
    assert staff.context.pages == [staff]
