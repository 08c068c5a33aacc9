"""Chat over HTTP: conversations, posting (integrations), history, threads, reactions, search, errors."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import TenantKit

Headers = dict[str, Any]


async def _channel(client: AsyncTestClient[Litestar], headers: Headers, name: str, **extra: object) -> str:
    response = await client.post("/api/v1/conversations", json={"name": name, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_channel_is_created_joined_and_listed_with_unread_counts(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    admin, staff = await tenant.headers(client, "admin"), await tenant.headers(client, "staff")
    channel = await _channel(client, admin, "Store Visits")
    assert (await client.post(f"/api/v1/conversations/{channel}/join", headers=staff)).status_code == 200
    posted = await client.post(
        f"/api/v1/conversations/{channel}/messages", json={"client_id": "a1", "body": "visit at 9"}, headers=admin
    )
    assert posted.status_code == 201
    listed = (await client.get("/api/v1/conversations", headers=staff)).json()
    assert [(c["conversation"]["name"], c["unread"]) for c in listed] == [("store-visits", 1)]


async def test_a_retried_post_answers_200_with_the_original(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    admin = await tenant.headers(client, "admin")
    channel = await _channel(client, admin, "retries")
    body = {"client_id": "same-id", "body": "once only"}
    first = await client.post(f"/api/v1/conversations/{channel}/messages", json=body, headers=admin)
    again = await client.post(f"/api/v1/conversations/{channel}/messages", json=body, headers=admin)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"message": first.json()["message"], "duplicate": True}


async def test_history_thread_reaction_and_pin(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    admin = await tenant.headers(client, "admin")
    channel = await _channel(client, admin, "ops")
    root = (
        await client.post(
            f"/api/v1/conversations/{channel}/messages", json={"client_id": "r", "body": "root"}, headers=admin
        )
    ).json()["message"]
    await client.post(
        f"/api/v1/conversations/{channel}/messages",
        json={"client_id": "x", "body": "reply", "thread_root_id": root["id"]},
        headers=admin,
    )
    assert (await client.put(f"/api/v1/messages/{root['id']}/reactions/👍", headers=admin)).json() == {"changed": True}
    assert (await client.put(f"/api/v1/messages/{root['id']}/pin", headers=admin)).json()["pinned"] is True
    page = (await client.get(f"/api/v1/conversations/{channel}/messages", headers=admin)).json()
    assert [(m["body"], m["reply_count"]) for m in page["messages"]] == [("root", 1)]
    assert page["messages"][0]["reactions"] == [{"emoji": "👍", "count": 1, "users": [str(tenant.users["admin"])]}]
    thread = (await client.get(f"/api/v1/messages/{root['id']}/thread", headers=admin)).json()
    assert [m["body"] for m in thread["replies"]["messages"]] == ["reply"]


async def test_search_returns_highlighted_hits(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    admin = await tenant.headers(client, "admin")
    channel = await _channel(client, admin, "search-here")
    await client.post(
        f"/api/v1/conversations/{channel}/messages",
        json={"client_id": "s", "body": "planogram update for aisle 5"},
        headers=admin,
    )
    hits = (await client.get("/api/v1/search/messages", params={"q": "planogram"}, headers=admin)).json()["hits"]
    assert [(h["snippet"], h["highlights"]) for h in hits] == [("planogram update for aisle 5", [[0, 9]])]


async def test_a_non_member_reads_no_private_history(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    admin, staff = await tenant.headers(client, "admin"), await tenant.headers(client, "staff")
    private = await _channel(client, admin, "hr", kind="private")
    response = await client.get(f"/api/v1/conversations/{private}/messages", headers=staff)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_another_tenants_conversation_is_not_found(
    client: AsyncTestClient[Litestar], tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await _channel(client, await other_tenant.headers(client, "admin"), "theirs")
    mine = await tenant.headers(client, "admin")
    for method, path in (
        ("GET", f"/api/v1/conversations/{theirs}"),
        ("POST", f"/api/v1/conversations/{theirs}/join"),
        ("GET", f"/api/v1/conversations/{theirs}/messages"),
    ):
        response = await client.request(method, path, headers=mine)
        assert response.status_code == 404, (method, path)


async def test_an_oversized_message_is_refused_with_its_code(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    admin = await tenant.headers(client, "admin")
    channel = await _channel(client, admin, "long")
    response = await client.post(
        f"/api/v1/conversations/{channel}/messages", json={"client_id": "l", "body": "x" * 4001}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "message_too_long"
    page = (await client.get(f"/api/v1/conversations/{channel}/messages", headers=admin)).json()
    assert page["messages"] == []


async def test_a_second_dm_for_the_same_pair_returns_the_first(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    staff, supervisor = await tenant.headers(client, "staff"), await tenant.headers(client, "supervisor")
    first = await client.post(
        "/api/v1/conversations/direct", json={"user_id": str(tenant.users["supervisor"])}, headers=staff
    )
    second = await client.post(
        "/api/v1/conversations/direct", json={"user_id": str(tenant.users["staff"])}, headers=supervisor
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


async def test_a_moderator_deletes_anyones_message(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    admin, moderator = await tenant.headers(client, "admin"), await tenant.headers(client, "moderator")
    channel = await _channel(client, admin, "moderated")
    await client.post(f"/api/v1/conversations/{channel}/join", headers=moderator)
    message = (
        await client.post(
            f"/api/v1/conversations/{channel}/messages", json={"client_id": "m", "body": "spam"}, headers=admin
        )
    ).json()["message"]
    removed = await client.delete(f"/api/v1/messages/{message['id']}", params={"reason": "spam"}, headers=moderator)
    assert removed.status_code == 204
    page = (await client.get(f"/api/v1/conversations/{channel}/messages", headers=admin)).json()
    assert [(m["deleted"], m["body"]) for m in page["messages"]] == [(True, "")]


async def test_concurrent_posts_are_stored_with_consecutive_seqs(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    admin = await tenant.headers(client, "admin")
    channel = await _channel(client, admin, "busy-posts")
    posted = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/conversations/{channel}/messages", json={"client_id": f"p{n}", "body": f"n{n}"}, headers=admin
            )
            for n in range(8)
        )
    )
    assert [p.status_code for p in posted] == [201] * 8
    seqs = sorted(p.json()["message"]["seq"] for p in posted)
    assert seqs == list(range(seqs[0], seqs[0] + 8))
