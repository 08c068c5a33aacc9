"""Steps shared by the browser tests: arrange over HTTP, act and look through the page."""

from __future__ import annotations

import re
import secrets
import struct
import zlib
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

PHONE = 375
DESKTOP = 1280


async def channel(
    client: AsyncTestClient[Litestar], tenant: TenantKit, name: str, members: list[str], *, kind: str = "public"
) -> dict[str, Any]:
    """A channel created by the admin with ``members`` (roles) in it."""
    response = await client.post(
        "/api/v1/conversations",
        json={"name": name, "kind": kind, "member_ids": [str(tenant.users[m]) for m in members]},
        headers=await tenant.headers(client, "admin"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def direct(client: AsyncTestClient[Litestar], tenant: TenantKit, role: str, other: str) -> dict[str, Any]:
    """The direct conversation of ``role`` with ``other``."""
    response = await client.post(
        "/api/v1/conversations/direct",
        json={"user_id": str(tenant.users[other])},
        headers=await tenant.headers(client, role),
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def post(
    client: AsyncTestClient[Litestar], headers: dict[str, Any], conversation_id: str, body: str, **extra: Any
) -> dict[str, Any]:
    """A message posted over HTTP with ``headers`` (``await tenant.headers(client, role)``)."""
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_id": f"http-{secrets.token_hex(8)}", "body": body, **extra},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    message: dict[str, Any] = response.json()["message"]
    return message


async def notify(client: AsyncTestClient[Litestar], tenant: TenantKit, role: str, title: str, **extra: Any) -> str:
    """A notification to ``role`` sent by the admin over HTTP; its id."""
    response = await client.post(
        "/api/v1/notifications",
        json={
            "recipients": {"users": [str(tenant.users[role])]},
            "category": "system",
            "title": title,
            "idempotency_key": f"web-{title}",
            **extra,
        },
        headers=await tenant.headers(client, "admin"),
    )
    assert response.status_code == 201, response.text
    ids: list[str] = response.json()["ids"]
    return ids[0]


async def open_conversation(page: Page, name: str) -> None:
    from playwright.async_api import expect

    await page.locator(".sidebar .conv", has_text=name).click()
    await expect(page.locator(".chat-title")).to_contain_text(name)
    await expect(page.locator(".chat .older")).to_have_text("This is the beginning of the conversation.")


async def send(page: Page, text: str, *, where: str = ".chat") -> None:
    box = page.locator(f"{where} .composer-input")
    await box.fill(text)
    await box.press("Enter")


def bodies(page: Page, where: str = ".chat") -> Locator:
    """The bodies of the sent (not pending) messages of the chat or the thread panel."""
    return page.locator(f"{where} .message:not(.pending) > .body")


def message(page: Page, text: str, where: str = ".chat") -> Locator:
    """The sent message whose body is exactly ``text``."""
    exactly = re.compile(f"^{re.escape(text)}$")
    return (
        page.locator(f"{where} .message:not(.pending)")
        .filter(has=page.locator(":scope > .body", has_text=exactly))
        .last
    )


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (stripes): the server checks uploads by their content."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + (b"\xd0\x40\x30" if y % 20 < 10 else b"\x30\x70\xd0") * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
