"""Connection life: offline and back sees what was missed exactly once; a send whose answer was lost
is retried on reconnect without a double; the banner says what is going on meanwhile."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit
from tests.web.steps import PHONE, bodies, channel, notify, open_conversation, post, send

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Route, WebSocketRoute

    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(90)


async def test_offline_and_back_sees_what_was_missed_exactly_once(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    await channel(client, tenant, "store-7", ["staff"])
    admin = await login("admin")
    staff = await login("staff", width=PHONE)
    await open_conversation(admin, "store-7")
    await open_conversation(staff, "store-7")
    await send(admin, "before")
    await expect(bodies(staff)).to_have_text(["before"])

    await staff.context.set_offline(True)
    await expect(staff.locator("#banner")).to_contain_text("You are offline")
    for n in range(1, 4):
        await send(admin, f"missed {n}")
    await expect(bodies(admin).last).to_have_text("missed 3")
    await send(staff, "sent while offline")
    await expect(staff.locator(".chat .message.pending .status")).to_contain_text("Not sent")
    await notify(client, tenant, "staff", "Shift moved to 8:00")
    await expect(staff.locator(".topbar .bell .count")).to_be_hidden()

    await staff.context.set_offline(False)
    await expect(staff.locator("body")).to_have_attribute("data-connection", "open")
    await expect(staff.locator("#banner")).to_be_hidden()
    expected = ["before", "missed 1", "missed 2", "missed 3", "sent while offline"]
    await expect(bodies(staff)).to_have_text(expected)
    await expect(bodies(admin)).to_have_text(expected)
    await expect(staff.locator(".chat .message.pending")).to_have_count(0)
    # The inbox resumed too: the notification sent meanwhile is there, once.
    await expect(staff.locator(".topbar .bell .count")).to_have_text("1")
    await staff.locator(".topbar .bell").click()
    await expect(staff.locator(".inbox-list .notification .title")).to_have_text(["Shift moved to 8:00"])
    await staff.wait_for_timeout(500)  # a late duplicate would show by now
    await expect(bodies(staff)).to_have_text(expected)
    await expect(staff.locator(".inbox-list .notification")).to_have_count(1)


async def test_a_send_whose_answer_was_lost_is_retried_once_the_connection_is_back(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    """The server stores the message, but the socket dies before the browser hears so: the browser
    shows it failed, says it is reconnecting, resends with the same client id and shows it once."""
    from playwright.async_api import expect

    refuse = asyncio.Event()
    sockets: list[WebSocketRoute] = []
    lost = asyncio.Event()  # set at the first send: its answers never reach the page

    async def route(ws: WebSocketRoute) -> None:
        if refuse.is_set():
            await ws.close(code=1011, reason="test: refused")
            return
        server = ws.connect_to_server()
        sockets.append(ws)
        cut = asyncio.Event()

        def from_page(text: str | bytes) -> None:
            server.send(text)
            if json.loads(text).get("type") == "send" and not lost.is_set():
                lost.set()
                cut.set()  # nothing more reaches the page on this socket

        def from_server(text: str | bytes) -> None:
            if not cut.is_set():
                ws.send(text)

        ws.on_message(from_page)
        server.on_message(from_server)

    async def prepare(context: BrowserContext) -> None:
        await context.route_web_socket("**/ws?*", route)

    room = await channel(client, tenant, "flaky", ["staff"])
    admin = await login("admin", prepare=prepare)
    staff = await login("staff", width=PHONE)
    await open_conversation(admin, "flaky")
    await open_conversation(staff, "flaky")

    await send(admin, "only once")
    await expect(bodies(staff)).to_have_text(["only once"])  # the server has it
    pending = admin.locator(".chat .message.pending")
    await expect(pending.locator(".status")).to_have_text("Sending…")

    refuse.set()
    await sockets[-1].close(code=1011, reason="test: connection lost")
    await expect(pending.locator(".status")).to_contain_text("Not sent: no connection.")
    await expect(pending.get_by_role("button", name="Retry")).to_be_visible()
    await expect(admin.locator("#banner")).to_contain_text("Reconnecting…")

    refuse.clear()
    await expect(admin.locator("body")).to_have_attribute("data-connection", "open", timeout=40_000)
    await expect(admin.locator("#banner")).to_be_hidden()
    await expect(pending).to_have_count(0)
    await expect(bodies(admin)).to_have_text(["only once"])
    await expect(bodies(staff)).to_have_text(["only once"])
    history = await client.get(
        f"/api/v1/conversations/{room['id']}/messages", headers=await tenant.headers(client, "admin")
    )
    assert [m["body"] for m in history.json()["messages"]] == ["only once"]


async def test_a_slow_history_does_not_hold_up_the_rest_of_the_page(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    slow = await channel(client, tenant, "slow-one", ["staff"])
    await channel(client, tenant, "quick-one", ["staff"])
    await post(client, await tenant.headers(client, "admin"), slow["id"], "worth the wait")
    staff = await login("staff")
    release = asyncio.Event()

    async def crawl(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await staff.route(f"**/api/v1/conversations/{slow['id']}/messages*", crawl)
    await staff.locator(".sidebar .conv", has_text="slow-one").click()
    await expect(staff.locator(".chat-title")).to_have_text("# slow-one")
    # While that history crawls in, everything else answers.
    await open_conversation(staff, "quick-one")
    await send(staff, "meanwhile")
    await expect(bodies(staff)).to_have_text(["meanwhile"])
    await staff.get_by_role("button", name="Settings", exact=True).click()
    await expect(staff.locator(".save-prefs")).to_be_visible()
    await staff.get_by_role("button", name="Close settings").click()
    release.set()
    await open_conversation(staff, "slow-one")
    await expect(bodies(staff)).to_have_text(["worth the wait"])
    await expect(staff.locator(".chat-title")).to_have_text("# slow-one")


async def test_a_refused_send_is_retried_with_the_retry_button_and_stored_once(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    """The server stores the message but the page hears "busy" instead of its ack (and misses its
    event): the row offers Retry; retrying sends the same client id, the server finds its original
    (``duplicate``) and the message shows once, everywhere."""
    from playwright.async_api import expect

    sends: list[dict[str, object]] = []
    acks: list[dict[str, object]] = []

    async def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(text: str | bytes) -> None:
            frame = json.loads(text)
            if frame.get("type") == "send":
                sends.append(frame)
            server.send(text)

        def from_server(text: str | bytes) -> None:
            frame = json.loads(text)
            first = sends[0] if sends else None
            refs = {s["ref"] for s in sends if first is not None and s["client_id"] == first["client_id"]}
            if first is not None and frame.get("type") == "ack" and frame.get("ref") in refs:
                acks.append(frame)
                if len(acks) == 1:  # the first answer is lost, "busy" comes instead
                    ws.send(
                        json.dumps({"type": "error", "ref": first["ref"], "code": "unavailable", "message": "busy"})
                    )
                    return
            event = frame.get("event") or {}
            created = (event.get("message") or {}) if event.get("kind") == "message.created" else {}
            if first is not None and created.get("client_id") == first["client_id"] and len(acks) <= 1:
                return  # nor does its event reach this page before the retry
            ws.send(text)

        ws.on_message(from_page)
        server.on_message(from_server)

    async def prepare(context: BrowserContext) -> None:
        await context.route_web_socket("**/ws?*", route)

    room = await channel(client, tenant, "busy", ["staff"])
    admin = await login("admin", prepare=prepare)
    staff = await login("staff", width=PHONE)
    await open_conversation(admin, "busy")
    await open_conversation(staff, "busy")

    await send(admin, "stock count done")
    failed = admin.locator(".chat .message.pending.failed")
    await expect(failed.locator(".status")).to_contain_text("Not sent: the server is busy. Retry in a moment.")
    await expect(bodies(staff)).to_have_text(["stock count done"])  # the server had stored it
    await expect(admin.locator("body")).to_have_attribute("data-connection", "open")  # nothing reconnected

    await failed.get_by_role("button", name="Retry").click()
    await expect(admin.locator(".chat .message.pending")).to_have_count(0)
    await expect(bodies(admin)).to_have_text(["stock count done"])
    await expect(bodies(staff)).to_have_text(["stock count done"])
    assert [s["client_id"] for s in sends] == [sends[0]["client_id"]] * 2
    assert [a.get("duplicate", False) for a in acks] == [False, True]
    history = await client.get(
        f"/api/v1/conversations/{room['id']}/messages", headers=await tenant.headers(client, "admin")
    )
    assert [m["body"] for m in history.json()["messages"]] == ["stock count done"]


async def test_offline_and_back_resumes_the_conversations_that_are_not_open(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    await channel(client, tenant, "front", ["staff"])
    yard = await channel(client, tenant, "yard", ["staff"])
    staff = await login("staff", width=PHONE)
    await open_conversation(staff, "front")
    badge = staff.locator(".sidebar .conv", has_text="yard").locator(".badge")

    await staff.context.set_offline(True)
    await expect(staff.locator("#banner")).to_contain_text("You are offline")
    admin = await tenant.headers(client, "admin")
    await post(client, admin, yard["id"], "pallet 1 in")
    await post(client, admin, yard["id"], "pallet 2 in")
    await staff.context.set_offline(False)
    await expect(staff.locator("body")).to_have_attribute("data-connection", "open")

    await expect(badge).to_have_text("2")
    await post(client, admin, yard["id"], "pallet 3 in")  # live again after the replay
    await expect(badge).to_have_text("3")
    await staff.get_by_role("button", name="Back to conversations").click()
    await open_conversation(staff, "yard")
    await expect(bodies(staff)).to_have_text(["pallet 1 in", "pallet 2 in", "pallet 3 in"])
