"""A node's presence refresh (every entry written back with its expiry, on one Redis and on a Redis
Cluster, in pipelined chunks) and the reaping of a dead node's users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from hub import presence as presence_module
from hub.config import HubConfig
from hub.presence import NODES_KEY, SEEN_TTL_S, Presence

USERS = ["u1", "u2", "u3", "u4", "u5"]


@pytest.fixture(params=["single", "cluster"])
async def redis(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Any]:
    if request.param == "single":
        client: Any = Redis.from_url(redis_url)
    else:
        client = await RedisCluster.from_url(request.getfixturevalue("redis_cluster")).initialize()
    try:
        yield client
    finally:
        await client.aclose()


async def _present(redis: Any, ns: str) -> Presence:
    """A node holding one socket per user, each listening to the room; every key then lost, as after
    a Redis restart."""
    node = Presence(redis=redis, node_id=f"node-{ns}", config=HubConfig())
    for index, user in enumerate(USERS):
        await node.join(ns, user, f"c{index}")
        await node.enter_topic(f"t:{ns}:room:1", user)
    keys = [key async for key in redis.scan_iter(match=f"t:{ns}:*")] + [f"hub:node:node-{ns}:topics"]
    for key in keys:
        await redis.delete(key)
    await redis.zrem(NODES_KEY, f"node-{ns}")
    return node


async def test_a_refresh_writes_back_every_entry_a_redis_restart_lost(redis, ns, monkeypatch) -> None:
    monkeypatch.setattr(presence_module, "PIPELINE_CHUNK", 2)  # several chunks out of five users
    node = await _present(redis, ns)

    missing = await node.refresh()

    asker = Presence(redis=redis, node_id="asker", config=HubConfig())
    assert missing
    assert await asker.online_among(ns, USERS) == set(USERS)
    assert await asker.online_in_topic(f"t:{ns}:room:1") == set(USERS)
    assert len(await redis.smembers(f"hub:node:node-{ns}:topics")) == len(USERS)


async def test_a_refresh_keeps_last_seen_expiring(redis, ns) -> None:
    node = await _present(redis, ns)

    await node.refresh()

    ttls = [await redis.ttl(f"t:{ns}:presence:seen:{user}") for user in USERS]
    assert all(0 < ttl <= SEEN_TTL_S for ttl in ttls)


async def test_a_second_refresh_finds_the_node_alive(redis, ns) -> None:
    node = await _present(redis, ns)
    await node.refresh()

    assert not await node.refresh()


async def test_a_user_whose_socket_outlived_its_dead_nodes_heartbeat_is_announced_once_it_expires(
    redis_url, ns
) -> None:
    client = Redis.from_url(redis_url)
    try:
        doomed = Presence(redis=client, node_id=f"doomed-{ns}", config=HubConfig())
        reaper = Presence(redis=client, node_id=f"reaper-{ns}", config=HubConfig())
        await doomed.refresh()
        await doomed.join(ns, "late", "c1")  # opened after the node's last heartbeat: a later expiry
        await doomed.enter_topic(f"t:{ns}:room:1", "late")
        await client.zadd(NODES_KEY, {f"doomed-{ns}": 1.0})  # the node's heartbeat has run out

        first = await reaper.reap()
        await client.zadd(f"t:{ns}:presence:conns:late", {"c1": 1.0})  # and now its socket's entry too
        second = await reaper.reap()

        assert first == []
        assert [(gone.user_id, gone.topics) for gone in second] == [("late", [f"t:{ns}:room:1"])]
    finally:
        await client.aclose()
