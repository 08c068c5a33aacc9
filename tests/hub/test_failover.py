"""Failures: a Redis restart under live sockets, a crashed node, a graceful shutdown."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest


@pytest.fixture
def lone_node(private_redis, spawn_node):
    """A node on a private Redis that the test restarts."""
    return spawn_node(private_redis.url)


@pytest.fixture
def doomed_node(redis_url, spawn_node):
    """A node on the shared Redis that the test kills or stops."""
    return spawn_node(redis_url)


async def test_redis_restart_keeps_sockets_and_asks_clients_to_resync(connect, http, lone_node, private_redis, ns):
    client = await connect(lone_node, f"u1.{ns}.s1")
    private_redis.stop()
    private_redis.start()
    resync = await client.expect(lambda f: f["type"] == "resync", within=10)
    assert resync["topics"] == [f"t:{ns}:user:u1"]
    await http.post(f"{lone_node.http}/test/publish", json={"topic": f"t:{ns}:user:u1", "payload": {"back": 1}})
    await client.expect(lambda f: f["type"] == "event" and f["event"] == {"back": 1})


async def test_presence_is_rewritten_after_redis_loses_it(connect, http, lone_node, private_redis, ns):
    client = await connect(lone_node, f"u1.{ns}.s1")
    private_redis.stop()
    private_redis.start()
    await client.expect(lambda f: f["type"] == "resync", within=10)
    async with asyncio.timeout(5):
        while True:
            state = (
                await http.get(f"{lone_node.http}/test/presence", params={"namespace": ns, "user_id": "u1"})
            ).json()
            if state["online"]:
                break
            await asyncio.sleep(0.05)


async def test_users_of_a_crashed_node_go_offline_within_presence_ttl(
    connect, http, node_a, doomed_node, ns, redis_client
):
    await connect(doomed_node, f"u1.{ns}.s1")
    doomed_node.stop(signal.SIGKILL)
    crashed_at = time.monotonic()
    async with asyncio.timeout(10):
        while True:
            state = (await http.get(f"{node_a.http}/test/presence", params={"namespace": ns, "user_id": "u1"})).json()
            if not state["online"]:
                break
            await asyncio.sleep(0.1)
    assert time.monotonic() - crashed_at <= 6 + 1  # presence_ttl_s of the test config, plus a poll


@pytest.fixture
def watched_pair(private_redis, spawn_node):
    """Two nodes alone on a private Redis: the watcher's node survives, the other one is killed."""
    return spawn_node(private_redis.url), spawn_node(private_redis.url)


async def test_a_crashed_nodes_users_are_announced_offline_to_their_topics(connect, watched_pair, ns, private_redis):
    survivor, doomed = watched_pair
    await _share_topic(private_redis, ns, "watcher", "mover")
    watcher = await connect(survivor, f"watcher.{ns}.s1")
    await connect(doomed, f"mover.{ns}.s2")
    await watcher.expect(lambda f: f["type"] == "presence" and f["user_id"] == "mover" and f["status"] == "online")
    doomed.stop(signal.SIGKILL)
    # presence_ttl_s of the test config is 6 s; the reaper runs every ttl / 3.
    offline = await watcher.expect(
        lambda f: f["type"] == "presence" and f["user_id"] == "mover" and f["status"] == "offline", within=15
    )
    assert offline["last_seen"] is not None


async def test_a_user_still_online_elsewhere_is_not_announced_offline_when_a_node_dies(
    connect, watched_pair, ns, private_redis
):
    survivor, doomed = watched_pair
    await _share_topic(private_redis, ns, "watcher", "a-stays", "z-goes")
    watcher = await connect(survivor, f"watcher.{ns}.s1")
    await connect(survivor, f"a-stays.{ns}.phone")
    await connect(doomed, f"a-stays.{ns}.laptop")
    await connect(doomed, f"z-goes.{ns}.s1")
    await watcher.expect(lambda f: f["type"] == "presence" and f["user_id"] == "z-goes" and f["status"] == "online")
    doomed.stop(signal.SIGKILL)
    # One reap announces its users in user order: "a-stays" would come before "z-goes".
    await watcher.expect(
        lambda f: f["type"] == "presence" and f["user_id"] == "z-goes" and f["status"] == "offline", within=15
    )
    assert not [
        f for f in watcher.frames if f["type"] == "presence" and f["user_id"] == "a-stays" and f["status"] == "offline"
    ]


async def test_a_node_stopped_cleanly_leaves_nothing_for_a_reaper(connect, watched_pair, ns, private_redis):
    import redis.asyncio as redis

    survivor, stopped = watched_pair
    await connect(survivor, f"u1.{ns}.s1")
    await connect(stopped, f"u2.{ns}.s1")
    client = redis.from_url(private_redis.url)
    try:
        assert await client.zcard("hub:nodes") == 2
        stopped.stop()
        assert await client.zcard("hub:nodes") == 1
        assert len(await client.keys("hub:node:*")) == 1
    finally:
        await client.aclose()


async def _share_topic(private_redis, ns: str, *users: str) -> None:
    """Subscribe ``users`` to one conversation topic through the test node's subscription hook."""
    import redis.asyncio as redis

    client = redis.from_url(private_redis.url)
    try:
        for user in users:
            await client.sadd(f"t:{ns}:test:subs:{user}", f"t:{ns}:conv:team")
    finally:
        await client.aclose()


async def test_shutdown_tells_clients_to_reconnect_and_closes_with_1012(connect, doomed_node, ns):
    client = await connect(doomed_node, f"u1.{ns}.s1")
    doomed_node.process.send_signal(signal.SIGTERM)
    reconnect = await client.expect(lambda f: f["type"] == "reconnect")
    assert reconnect["reason"] == "shutdown"
    assert await client.closed() == 1012
    doomed_node.process.wait(timeout=10)  # it exits (by re-raising SIGTERM, as uvicorn does)
