"""One message by id (where a linked reply lives) and its edit history, as the browser client reads them."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.runtime import Runtime
from tests.channels.chat import channel, say
from tests.kit import TenantKit


async def _posted(client: AsyncTestClient[Litestar], headers: dict[str, Any], room: object, **body: object) -> Any:
    response = await client.post(f"/api/v1/conversations/{room}/messages", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["message"]


async def test_a_reply_is_found_by_id_with_its_thread_root(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    admin = await tenant.headers(client, "admin")
    root = await _posted(client, admin, room, client_id="r", body="root")
    reply = await _posted(client, admin, room, client_id="x", body="a reply", thread_root_id=root["id"])
    found = await client.get(f"/api/v1/messages/{reply['id']}", headers=await tenant.headers(client, "staff"))
    assert found.status_code == 200, found.text
    assert (found.json()["body"], found.json()["thread_root_id"], found.json()["seq"]) == (
        "a reply",
        root["id"],
        reply["seq"],
    )


async def test_a_message_of_a_private_channel_is_not_found_by_an_outsider(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    admin = await tenant.headers(client, "admin")
    private = await client.post("/api/v1/conversations", json={"name": "board", "kind": "private"}, headers=admin)
    message = await _posted(client, admin, private.json()["id"], client_id="p", body="secret")
    outsider = await client.get(f"/api/v1/messages/{message['id']}", headers=await tenant.headers(client, "staff"))
    assert outsider.status_code == 404
    foreign = await client.get(f"/api/v1/messages/{message['id']}", headers=await other_tenant.headers(client, "admin"))
    assert foreign.status_code == 404


async def test_the_edit_history_lists_earlier_texts_oldest_first(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff",))
    admin = await tenant.headers(client, "admin")
    message = await _posted(client, admin, room, client_id="e", body="first")
    for body in ("second", "third"):
        edited = await client.patch(f"/api/v1/messages/{message['id']}", json={"body": body}, headers=admin)
        assert edited.status_code == 200, edited.text
    history = await client.get(f"/api/v1/messages/{message['id']}/edits", headers=await tenant.headers(client, "staff"))
    assert [e["previous_body"] for e in history.json()] == ["first", "second"]


async def test_a_hidden_message_keeps_its_earlier_texts_from_other_members(
    client: AsyncTestClient[Litestar], runtime: Runtime, tenant: TenantKit
) -> None:
    room = await channel(runtime, tenant, members=("staff", "supervisor"))
    message = await say(runtime, tenant, "staff", room, "rude words")
    staff = await tenant.headers(client, "staff")
    edited = await client.patch(f"/api/v1/messages/{message.id}", json={"body": "ruder words"}, headers=staff)
    assert edited.status_code == 200, edited.text
    flagged = await client.post(
        "/api/v1/moderation/flags",
        json={"message_id": str(message.id), "reason": "harassment"},
        headers=await tenant.headers(client, "supervisor"),
    )
    acted = await client.post(
        f"/api/v1/moderation/cases/{flagged.json()['case_id']}/actions",
        json={"kind": "hide", "reason": "insult"},
        headers=await tenant.headers(client, "moderator"),
    )
    assert acted.status_code == 201, acted.text
    supervisor = await tenant.headers(client, "supervisor")
    assert (await client.get(f"/api/v1/messages/{message.id}/edits", headers=supervisor)).json() == []
    seen = (await client.get(f"/api/v1/messages/{message.id}", headers=supervisor)).json()
    assert (seen["body"], seen["moderation"]) == ("", "hidden")
    own = await client.get(f"/api/v1/messages/{message.id}/edits", headers=staff)
    assert [e["previous_body"] for e in own.json()] == ["rude words"]
