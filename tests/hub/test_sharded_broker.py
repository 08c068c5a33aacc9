"""Sharded pub/sub under trouble: many first subscribes at once, a dropped link holding several slots,
and a primary killed and replaced by its replica."""

from __future__ import annotations

import asyncio

from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from bench.redis_cluster import LocalRedisCluster

FIRST_PRIMARY_SLOTS = 5_000
"""Below the end of the first primary's range (0-5460) as ``redis-cli --cluster create`` assigns it."""


def _users_on_the_first_primary(ns: str, count: int) -> list[str]:
    """``count`` users whose topics hash to distinct slots of one primary."""
    users: dict[int, str] = {}
    index = 0
    while len(users) < count:
        user = f"u{index}"
        slot = key_slot(f"t:{ns}:user:{user}".encode())
        if slot < FIRST_PRIMARY_SLOTS:
            users.setdefault(slot, user)
        index += 1
    return list(users.values())


async def _publish_to_each(http, node, ns: str, clients, users: list[str]) -> None:
    for user in users:
        await http.post(f"{node.http}/test/publish", json={"topic": f"t:{ns}:user:{user}", "payload": {"to": user}})
    for client, user in zip(clients, users, strict=True):
        await client.expect(lambda f, user=user: f["type"] == "event" and f["event"] == {"to": user})


async def test_sockets_connecting_at_once_all_hear_their_topics(connect, http, spawn_node, redis_cluster, ns):
    node = spawn_node(redis_cluster, broker="redis-cluster")
    users = _users_on_the_first_primary(ns, 12)
    # The first subscribes reach the primary's link while it is still connecting.
    clients = await asyncio.gather(*(connect(node, f"{user}.{ns}.s1") for user in users))
    await _publish_to_each(http, node, ns, clients, users)


async def test_a_dropped_link_resubscribes_channels_of_several_slots(connect, http, spawn_node, redis_cluster, ns):
    node = spawn_node(redis_cluster, broker="redis-cluster")
    users = _users_on_the_first_primary(ns, 3)
    clients = [await connect(node, f"{user}.{ns}.s1") for user in users]
    admin = await RedisCluster.from_url(redis_cluster).initialize()
    try:
        primary = admin.get_node_from_key(f"t:{ns}:user:{users[0]}")
        await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub", target_nodes=primary)
    finally:
        await admin.aclose()
    for client in clients:
        await client.expect(lambda f: f["type"] == "resync", within=10)
    await _publish_to_each(http, node, ns, clients, users)


async def test_a_killed_primary_is_followed_to_its_promoted_replica(
    connect, http, spawn_node, replicated_cluster: LocalRedisCluster, ns
):
    node = spawn_node(replicated_cluster.url, broker="redis-cluster")
    client = await connect(node, f"u1.{ns}.s1")
    topic = f"t:{ns}:user:u1"
    doomed = replicated_cluster.primary_of(topic)
    replicated_cluster.kill(doomed)
    await asyncio.to_thread(replicated_cluster.wait_failover, topic, old_primary=doomed)
    resync = await client.expect(lambda f: f["type"] == "resync", within=20)
    assert resync["topics"] == [topic]
    await _publish_to_each(http, node, ns, [client], ["u1"])
