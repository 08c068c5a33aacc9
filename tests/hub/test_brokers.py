"""The other brokers: sharded pub/sub on a Redis Cluster, and the in-process one for a single node."""

from __future__ import annotations

from redis.crc import key_slot


def _users_on_each_primary(ns: str) -> list[str]:
    """Three users whose topics hash into the three slot ranges ``redis-cli --cluster create`` assigns."""
    chosen: dict[int, str] = {}
    index = 0
    while len(chosen) < 3:
        user = f"u{index}"
        chosen.setdefault(key_slot(f"t:{ns}:user:{user}".encode()) * 3 // 16384, user)
        index += 1
    return [chosen[shard] for shard in range(3)]


async def test_sharded_pubsub_carries_events_between_nodes_on_a_cluster(connect, http, spawn_node, redis_cluster, ns):
    first = spawn_node(redis_cluster, broker="redis-cluster")
    second = spawn_node(redis_cluster, broker="redis-cluster")
    users = _users_on_each_primary(ns)
    clients = [await connect(first, f"{user}.{ns}.s1") for user in users]
    clients += [await connect(second, f"{user}.{ns}.s2") for user in users]
    for user in users:
        await http.post(f"{first.http}/test/publish", json={"topic": f"t:{ns}:user:{user}", "payload": {"to": user}})
    for index, client in enumerate(clients):
        event = await client.expect(lambda f: f["type"] == "event")
        assert event["event"] == {"to": users[index % 3]}


async def test_sharded_pubsub_keeps_presence_on_the_cluster(connect, http, spawn_node, redis_cluster, ns):
    node = spawn_node(redis_cluster, broker="redis-cluster")
    await connect(node, f"u1.{ns}.s1")
    response = await http.get(f"{node.http}/test/presence", params={"namespace": ns, "user_id": "u1"})
    assert response.json()["online"] is True


async def test_memory_broker_serves_a_single_node(connect, http, spawn_node, redis_url, ns):
    node = spawn_node(redis_url, broker="memory")
    client = await connect(node, f"u1.{ns}.s1")
    await http.post(f"{node.http}/test/publish", json={"topic": f"t:{ns}:user:u1", "payload": {"solo": 1}})
    await client.expect(lambda f: f["type"] == "event" and f["event"] == {"solo": 1})
