"""Two people in two browser contexts chat in real time: one behaviour per test (typing, sending,
reactions, threads, uploads, presence, read receipts, edits and deletes, markup kept as text)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit
from tests.web.steps import PHONE, bodies, channel, direct, message, open_conversation, png, post, send

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page, Route, WebSocketRoute

    from tests.web.conftest import Login

pytestmark = pytest.mark.timeout(90)


async def pair(login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit, name: str) -> tuple[Page, Page]:
    """Admin on a desktop and staff on a phone, both in channel ``name``."""
    await channel(client, tenant, name, ["staff"])
    admin = await login("admin")
    staff = await login("staff", width=PHONE)
    await open_conversation(admin, name)
    await open_conversation(staff, name)
    return admin, staff


async def test_typing_shows_who_is_typing_until_their_message_arrives(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin, staff = await pair(login, client, tenant, "typing")
    box = admin.locator(".chat .composer-input")
    await box.press_sequentially("Shelf 4")
    await expect(staff.locator(".chat .typing")).to_have_text("Admin is typing…")
    await box.press("Shift+Enter")
    await box.press_sequentially("restocked")
    await box.press("Enter")
    await expect(bodies(staff)).to_have_text(["Shelf 4\nrestocked"])
    await expect(staff.locator(".chat .typing")).to_have_text("")


async def test_a_message_is_pending_at_once_and_turns_sent_on_the_ack(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    """The server's answers are held back: the sender sees the message at once, marked as sending."""
    from playwright.async_api import expect

    holding = asyncio.Event()
    held: list[str] = []
    pages: list[WebSocketRoute] = []

    async def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        pages.append(ws)

        def from_server(text: str | bytes) -> None:
            if holding.is_set():
                held.append(str(text))
            else:
                ws.send(text)

        server.on_message(from_server)

    async def prepare(context: BrowserContext) -> None:
        await context.route_web_socket("**/ws?*", route)

    await channel(client, tenant, "pending", ["staff"])
    admin = await login("admin", prepare=prepare)
    staff = await login("staff", width=PHONE)
    await open_conversation(admin, "pending")
    await open_conversation(staff, "pending")

    holding.set()
    await send(admin, "truck arrived, see https://example.com/plan.")
    pending = admin.locator(".chat .message.pending")
    await expect(pending.locator(".status")).to_have_text("Sending…")
    await expect(pending.locator(".body")).to_have_text("truck arrived, see https://example.com/plan.")
    await expect(bodies(staff)).to_have_text(["truck arrived, see https://example.com/plan."])

    holding.clear()
    for text in held:
        pages[-1].send(text)
    await expect(pending).to_have_count(0)
    await expect(bodies(admin)).to_have_text(["truck arrived, see https://example.com/plan."])
    link = staff.locator(".chat .message .body a")
    await expect(link).to_have_attribute("href", "https://example.com/plan")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    await expect(link).to_have_attribute("target", "_blank")


async def test_reactions_show_live_and_toggle(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin, staff = await pair(login, client, tenant, "reactions")
    await send(admin, "Aisle 3 done")
    first = message(staff, "Aisle 3 done")
    await first.hover()
    await first.locator(".react-open").click()
    await first.get_by_role("button", name="React 👍").click()
    await expect(admin.locator(".chat .message .reaction")).to_have_text(["👍 1"])
    await admin.locator(".chat .message .reaction").click()
    await expect(staff.locator(".chat .message .reaction")).to_have_text(["👍 2"])
    await expect(staff.locator(".chat .message .reaction")).to_have_attribute("aria-pressed", "true")
    await staff.locator(".chat .message .reaction").click()
    await expect(admin.locator(".chat .message .reaction")).to_have_text(["👍 1"])
    await expect(admin.locator(".chat .message .reaction")).to_have_attribute("aria-pressed", "true")


async def test_a_thread_reply_reaches_the_other_person_live(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin, staff = await pair(login, client, tenant, "threads")
    await send(admin, "Photo of shelf 4?")
    root = message(admin, "Photo of shelf 4?")
    await root.hover()
    await root.get_by_role("button", name="Reply in thread").click()
    await send(admin, "Taking it now", where=".thread")
    await expect(bodies(admin, ".thread")).to_have_text(["Photo of shelf 4?", "Taking it now"])
    await expect(staff.locator(".chat .thread-link")).to_have_text("1 reply")
    await expect(bodies(staff)).to_have_text(["Photo of shelf 4?"])  # replies stay out of the channel

    await staff.locator(".chat .thread-link").click()
    await expect(bodies(staff, ".thread")).to_have_text(["Photo of shelf 4?", "Taking it now"])
    await send(staff, "Thanks!", where=".thread")
    await expect(bodies(admin, ".thread")).to_have_text(["Photo of shelf 4?", "Taking it now", "Thanks!"])
    await expect(admin.locator(".chat .thread-link")).to_have_text("2 replies")


async def test_an_upload_by_button_shows_progress_and_a_preview_then_the_image_for_both(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin, staff = await pair(login, client, tenant, "uploads")
    release = asyncio.Event()

    async def slow_upload(route: Route) -> None:
        await release.wait()  # the bytes are sent; the answer waits, so the bar is seen
        await route.continue_()

    await admin.route("**/api/v1/files", slow_upload)
    await admin.locator(".chat .composer input[type=file]").set_input_files(
        [{"name": "shelf.png", "mimeType": "image/png", "buffer": png()}]
    )
    upload = admin.locator(".chat .uploads .upload")
    await expect(upload.locator("progress")).to_be_visible()
    await expect(upload.locator("progress")).to_have_attribute("aria-label", "Uploading shelf.png")
    await expect(upload.locator("img.preview")).to_have_attribute("src", _blob_url())
    await send(admin, "too early")
    await expect(admin.locator(".chat .composer .error")).to_have_text("Wait for the uploads to finish.")
    release.set()
    await expect(upload).to_contain_text("Ready")
    await send(admin, "Shelf 4 after restock")

    for page in (admin, staff):
        sent = message(page, "Shelf 4 after restock")
        image = sent.locator(".attachment img")
        await expect(image).to_have_attribute("alt", "shelf.png")
        await expect(image).to_have_attribute("src", _file_url())
        await page.wait_for_function("img => img.complete && img.naturalWidth === 4", arg=await image.element_handle())
    await expect(admin.locator(".chat .uploads .upload")).to_have_count(0)


async def test_a_file_dropped_on_the_conversation_is_uploaded_and_sent(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin, staff = await pair(login, client, tenant, "drops")
    await admin.evaluate(
        """(bytes) => {
          const data = new DataTransfer();
          data.items.add(new File([new Uint8Array(bytes)], "dropped.png", { type: "image/png" }));
          const zone = document.querySelector(".chat");
          zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
          zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
        }""",
        list(png()),
    )
    await expect(admin.locator(".chat .uploads .upload")).to_contain_text("Ready")
    await expect(admin.locator(".chat")).to_have_class("chat")
    await admin.locator(".chat .composer-input").press("Enter")  # a file alone is a message
    await expect(staff.locator(".chat .message .attachment img")).to_have_attribute("alt", "dropped.png")


async def test_presence_dots_follow_the_other_person_and_their_chosen_status(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    await direct(client, tenant, "admin", "staff")
    admin = await login("admin")
    dot = admin.locator(".sidebar .conv", has_text="Staff").locator(".presence")
    await expect(dot).to_have_class("presence offline")
    staff = await login("staff", width=PHONE)
    await expect(dot).to_have_class("presence online")
    await expect(admin.locator(".sidebar .conv", has_text="Staff")).to_have_attribute(
        "aria-label", _starts("Staff, online")
    )

    await staff.locator(".topbar .gear").click()
    await staff.get_by_label("Show me as").select_option("dnd")
    await expect(dot).to_have_class("presence dnd")
    await admin.locator(".sidebar .conv", has_text="Staff").click()
    await expect(admin.locator(".chat-header .presence")).to_have_attribute("aria-label", "dnd")

    await staff.context.close()
    await expect(dot).to_have_class("presence offline")


async def test_a_direct_message_shows_seen_once_the_other_person_read_it(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    await direct(client, tenant, "admin", "staff")
    admin = await login("admin")
    staff = await login("staff", width=PHONE)
    await open_conversation(admin, "Staff")
    await send(admin, "Can you cover Saturday?")
    await expect(bodies(admin)).to_have_text(["Can you cover Saturday?"])
    await expect(admin.locator(".chat .receipt")).to_have_count(0)
    await expect(staff.locator(".sidebar .conv", has_text="Admin").locator(".badge")).to_have_text("1")

    await open_conversation(staff, "Admin")
    await expect(message(admin, "Can you cover Saturday?").locator(".receipt")).to_have_text("✓✓ Seen")
    await expect(staff.locator(".sidebar .conv", has_text="Admin").locator(".badge")).to_have_count(0)


async def test_an_edit_is_marked_with_its_history_and_a_delete_leaves_a_tombstone(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin, staff = await pair(login, client, tenant, "edits")
    await send(admin, "Meet at 9")
    await expect(bodies(staff)).to_have_text(["Meet at 9"])

    box = admin.locator(".chat .composer-input")
    await box.press("ArrowUp")  # edits my last message
    editor = admin.locator(".chat .edit-box")
    await expect(editor).to_be_focused()
    await editor.fill("Meet at 10")
    await editor.press("Enter")
    await expect(box).to_be_focused()

    edited = message(staff, "Meet at 10")
    await expect(edited.locator(".edited")).to_have_text("(edited)")
    await edited.locator("button.edited").click()
    await expect(edited.locator("button.edited")).to_have_attribute("aria-expanded", "true")
    await expect(edited.locator(".versions .body")).to_have_text(["Meet at 9"])

    sent = message(admin, "Meet at 10")
    await sent.hover()
    await sent.get_by_role("button", name="Delete", exact=True).click()
    await sent.get_by_role("button", name="Delete for everyone").click()
    tombstone = staff.locator(".chat .message.deleted")
    await expect(tombstone.locator(".tombstone")).to_have_text("This message was deleted.")
    await expect(staff.locator(".chat .message .versions")).to_have_count(0)
    await expect(staff.locator(".chat .message.deleted .edited")).to_have_count(0)


async def test_each_message_shows_its_author_and_its_time_in_the_readers_time_zone(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    room = await channel(client, tenant, "clock", ["staff"])
    sent = await post(client, await tenant.headers(client, "staff"), room["id"], "Doors open")
    admin = await login("admin", timezone_id="Asia/Kathmandu", locale="en-GB")  # UTC+05:45
    await open_conversation(admin, "clock")
    await send(admin, "Thanks")
    first = message(admin, "Doors open")
    await expect(first.locator(".meta .author")).to_have_text("Staff")
    created = datetime.fromisoformat(sent["created_at"].replace("Z", "+00:00"))
    local = created.astimezone(ZoneInfo("Asia/Kathmandu"))
    time = first.locator(".meta time")
    await expect(time).to_have_attribute("datetime", sent["created_at"])
    await expect(time).to_have_text(local.strftime("%H:%M"))
    await expect(time).to_have_attribute("title", re.compile(re.escape(local.strftime("%H:%M")) + "$"))
    await expect(message(admin, "Thanks").locator(".meta .author")).to_have_text("Admin")


async def test_only_my_own_messages_offer_edit_and_delete(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin, staff = await pair(login, client, tenant, "owners")
    await send(admin, "mine to change")
    await send(staff, "not yours")
    await expect(bodies(admin)).to_have_text(["mine to change", "not yours"])
    theirs = message(admin, "not yours")
    await theirs.hover()
    await expect(theirs.get_by_role("button", name="Report")).to_be_visible()
    await expect(theirs.get_by_role("button", name="Edit")).to_have_count(0)
    await expect(theirs.get_by_role("button", name="Delete")).to_have_count(0)
    mine = message(admin, "mine to change")
    await mine.hover()
    await expect(mine.get_by_role("button", name="Edit")).to_be_visible()
    await expect(mine.get_by_role("button", name="Delete")).to_be_visible()
    await expect(mine.get_by_role("button", name="Report")).to_have_count(0)


async def test_markup_in_a_message_is_shown_as_text_and_runs_nothing(
    login: Login, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    from playwright.async_api import expect

    admin, staff = await pair(login, client, tenant, "escaping")
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>'
    await send(admin, attack)
    await expect(bodies(staff)).to_have_text([attack])
    await expect(bodies(admin)).to_have_text([attack])
    assert await staff.evaluate("window.__pwned") is None
    assert await admin.evaluate("window.__pwned") is None
    await expect(
        staff.locator(".chat .message .body img, .chat .message .body script, .chat .message .body b")
    ).to_have_count(0)
    await staff.locator(".topbar .search input").fill("bold")
    await staff.locator(".topbar .search input").press("Enter")
    await expect(staff.locator(".search-results .snippet mark")).to_contain_text(["bold"])
    await expect(staff.locator(".search-results .snippet script, .search-results .snippet img")).to_have_count(0)


def _blob_url() -> Any:
    return re.compile(r"^blob:")


def _file_url() -> Any:
    return re.compile(r"^/api/v1/files/[0-9a-f-]{36}/content$")


def _starts(prefix: str) -> Any:
    return re.compile("^" + re.escape(prefix))
