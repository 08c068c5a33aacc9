"""Fan-out across nodes: delivery, live topic changes, tenant fencing, slow-consumer isolation."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
import websockets

from hub import HubPublisher, RedisBroker


async def _member_of(redis_client: aioredis.Redis, ns: str, user: str, topic: str) -> None:
    await redis_client.sadd(f"t:{ns}:test:subs:{user}", topic)


async def test_event_published_on_one_node_reaches_sockets_on_both(connect, http, node_a, node_b, ns, redis_client):
    topic = f"t:{ns}:conv:room"
    for user in ("u1", "u2"):
        await _member_of(redis_client, ns, user, topic)
    on_a = await connect(node_a, f"u1.{ns}.s1")
    on_b = await connect(node_b, f"u2.{ns}.s2")
    await http.post(f"{node_a.http}/test/publish", json={"topic": topic, "payload": {"text": "hi"}, "seq": 7})
    for client in (on_a, on_b):
        event = await client.expect(lambda f: f["type"] == "event")
        assert event == {"type": "event", "topic": topic, "seq": 7, "event": {"text": "hi"}}


async def test_user_topic_reaches_every_device_of_the_user(connect, http, node_a, node_b, ns):
    phone = await connect(node_a, f"u1.{ns}.phone")
    laptop = await connect(node_b, f"u1.{ns}.laptop")
    await http.post(f"{node_b.http}/test/publish", json={"topic": f"t:{ns}:user:u1", "payload": {"n": 1}})
    for device in (phone, laptop):
        await device.expect(lambda f: f["type"] == "event" and f["event"] == {"n": 1})


async def test_added_topic_goes_live_on_the_other_node(connect, http, node_a, node_b, ns):
    client = await connect(node_b, f"u1.{ns}.s1")
    topic = f"t:{ns}:conv:new"
    await http.post(f"{node_a.http}/test/add_topic", json={"namespace": ns, "user_id": "u1", "topic": topic})
    await client.expect(lambda f: f["type"] == "subscribed" and f["topic"] == topic)
    await http.post(f"{node_a.http}/test/publish", json={"topic": topic, "payload": {"x": 1}})
    await client.expect(lambda f: f["type"] == "event" and f["topic"] == topic)


async def test_removed_topic_stops_reaching_the_socket(connect, http, node_a, node_b, ns, redis_client):
    topic = f"t:{ns}:conv:old"
    await _member_of(redis_client, ns, "u1", topic)
    client = await connect(node_b, f"u1.{ns}.s1")
    await http.post(f"{node_a.http}/test/remove_topic", json={"namespace": ns, "user_id": "u1", "topic": topic})
    await client.expect(lambda f: f["type"] == "unsubscribed" and f["topic"] == topic)
    await http.post(f"{node_a.http}/test/publish", json={"topic": topic, "payload": {"late": True}})
    # A marker published after it on the same connection arrives after it would have.
    await http.post(f"{node_a.http}/test/publish", json={"topic": f"t:{ns}:user:u1", "payload": {"marker": 1}})
    await client.expect(lambda f: f["type"] == "event" and f["event"] == {"marker": 1})
    assert client.events(topic) == []


async def test_subscribing_to_another_namespace_is_forbidden(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "subscribe", "ref": "f1", "topic": "t:othertenant:conv:1"})
    error = await client.expect(lambda f: f["type"] == "error")
    assert (error["code"], error["ref"]) == ("forbidden", "f1")


async def test_forged_namespace_prefix_in_topic_is_forbidden(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "subscribe", "ref": "f2", "topic": f"t:{ns}x:conv:1"})
    error = await client.expect(lambda f: f["type"] == "error")
    assert error["code"] == "forbidden"


async def test_adding_a_foreign_namespace_topic_is_refused(http, node_a, ns):
    response = await http.post(
        f"{node_a.http}/test/add_topic", json={"namespace": ns, "user_id": "u1", "topic": "t:other:conv:1"}
    )
    assert response.status_code == 400


async def test_foreign_topic_from_subscription_provider_is_dropped(connect, node_a, ns, redis_client):
    await _member_of(redis_client, ns, "u1", "t:other:conv:1")
    client = await connect(node_a, f"u1.{ns}.s1")
    assert "t:other:conv:1" not in client.hello["topics"]


async def test_slow_consumer_is_closed_with_4008_and_others_get_every_event(
    connect, http, spawn_node, redis_url, ns, redis_client
):
    # A heartbeat timeout far beyond the run, so only the full send queue can close the silent client.
    node_a = spawn_node(redis_url, config={"heartbeat_interval_s": 30.0, "heartbeat_timeout_s": 90.0})
    topic = f"t:{ns}:conv:busy"
    for user in ("fast", "slow"):
        await _member_of(redis_client, ns, user, topic)
    fast = await connect(node_a, f"fast.{ns}.s1")
    # max_queue=1 and a tiny read buffer: this client stops reading from TCP almost at once.
    slow = await websockets.connect(
        node_a.ws, additional_headers={"Authorization": f"Bearer slow.{ns}.s2"}, max_queue=1, compression=None
    )
    await slow.recv()  # hello
    payload = {"blob": "x" * 16_000}
    total = 400
    for seq in range(1, total + 1):
        await http.post(f"{node_a.http}/test/publish", json={"topic": topic, "payload": payload, "seq": seq})
    await fast.expect(lambda f: f["type"] == "event" and f["seq"] == total, within=15)
    assert [f["seq"] for f in fast.events(topic)] == list(range(1, total + 1))
    async with asyncio.timeout(10):
        try:
            while True:
                await slow.recv()
        except websockets.ConnectionClosed:
            pass
    assert slow.close_code == 4008


class _NoListener:
    def on_message(self, channel: str, data: bytes) -> None:
        raise AssertionError("a publisher-only broker subscribes to nothing")

    def on_connection_lost(self) -> None:
        pass

    def on_connection_restored(self) -> None:
        pass


async def test_publisher_in_a_process_without_sockets_reaches_clients(connect, node_a, redis_url, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    broker = RedisBroker(url=redis_url)
    await broker.on_startup(_NoListener())
    try:
        await HubPublisher(broker=broker).publish(f"t:{ns}:user:u1", b'{"from":"worker"}', seq=None)
    finally:
        await broker.on_shutdown()
    event = await client.expect(lambda f: f["type"] == "event")
    assert event["event"] == {"from": "worker"}
