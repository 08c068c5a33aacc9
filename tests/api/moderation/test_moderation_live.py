"""Moderation live on every node: two ``fieldhub serve`` processes beside the test client's app, which
takes the moderators' actions. New cases reach every moderator's socket; hide, restore, delete,
approve and mute take effect for sockets on both nodes at once; a suspension closes the suspended
user's sockets on every node."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from litestar import Litestar
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import ClientConnection

from api.settings import Settings
from tests.api.moderation.moderation_http import acted, flag
from tests.kit import PASSWORD, TenantKit
from tests.nodes import AppNode, chat_events, frame_where, next_frame

Client = AsyncTestClient[Litestar]


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


async def socket(
    node: AppNode, client: Client, tenant: TenantKit, role: str
) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await node.connect(headers=await tenant.headers(client, role))
    return ws, await next_frame(ws, "hello")


async def room(client: Client, tenant: TenantKit, *members: str) -> tuple[str, str]:
    created = await client.post(
        "/api/v1/conversations",
        json={"name": f"live-{len(members)}-{id(members)}", "member_ids": [str(tenant.users[m]) for m in members]},
        headers=await tenant.headers(client, "admin"),
    )
    assert created.status_code == 201, created.text
    conversation_id: str = created.json()["id"]
    return conversation_id, f"t:{tenant.id}:conv:{conversation_id}"


async def send(ws: ClientConnection, ref: str, conversation_id: str, body: str) -> dict[str, Any]:
    await ws.send(
        json.dumps({"type": "send", "ref": ref, "conversation_id": conversation_id, "client_id": ref, "body": body})
    )
    return await frame_where(ws, lambda f: f.get("ref") == ref)


async def case_events(ws: ClientConnection, tenant: TenantKit) -> dict[str, Any]:
    frame = await frame_where(ws, lambda f: f["type"] == "event" and f["topic"] == f"t:{tenant.id}:moderation")
    event: dict[str, Any] = frame["event"]
    return event


async def closed_with(ws: ClientConnection) -> int | None:
    with contextlib.suppress(websockets.exceptions.ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    return ws.close_code


async def test_a_new_case_appears_on_every_moderators_socket_and_nowhere_else(
    nodes: tuple[AppNode, AppNode], client: Client, tenant: TenantKit
) -> None:
    await tenant.add_user("mod2", roles=["moderator"])
    conversation_id, _ = await room(client, tenant, "staff", "supervisor")
    first, first_hello = await socket(nodes[0], client, tenant, "moderator")
    second, _ = await socket(nodes[1], client, tenant, "mod2")
    member, member_hello = await socket(nodes[1], client, tenant, "staff")
    topic = f"t:{tenant.id}:moderation"
    assert topic in first_hello["topics"]
    assert topic not in member_hello["topics"]
    async with first, second, member:
        ack = await send(member, "m1", conversation_id, "buy followers here")
        case_id = await flag(client, tenant, "supervisor", ack["message"]["id"], "spam")
        for ws in (first, second):
            opened = await case_events(ws, tenant)
            assert (opened["kind"], opened["case"]["id"], opened["case"]["flag_count"]) == ("case.opened", case_id, 1)
            assert "content" not in opened["case"]  # what was said travels over HTTP only, where scope applies
        # A second flag and a claim update the case on every screen.
        await flag(client, tenant, "admin", ack["message"]["id"], "violence")
        for ws in (first, second):
            updated = await case_events(ws, tenant)
            assert (updated["kind"], updated["case"]["flag_count"]) == ("case.updated", 2)
            assert updated["case"]["priority"] > 100
        await client.post(f"/api/v1/moderation/cases/{case_id}/claim", headers=await tenant.headers(client, "mod2"))
        for ws in (first, second):
            claimed = await case_events(ws, tenant)
            assert claimed["case"]["claimed_by"] == str(tenant.users["mod2"])


async def test_hide_restore_and_delete_reach_members_on_both_nodes(
    nodes: tuple[AppNode, AppNode], client: Client, tenant: TenantKit
) -> None:
    conversation_id, topic = await room(client, tenant, "staff", "supervisor")
    author, _ = await socket(nodes[0], client, tenant, "staff")
    near, _ = await socket(nodes[0], client, tenant, "supervisor")
    far, _ = await socket(nodes[1], client, tenant, "admin")
    async with author, near, far:
        first = (await send(author, "a1", conversation_id, "you are all idiots"))["message"]
        second = (await send(author, "a2", conversation_id, "and I mean it"))["message"]
        for ws in (near, far):
            await chat_events(ws, topic, 2)

        case_id = await flag(client, tenant, "supervisor", first["id"], "harassment")
        await acted(client, tenant, "moderator", case_id, "hide", reason="insult")
        for ws in (near, far):
            (event,) = await chat_events(ws, topic, 1)
            assert event["event"]["kind"] == "message.moderated"
            hidden = event["event"]["message"]
            assert (hidden["id"], hidden["body"], hidden["moderation"]) == (first["id"], "", "hidden")

        await acted(client, tenant, "moderator", case_id, "restore", reason="on second thought")
        for ws in (near, far):
            (event,) = await chat_events(ws, topic, 1)
            restored = event["event"]["message"]
            assert (restored["body"], restored.get("moderation")) == ("you are all idiots", None)

        other = await flag(client, tenant, "supervisor", second["id"], "harassment")
        await acted(client, tenant, "moderator", other, "delete", reason="threat")
        for ws in (near, far):
            (event,) = await chat_events(ws, topic, 1)
            assert event["event"]["kind"] == "message.deleted"
            assert (event["event"]["message"]["deleted"], event["event"]["message"]["body"]) == (True, "")


async def test_a_held_message_reaches_others_only_when_approved(
    nodes: tuple[AppNode, AppNode], client: Client, tenant: TenantKit
) -> None:
    created = await client.post(
        "/api/v1/moderation/rules",
        json={"name": "hold links", "kind": "link_domain", "action": "hold", "terms": ["shady.example"]},
        headers=await tenant.headers(client, "moderator"),
    )
    assert created.status_code == 201, created.text
    conversation_id, topic = await room(client, tenant, "staff", "supervisor")
    author, _ = await socket(nodes[0], client, tenant, "staff")
    other, _ = await socket(nodes[1], client, tenant, "supervisor")
    moderator, _ = await socket(nodes[1], client, tenant, "moderator")
    async with author, other, moderator:
        ack = await send(author, "h1", conversation_id, "deals at https://shady.example/x")
        assert (ack["type"], ack["message"]["moderation"]) == ("ack", "held")
        assert ack["message"]["body"] == "deals at https://shady.example/x"
        (created_event,) = await chat_events(other, topic, 1)
        assert (created_event["event"]["message"]["body"], created_event["event"]["message"]["moderation"]) == (
            "",
            "held",
        )
        opened = await case_events(moderator, tenant)
        assert (opened["kind"], opened["case"]["held"], opened["case"]["source"]) == ("case.opened", True, "rule")

        await acted(client, tenant, "moderator", opened["case"]["id"], "approve", reason="a real supplier")
        (approved,) = await chat_events(other, topic, 1)
        assert approved["event"]["kind"] == "message.moderated"
        assert approved["event"]["message"]["body"] == "deals at https://shady.example/x"


async def test_a_mute_refuses_the_next_send_on_any_node(
    nodes: tuple[AppNode, AppNode], client: Client, tenant: TenantKit
) -> None:
    muted_here, _ = await room(client, tenant, "staff", "supervisor")
    elsewhere, _ = await room(client, tenant, "staff")
    near, _ = await socket(nodes[0], client, tenant, "staff")
    far, _ = await socket(nodes[1], client, tenant, "staff")
    async with near, far:
        ack = await send(near, "s1", muted_here, "flood flood")
        case_id = await flag(client, tenant, "supervisor", ack["message"]["id"], "spam")
        await acted(client, tenant, "moderator", case_id, "mute", reason="flooding", mute_minutes=30)
        for ws, ref in ((near, "s2"), (far, "s3")):
            refused = await send(ws, ref, muted_here, "more")
            assert (refused["type"], refused["code"]) == ("refused", "muted")
            assert "muted" in refused["message"]
        # A conversation mute leaves the author's other conversations alone.
        assert (await send(far, "s4", elsewhere, "fine here"))["type"] == "ack"

        await acted(
            client, tenant, "moderator", case_id, "mute", reason="everywhere now", mute_minutes=30, mute_scope="tenant"
        )
        refused = await send(far, "s5", elsewhere, "and here?")
        assert (refused["type"], refused["code"]) == ("refused", "muted")


async def test_a_suspension_closes_the_users_sockets_on_every_node(
    nodes: tuple[AppNode, AppNode], client: Client, tenant: TenantKit
) -> None:
    conversation_id, _ = await room(client, tenant, "staff", "supervisor")
    headers = await tenant.headers(client, "staff")
    near = await nodes[0].connect(headers=headers)
    far = await nodes[1].connect(headers=headers)
    bystander, _ = await socket(nodes[1], client, tenant, "supervisor")
    async with near, far, bystander:
        await next_frame(near, "hello")
        await next_frame(far, "hello")
        ack = await send(near, "x1", conversation_id, "threatening words")
        case_id = await flag(client, tenant, "supervisor", ack["message"]["id"], "violence")
        await acted(client, tenant, "moderator", case_id, "suspend", reason="threat to a colleague")
        assert await asyncio.gather(closed_with(near), closed_with(far)) == [4001, 4001]
        # Others stay connected.
        await bystander.send(json.dumps({"type": "ping"}))
        assert bystander.close_code is None
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"email": tenant.email("staff"), "password": PASSWORD, "tenant": tenant.slug}
    )
    assert login.status_code == 401
