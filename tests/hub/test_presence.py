"""Presence across devices and nodes, presence and typing frames to topic members."""

from __future__ import annotations

import asyncio
import time

from hub.config import HubConfig
from hub.presence import Presence


async def _presence(http, node, ns: str, user: str) -> dict:
    response = await http.get(f"{node.http}/test/presence", params={"namespace": ns, "user_id": user})
    return response.json()


async def _until(check, within: float = 5.0, every: float = 0.05):
    """Poll ``check`` (a Redis-backed query: there is no event to wait on) until truthy, for ``within`` s."""
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(every)


async def test_user_connected_on_one_node_is_online_when_asked_on_the_other(connect, http, node_a, node_b, ns):
    await connect(node_a, f"u1.{ns}.s1")
    state = await _presence(http, node_b, ns, "u1")
    assert (state["online"], state["status"]) == (True, "online")


async def test_user_is_offline_with_last_seen_after_the_last_device_leaves(connect, http, node_a, node_b, ns):
    phone = await connect(node_a, f"u1.{ns}.s1")
    laptop = await connect(node_b, f"u1.{ns}.s2")
    await phone.aclose()
    assert (await _presence(http, node_a, ns, "u1"))["online"] is True
    before = time.time()
    await laptop.aclose()
    state = await _until(lambda: _offline(http, node_a, ns, "u1"))
    assert state["status"] == "offline"
    assert state["last_seen"] >= before - 1


async def _offline(http, node, ns, user):
    state = await _presence(http, node, ns, user)
    return state if not state["online"] else None


async def test_coming_online_and_going_offline_reach_topic_members_on_other_nodes(
    connect, http, node_a, node_b, ns, redis_client
):
    topic = f"t:{ns}:conv:team"
    for user in ("watcher", "mover"):
        await redis_client.sadd(f"t:{ns}:test:subs:{user}", topic)
    watcher = await connect(node_a, f"watcher.{ns}.s1")
    mover = await connect(node_b, f"mover.{ns}.s2")
    await watcher.expect(lambda f: f["type"] == "presence" and f["user_id"] == "mover" and f["status"] == "online")
    await mover.aclose()
    offline = await watcher.expect(lambda f: f["type"] == "presence" and f["status"] == "offline")
    assert offline["user_id"] == "mover"
    assert offline["last_seen"] is not None


async def test_chosen_status_reaches_topic_members_and_queries(connect, http, node_a, node_b, ns, redis_client):
    topic = f"t:{ns}:conv:team"
    for user in ("watcher", "busy"):
        await redis_client.sadd(f"t:{ns}:test:subs:{user}", topic)
    watcher = await connect(node_a, f"watcher.{ns}.s1")
    busy = await connect(node_b, f"busy.{ns}.s2")
    await busy.send({"type": "status", "status": "dnd"})
    await watcher.expect(lambda f: f["type"] == "presence" and f["user_id"] == "busy" and f["status"] == "dnd")
    assert (await _presence(http, node_a, ns, "busy"))["status"] == "dnd"


async def test_online_in_topic_lists_users_from_every_node(connect, http, node_a, node_b, ns, redis_client):
    topic = f"t:{ns}:conv:team"
    for user in ("u1", "u2", "u3"):
        await redis_client.sadd(f"t:{ns}:test:subs:{user}", topic)
    await connect(node_a, f"u1.{ns}.s1")
    await connect(node_b, f"u2.{ns}.s2")
    response = await http.get(f"{node_a.http}/test/online", params={"topic": topic})
    assert response.json() == ["u1", "u2"]


async def test_typing_reaches_other_topic_members_with_its_expiry(connect, node_a, node_b, ns, redis_client):
    topic = f"t:{ns}:conv:team"
    for user in ("typist", "reader"):
        await redis_client.sadd(f"t:{ns}:test:subs:{user}", topic)
    typist = await connect(node_a, f"typist.{ns}.s1")
    reader = await connect(node_b, f"reader.{ns}.s2")
    await typist.send({"type": "typing", "topic": topic})
    notice = await reader.expect(lambda f: f["type"] == "typing")
    assert notice == {"type": "typing", "topic": topic, "user_id": "typist", "active": True, "expires_in_ms": 2000}


async def test_typing_in_a_topic_not_listened_to_is_forbidden(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "typing", "ref": "t1", "topic": f"t:{ns}:conv:elsewhere"})
    error = await client.expect(lambda f: f["type"] == "error")
    assert (error["code"], error["ref"]) == ("forbidden", "t1")


async def test_online_among_names_the_users_connected_on_any_node_in_one_query(
    connect, node_a, node_b, ns, redis_client
):
    await connect(node_a, f"u1.{ns}.s1")
    await connect(node_b, f"u2.{ns}.s2")
    asker = Presence(redis=redis_client, node_id="asker", config=HubConfig())
    assert await asker.online_among(ns, ["u1", "u2", "u3"]) == {"u1", "u2"}
    assert await asker.online_among(ns, []) == set()
