"""Chat over the WebSocket on two app processes: send and ack, cross-node delivery, idempotent retry,
resume with nothing lost or doubled, and membership changes moving live subscriptions."""

from __future__ import annotations

import json
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
async def nodes(settings: Settings) -> AsyncIterator[tuple[AppNode, AppNode]]:
    first, second = AppNode(settings), AppNode(settings)
    try:
        await first.ready()
        await second.ready()
        yield first, second
    finally:
        first.stop()
        second.stop()


async def _socket(node: AppNode, client: AsyncTestClient[Litestar], tenant: TenantKit, role: str) -> ClientConnection:
    ws = await node.connect(headers=await tenant.headers(client, role))
    await next_frame(ws, "hello")
    return ws


async def _send(ws: ClientConnection, ref: str, **frame: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "send", "ref": ref, **frame}, default=str))
    return await frame_where(ws, lambda f: f.get("ref") == ref)


async def _channel(client: AsyncTestClient[Litestar], tenant: TenantKit, *members: str) -> tuple[str, str]:
    admin = await tenant.headers(client, "admin")
    created = await client.post(
        "/api/v1/conversations",
        json={"name": f"rt-{id(members)}-{len(members)}", "member_ids": [str(tenant.users[m]) for m in members]},
        headers=admin,
    )
    conversation_id = created.json()["id"]
    return conversation_id, f"t:{tenant.id}:conv:{conversation_id}"


async def test_a_message_sent_on_one_node_reaches_a_member_on_the_other(
    nodes: tuple[AppNode, AppNode], client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    conversation_id, topic = await _channel(client, tenant, "staff", "supervisor")
    async with (
        await _socket(nodes[0], client, tenant, "staff") as sender,
        await _socket(nodes[1], client, tenant, "supervisor") as reader,
    ):
        ack = await _send(sender, "r1", conversation_id=conversation_id, client_id="c1", body="truck arrived")
        assert ack["type"] == "ack"
        (event,) = await chat_events(reader, topic, 1)
        assert event["seq"] == ack["message"]["seq"]
        assert event["event"]["kind"] == "message.created"
        assert event["event"]["message"]["body"] == "truck arrived"


async def test_a_retried_send_is_acked_again_and_delivered_once(
    nodes: tuple[AppNode, AppNode], client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    conversation_id, topic = await _channel(client, tenant, "staff", "supervisor")
    async with (
        await _socket(nodes[0], client, tenant, "staff") as sender,
        await _socket(nodes[1], client, tenant, "supervisor") as reader,
    ):
        first = await _send(sender, "a", conversation_id=conversation_id, client_id="dup", body="one")
        again = await _send(sender, "b", conversation_id=conversation_id, client_id="dup", body="one")
        assert (again["duplicate"], again["message"]["id"]) == (True, first["message"]["id"])
        marker = await _send(sender, "c", conversation_id=conversation_id, client_id="next", body="two")
        events = await chat_events(reader, topic, 2)
        assert [e["seq"] for e in events] == [first["message"]["seq"], marker["message"]["seq"]]


async def test_resume_replays_what_was_missed_then_goes_live(
    nodes: tuple[AppNode, AppNode], client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    conversation_id, topic = await _channel(client, tenant, "staff", "supervisor")
    async with await _socket(nodes[0], client, tenant, "staff") as sender:
        seen = (await _send(sender, "s0", conversation_id=conversation_id, client_id="m0", body="before"))["message"]
        missed = [
            (await _send(sender, f"s{n}", conversation_id=conversation_id, client_id=f"m{n}", body=f"while away {n}"))
            for n in range(1, 4)
        ]
        async with await _socket(nodes[1], client, tenant, "supervisor") as reader:
            await reader.send(json.dumps({"type": "subscribe", "ref": "sub", "topic": topic, "since": seen["seq"]}))
            replayed = await chat_events(reader, topic, 3)
            subscribed = await frame_where(reader, lambda f: f["type"] == "subscribed")
            live = await _send(sender, "s9", conversation_id=conversation_id, client_id="m9", body="live")
            (after,) = await chat_events(reader, topic, 1)
    assert [e["seq"] for e in replayed] == [m["message"]["seq"] for m in missed]
    assert subscribed["resume"] == "recovered"
    assert after["seq"] == live["message"]["seq"]


async def test_an_invitation_subscribes_a_connected_socket_on_another_node(
    nodes: tuple[AppNode, AppNode], client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    conversation_id, topic = await _channel(client, tenant)
    async with await _socket(nodes[1], client, tenant, "staff") as invitee:
        added = await client.post(
            f"/api/v1/conversations/{conversation_id}/members",
            json={"user_ids": [str(tenant.users["staff"])]},
            headers=await tenant.headers(client, "admin"),
        )
        assert added.json() == {"added": [str(tenant.users["staff"])]}
        (joined,) = await chat_events(invitee, topic, 1)
        assert joined["event"]["kind"] == "member.joined"
        async with await _socket(nodes[0], client, tenant, "admin") as admin:
            await _send(admin, "hi", conversation_id=conversation_id, client_id="w", body="welcome")
        (welcome,) = await chat_events(invitee, topic, 1)
        assert welcome["event"]["message"]["body"] == "welcome"


async def test_a_refused_send_answers_its_code_and_keeps_the_socket(
    nodes: tuple[AppNode, AppNode], client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    conversation_id, _ = await _channel(client, tenant, "staff")
    async with await _socket(nodes[0], client, tenant, "staff") as ws:
        refused = await _send(ws, "big", conversation_id=conversation_id, client_id="x", body="y" * 4001)
        assert (refused["type"], refused["code"]) == ("refused", "message_too_long")
        fine = await _send(ws, "ok", conversation_id=conversation_id, client_id="y", body="short")
        assert fine["type"] == "ack"


async def test_presence_reaches_the_people_sharing_a_conversation(
    nodes: tuple[AppNode, AppNode], client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    await _channel(client, tenant, "staff", "supervisor")
    async with (
        await _socket(nodes[0], client, tenant, "staff") as watcher,
        await _socket(nodes[1], client, tenant, "supervisor"),
    ):
        online = await frame_where(
            watcher, lambda f: f["type"] == "presence" and f["user_id"] == str(tenant.users["supervisor"])
        )
        assert online["status"] == "online"


async def test_presence_can_be_asked_for_over_http(
    nodes: tuple[AppNode, AppNode], client: AsyncTestClient[Litestar], tenant: TenantKit, other_tenant: TenantKit
) -> None:
    headers = await tenant.headers(client, "admin")
    async with await _socket(nodes[0], client, tenant, "staff"):
        response = await client.get(
            "/api/v1/presence",
            params={
                "user_ids": [
                    str(tenant.users["staff"]),
                    str(tenant.users["moderator"]),
                    str(other_tenant.users["admin"]),
                ]
            },
            headers=headers,
        )
    assert [(e["user_id"], e["status"]) for e in response.json()] == [
        (str(tenant.users["staff"]), "online"),
        (str(tenant.users["moderator"]), "offline"),
        (str(other_tenant.users["admin"]), "offline"),
    ]
