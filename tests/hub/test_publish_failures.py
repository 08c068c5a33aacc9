"""Publishes that fail after the event is stored: retried in order, or the topic resynced on every node."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import pytest
import redis.asyncio as aioredis

from tests.kit import eventually

TOPIC_LOCAL = "conv:room"
_refs = itertools.count()


@pytest.fixture
async def broker_redis(private_redis):
    """A client of the broker's own Redis (the store stays on the shared one), unpaused at the end."""
    client = aioredis.from_url(private_redis.url)
    try:
        yield client
    finally:
        await client.execute_command("CLIENT", "UNPAUSE")
        await client.aclose()


def _split_pair(spawn_node, redis_url: str, broker_url: str, give_up_s: float):
    config = {"publish_timeout_s": 0.3, "publish_give_up_s": give_up_s}
    return tuple(spawn_node(redis_url, config, broker_url=broker_url) for _ in range(2))


@pytest.fixture
def patient_pair(spawn_node, redis_url, private_redis):
    """Two nodes whose broker is a private Redis and who keep failed durable publishes for 30 s."""
    return _split_pair(spawn_node, redis_url, private_redis.url, give_up_s=30.0)


@pytest.fixture
def hasty_pair(spawn_node, redis_url, private_redis):
    """Two nodes whose broker is a private Redis and who give failed durable publishes up after 0.5 s."""
    return _split_pair(spawn_node, redis_url, private_redis.url, give_up_s=0.5)


async def _room_clients(connect, redis_client, pair, ns: str) -> tuple[str, list]:
    """One member of the room on each node, both listening to it from hello on."""
    topic = f"t:{ns}:{TOPIC_LOCAL}"
    await redis_client.sadd(f"t:{ns}:test:acl:{TOPIC_LOCAL}", "u1", "u2")
    for user in ("u1", "u2"):
        await redis_client.sadd(f"t:{ns}:test:subs:{user}", topic)
    clients = [await connect(node, f"{user}.{ns}.s1") for node, user in zip(pair, ("u1", "u2"), strict=True)]
    for client in clients:
        assert topic in client.hello["topics"]
    return topic, clients


async def _append(http, node, topic: str, count: int) -> None:
    """Store ``count`` events at once, as concurrent chat writes do; each publishes after its commit."""
    replies = await asyncio.gather(
        *(http.post(f"{node.http}/test/append", json={"topic": topic, "payload": {"n": n}}) for n in range(count))
    )
    assert all(reply.status_code == 201 for reply in replies)


def _seqs(client, topic: str) -> list[int]:
    return [frame["seq"] for frame in client.events(topic)]


async def _has_all(client, topic: str, last: int) -> None:
    """Wait until ``client`` holds every seq up to ``last``."""
    await client.expect(lambda _: set(_seqs(client, topic)) >= set(range(1, last + 1)), within=10)


async def _resume(client, topic: str) -> None:
    """What a client does on ``resync``: subscribe with ``since`` = the newest seq it holds."""
    ref = f"r{next(_refs)}"
    await client.send({"type": "subscribe", "ref": ref, "topic": topic, "since": max(_seqs(client, topic), default=0)})
    subscribed = await client.expect(lambda f: f.get("ref") == ref, within=10)
    assert subscribed["resume"] == "recovered"


async def _backlog(http, node) -> dict[str, int]:
    return (await http.get(f"{node.http}/test/backlog")).json()


async def _given_up(http, node) -> bool:
    return (await _backlog(http, node))["resyncs"] == 1


async def test_events_stored_while_the_broker_blocks_publishes_reach_both_nodes_once_after_it_recovers(
    connect, http, redis_client, broker_redis, patient_pair, ns
):
    topic, clients = await _room_clients(connect, redis_client, patient_pair, ns)
    await broker_redis.execute_command("CLIENT", "PAUSE", 30_000, "WRITE")
    # Each append returns once its publish timed out (0.3 s) and was kept for a retry.
    await _append(http, patient_pair[0], topic, 20)
    assert (await _backlog(http, patient_pair[0]))["queued"] == 20
    await broker_redis.execute_command("CLIENT", "UNPAUSE")
    await _append(http, patient_pair[0], topic, 1)
    for client in clients:
        await _has_all(client, topic, 21)
        assert sorted(_seqs(client, topic)) == list(range(1, 22))
        assert not [f for f in client.frames if f["type"] == "resync"]


async def test_a_given_up_publish_makes_every_nodes_listeners_resync_and_recover_each_event_once(
    connect, http, redis_client, broker_redis, hasty_pair, ns
):
    topic, clients = await _room_clients(connect, redis_client, hasty_pair, ns)
    await broker_redis.execute_command("CLIENT", "PAUSE", 30_000, "WRITE")
    await _append(http, hasty_pair[0], topic, 3)
    await eventually(lambda: _given_up(http, hasty_pair[0]), timeout=10)
    await broker_redis.execute_command("CLIENT", "UNPAUSE")
    for client in clients:
        resync = await client.expect(lambda f: f["type"] == "resync", within=10)
        assert resync == {"type": "resync", "reason": "publish_failed", "topics": [topic]}
        await _resume(client, topic)
    await _append(http, hasty_pair[0], topic, 1)
    for client in clients:
        await _has_all(client, topic, 4)
        assert Counter(_seqs(client, topic)) == Counter(range(1, 5))


async def test_events_stored_while_the_broker_is_down_reach_both_nodes_once_through_retry_or_resync(
    connect, http, redis_client, private_redis, patient_pair, ns
):
    topic, clients = await _room_clients(connect, redis_client, patient_pair, ns)
    private_redis.stop()
    await _append(http, patient_pair[0], topic, 5)
    private_redis.start()
    for client in clients:
        await client.expect(lambda f: f["type"] == "resync", within=15)
        await _resume(client, topic)
    await _append(http, patient_pair[0], topic, 1)
    for client in clients:
        await _has_all(client, topic, 6)
        assert Counter(_seqs(client, topic)) == Counter(range(1, 7))
