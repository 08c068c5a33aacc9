"""Resume: replay what a client missed, then live, with no gap and no duplicate."""

from __future__ import annotations

import pytest


@pytest.fixture
async def room(ns, redis_client) -> str:
    """A conversation topic readable by ``u1`` (not ``u9``)."""
    topic = f"t:{ns}:conv:room"
    await redis_client.sadd(f"t:{ns}:test:acl:conv:room", "u1")
    return topic


async def _append(http, node, topic: str, count: int, *, publish: bool = True) -> None:
    for index in range(count):
        response = await http.post(
            f"{node.http}/test/append", json={"topic": topic, "payload": {"i": index}, "publish": publish}
        )
        assert response.status_code == 201


async def test_resume_replays_missed_events_in_order_then_confirms(connect, http, node_a, room, ns):
    await _append(http, node_a, room, 5, publish=False)
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "subscribe", "ref": "r", "topic": room, "since": 2})
    done = await client.expect(lambda f: f["type"] == "subscribed")
    assert (done["ref"], done["resume"], done["seq"]) == ("r", "recovered", 5)
    assert [f["seq"] for f in client.events(room)] == [3, 4, 5]
    assert client.frames.index(done) > max(client.frames.index(f) for f in client.events(room))


async def test_resume_under_concurrent_publishing_has_no_gap_and_no_duplicate(
    connect, http, node_a, node_b, room, ns, redis_client
):
    await _append(http, node_a, room, 30)
    await redis_client.set(f"t:{ns}:test:replay_delay_ms", 300)
    client = await connect(node_a, f"u1.{ns}.s1")
    total = 30 + 25  # at most 45 to replay: within max_replay (50) however late the snapshot is taken
    await client.send({"type": "subscribe", "ref": "r", "topic": room, "since": 10})
    # The history answers 300 ms after its snapshot; these events are committed and published meanwhile.
    await _append(http, node_b, room, 25)
    done = await client.expect(lambda f: f["type"] == "subscribed")
    assert done["resume"] == "recovered"
    await client.expect(lambda f: f["type"] == "event" and f["seq"] == total, within=10)
    assert [f["seq"] for f in client.events(room)] == list(range(11, total + 1))


async def test_resume_of_a_gap_beyond_max_replay_says_too_far(connect, http, node_a, room, ns):
    await _append(http, node_a, room, 60, publish=False)
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "subscribe", "ref": "r", "topic": room, "since": 0})
    done = await client.expect(lambda f: f["type"] == "subscribed")
    assert done["resume"] == "too_far"
    assert client.events(room) == []


async def test_too_far_topic_still_goes_live(connect, http, node_a, room, ns):
    await _append(http, node_a, room, 60, publish=False)
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "subscribe", "topic": room, "since": 0})
    await client.expect(lambda f: f["type"] == "subscribed")
    await _append(http, node_a, room, 1)
    live = await client.expect(lambda f: f["type"] == "event")
    assert live["seq"] == 61


async def test_resume_of_a_topic_the_user_may_not_read_is_forbidden(connect, http, node_a, room, ns):
    await _append(http, node_a, room, 3, publish=False)
    client = await connect(node_a, f"u9.{ns}.s1")
    await client.send({"type": "subscribe", "ref": "r", "topic": room, "since": 0})
    error = await client.expect(lambda f: f["type"] == "error")
    assert (error["code"], error["ref"]) == ("forbidden", "r")
    assert client.events(room) == []


async def test_subscribe_to_an_unknown_topic_is_not_found(connect, node_a, ns):
    client = await connect(node_a, f"u1.{ns}.s1")
    await client.send({"type": "subscribe", "ref": "r", "topic": f"t:{ns}:conv:nowhere"})
    error = await client.expect(lambda f: f["type"] == "error")
    assert (error["code"], error["ref"]) == ("not_found", "r")


async def test_resume_of_a_topic_already_live_does_not_duplicate(connect, http, node_a, room, ns, redis_client):
    await redis_client.sadd(f"t:{ns}:test:subs:u1", room)
    await _append(http, node_a, room, 3, publish=False)
    client = await connect(node_a, f"u1.{ns}.s1")
    await _append(http, node_a, room, 2)  # seq 4 and 5 arrive live before the resume
    await client.expect(lambda f: f["type"] == "event" and f["seq"] == 5)
    await client.send({"type": "subscribe", "ref": "r", "topic": room, "since": 1})
    done = await client.expect(lambda f: f["type"] == "subscribed")
    assert done["seq"] == 5
    assert sorted(f["seq"] for f in client.events(room)) == [2, 3, 4, 5]
