"""Settings in the browser: notification preferences per category and channel, mute all, quiet hours
in the user's time zone, the organisation's locks; "enable push notifications" with the service
worker, what the browser allowed, and the subscription handed to (and taken back from) the server."""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import PushSubscription
from tests.kit import TenantKit
from tests.web.steps import PHONE

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(90)


async def open_settings(page: Page) -> None:
    from playwright.async_api import expect

    await page.get_by_role("button", name="Settings", exact=True).click()
    await expect(page.locator("#settings-title")).to_have_text("Settings")
    await expect(page.locator(".save-prefs")).to_be_visible()


def channel_box(page: Page, category: str, channel: str) -> Any:
    return page.locator(f'.channels input[name="{category}:{channel}"]')


async def test_preferences_are_saved_and_come_back_after_a_reload(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin = await tenant.headers(client, "admin")
    locked = await client.patch("/api/v1/notification-categories/shift", json={"locked": True}, headers=admin)
    assert locked.status_code == 200, locked.text
    staff = await login("staff", width=PHONE)
    await open_settings(staff)

    # What the organisation fixed is shown, and cannot be changed.
    shifts = staff.locator('.channels tr[data-category="shift"]')
    await expect(shifts).to_contain_text("set by your organisation")
    for channel in ("in_app", "email", "push"):
        await expect(channel_box(staff, "shift", channel)).to_be_disabled()

    await staff.get_by_label("Mute all notifications").check()
    await staff.get_by_label("Hold push and email during quiet hours").check()
    await staff.get_by_label("From", exact=True).fill("21:30")
    await staff.get_by_label("to", exact=True).fill("06:45")
    await staff.get_by_label("Low-priority email").select_option("240")
    await channel_box(staff, "mention", "email").uncheck()
    await channel_box(staff, "leave", "push").check()
    await staff.get_by_role("button", name="Save notification settings").click()
    await expect(staff.locator(".settings .saved")).to_have_text("Saved.")

    saved = (
        await client.get("/api/v1/notifications/preferences", headers=await tenant.headers(client, "staff"))
    ).json()
    assert (saved["muted"], saved["quiet_hours"], saved["digest_minutes"]) == (
        True,
        {"start": "21:30", "end": "06:45"},
        240,
    )
    choices = {c["category"]: c for c in saved["categories"]}
    assert (choices["mention"]["email"], choices["leave"]["push"]) == (False, True)

    await staff.reload()
    await staff.goto("/#/settings")
    await expect(staff.get_by_label("Mute all notifications")).to_be_checked()
    await expect(staff.get_by_label("Hold push and email during quiet hours")).to_be_checked()
    await expect(staff.get_by_label("From", exact=True)).to_have_value("21:30")
    await expect(staff.get_by_label("to", exact=True)).to_have_value("06:45")
    await expect(staff.get_by_label("Low-priority email")).to_have_value("240")
    await expect(channel_box(staff, "mention", "email")).not_to_be_checked()
    await expect(channel_box(staff, "leave", "push")).to_be_checked()

    # Quiet hours off again: they are cleared, not kept.
    await staff.get_by_label("Hold push and email during quiet hours").uncheck()
    await expect(staff.get_by_label("From", exact=True)).to_be_disabled()
    await staff.get_by_role("button", name="Save notification settings").click()
    await expect(staff.locator(".settings .saved")).to_have_text("Saved.")
    again = (
        await client.get("/api/v1/notifications/preferences", headers=await tenant.headers(client, "staff"))
    ).json()
    assert again.get("quiet_hours") is None  # absent when off


async def test_quiet_hours_can_follow_the_time_zone_of_this_device(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    staff = await login("staff", timezone_id="Europe/Paris")
    await open_settings(staff)
    await expect(staff.locator(".prefs .zone")).to_have_text("UTC")
    await staff.get_by_role("button", name="Use this device's time zone (Europe/Paris)").click()
    await expect(staff.locator(".prefs .zone")).to_have_text("Europe/Paris")
    await expect(staff.locator(".settings .saved")).to_have_text("Quiet hours now follow Europe/Paris.")
    me = (await client.get("/api/v1/users/me", headers=await tenant.headers(client, "staff"))).json()
    assert me["timezone"] == "Europe/Paris"


async def grant_notifications(context: BrowserContext) -> None:
    await context.grant_permissions(["notifications"])


async def test_enabling_push_registers_the_service_worker_and_says_what_the_browser_allowed(
    login: Login, tenant: TenantKit
) -> None:
    """Headless Chromium in a fresh profile has no push service: the service worker registers and the
    permission shows as allowed, and the page says plainly that this browser could not subscribe."""
    from playwright.async_api import expect

    staff = await login("staff", prepare=grant_notifications)
    await open_settings(staff)
    await expect(staff.locator("#push-permission")).to_have_text(
        "Allowed: this browser may show fieldhub notifications."
    )
    await staff.get_by_role("button", name="Enable push notifications").click()
    found = await staff.evaluate(
        """async () => {
          const r = await navigator.serviceWorker.ready;
          return { script: r.active.scriptURL, scope: r.scope };
        }"""
    )
    assert found["script"].endswith("/sw.js")
    assert found["scope"].endswith("/")
    detail = staff.locator(".settings .push-detail")
    await expect(detail).not_to_have_text("")
    text = await detail.inner_text()
    assert text == "Push notifications are on for this browser." or text.startswith(
        "Push notifications could not be turned on:"
    ), text


async def test_a_refused_permission_prompt_is_said_plainly(login: Login, tenant: TenantKit) -> None:
    from playwright.async_api import expect

    async def deny(context: BrowserContext) -> None:
        await context.add_init_script("Notification.requestPermission = async () => 'denied';")

    staff = await login("staff", prepare=deny)
    await open_settings(staff)
    await expect(staff.locator("#push-permission")).to_have_text(
        "Not asked yet: the browser will ask when you turn push on."
    )
    await staff.get_by_role("button", name="Enable push notifications").click()
    await expect(staff.locator(".settings .push-detail")).to_have_text("The browser did not allow notifications.")


async def test_a_browser_that_blocks_notifications_is_shown_as_blocked_with_no_button(
    login: Login, tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    async def blocked(context: BrowserContext) -> None:
        await context.add_init_script("Object.defineProperty(Notification, 'permission', { get: () => 'denied' });")

    staff = await login("staff", prepare=blocked)
    await open_settings(staff)
    await expect(staff.locator("#push-permission")).to_have_text(
        "Blocked: notifications for this site are turned off in the browser's settings."
    )
    await expect(staff.get_by_role("button", name="Enable push notifications")).to_have_count(0)
    await staff.get_by_role("button", name="Close settings").click()
    await staff.locator(".topbar .bell").click()
    await expect(staff.locator(".panel .push-status")).to_have_text(
        "Blocked: notifications for this site are turned off in the browser's settings."
    )
    await expect(staff.locator(".panel button.push")).to_be_hidden()


def fake_push_service() -> str:
    """An init script standing in for the browser's push service: ``subscribe`` answers at once with a
    subscription holding a real P-256 key, and records the server key it was given."""
    point = (
        ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    keys = {
        "p256dh": base64.urlsafe_b64encode(point).rstrip(b"=").decode(),
        "auth": base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode(),
    }
    return """(() => {
      const keys = __KEYS__;
      const endpoint = "https://push.example.test/send/" + Math.random().toString(36).slice(2);
      let current = null;
      PushManager.prototype.subscribe = async function (options) {
        const key = new Uint8Array(options.applicationServerKey);
        window.__pushKey = Array.from(key);
        current = {
          endpoint, expirationTime: null, options: { applicationServerKey: key.buffer },
          toJSON: () => ({ endpoint, expirationTime: null, keys }),
          unsubscribe: async () => { current = null; return true; },
        };
        return current;
      };
      PushManager.prototype.getSubscription = async function () { return current; };
    })();""".replace("__KEYS__", json.dumps(keys))


async def test_the_subscription_goes_to_the_server_with_its_vapid_key_and_leaves_on_sign_out(
    login: Login, client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    async def prepare(context: BrowserContext) -> None:
        await context.grant_permissions(["notifications"])
        await context.add_init_script(fake_push_service())

    async def endpoints() -> list[str]:
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            rows = await session.scalars(
                select(PushSubscription.endpoint).where(PushSubscription.user_id == tenant.users["staff"])
            )
            return list(rows)

    staff = await login("staff", prepare=prepare)
    await open_settings(staff)
    await staff.get_by_role("button", name="Enable push notifications").click()
    await expect(staff.locator(".settings .push-detail")).to_have_text("Push notifications are on for this browser.")
    await expect(staff.get_by_role("button", name="Turn off push notifications")).to_be_visible()
    public_key = (
        await client.get("/api/v1/push/vapid-public-key", headers=await tenant.headers(client, "staff"))
    ).json()
    given = bytes(await staff.evaluate("window.__pushKey"))
    assert base64.urlsafe_b64encode(given).rstrip(b"=").decode() == public_key["public_key"]
    [endpoint] = await endpoints()
    assert endpoint.startswith("https://push.example.test/send/")

    await staff.get_by_role("button", name="Turn off push notifications").click()
    await expect(staff.locator(".settings .push-detail")).to_have_text("Push notifications are off for this browser.")
    assert await endpoints() == []

    # On again, then signing out hands this browser back: the server stops pushing to it.
    await staff.get_by_role("button", name="Enable push notifications").click()
    await expect(staff.locator(".settings .push-detail")).to_have_text("Push notifications are on for this browser.")
    assert len(await endpoints()) == 1
    await staff.get_by_role("button", name="Sign out").click()
    await expect(staff.get_by_role("button", name="Sign in")).to_be_visible()
    assert await endpoints() == []
