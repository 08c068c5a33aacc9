"""The inbox over a real socket: a notification arrives live, reading it reaches every device, and a
reconnecting device resumes the inbox from its last ``seq`` with nothing missed or doubled."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import ClientConnection

from api.settings import Settings
from tests.kit import TenantKit
from tests.nodes import AppNode, chat_events, frame_where, next_frame


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[AppNode]:
    started = AppNode(settings)
    try:
        await started.ready()
        yield started
    finally:
        started.stop()


def _inbox(tenant: TenantKit, role: str) -> str:
    return f"t:{tenant.id}:inbox:{tenant.users[role]}"


async def _notify(client: AsyncTestClient[Litestar], tenant: TenantKit, title: str) -> str:
    response = await client.post(
        "/api/v1/notifications",
        json={
            "recipients": {"users": [str(tenant.users["staff"])]},
            "category": "task",
            "title": title,
            "idempotency_key": secrets.token_hex(8),
        },
        headers=await tenant.headers(client, "supervisor"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["ids"][0])


async def _device(node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit) -> ClientConnection:
    ws = await node.connect(headers=await tenant.headers(client, "staff"))
    hello = await next_frame(ws, "hello")
    assert _inbox(tenant, "staff") in hello["topics"]
    return ws


async def test_a_notification_arrives_live_with_the_new_count(
    node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    async with await _device(node, client, tenant) as ws:
        notification_id = await _notify(client, tenant, "Restock shelf 4")
        (event,) = await chat_events(ws, _inbox(tenant, "staff"), 1)
    body: dict[str, Any] = event["event"]
    assert (body["kind"], body["notification"]["id"], body["counts"]["unread"]) == (
        "notification.created",
        notification_id,
        1,
    )


async def test_reading_on_one_device_updates_the_other(
    node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    notification_id = await _notify(client, tenant, "Planogram change")
    async with await _device(node, client, tenant) as other_device:
        read = await client.post(
            "/api/v1/notifications/state",
            json={"state": "read", "ids": [notification_id]},
            headers=await tenant.headers(client, "staff"),
        )
        assert read.status_code in (200, 204), read.text
        state = await frame_where(
            other_device,
            lambda f: f["type"] == "event" and f["event"].get("kind") == "notification.state",
        )
    assert (state["event"]["state"], state["event"]["counts"]["unread"]) == ("read", 0)


async def test_a_reconnecting_device_resumes_its_inbox_exactly_once(
    node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    topic = _inbox(tenant, "staff")
    async with await _device(node, client, tenant) as ws:
        await _notify(client, tenant, "first")
        (seen,) = await chat_events(ws, topic, 1)
    missed = [await _notify(client, tenant, f"while away {n}") for n in range(2)]
    async with await _device(node, client, tenant) as ws:
        await ws.send(json.dumps({"type": "subscribe", "ref": "r", "topic": topic, "since": seen["seq"]}))
        replayed = await chat_events(ws, topic, 2)
        subscribed = await frame_where(ws, lambda f: f["type"] == "subscribed" and f["topic"] == topic)
    assert [e["event"]["notification"]["id"] for e in replayed] == missed
    assert [e["seq"] for e in replayed] == [seen["seq"] + 1, seen["seq"] + 2]
    assert subscribed["resume"] == "recovered"
